"""Tests for workbench.serving.visible: the answer's frame hidden, text cut at a stop string that arrives split over
pieces, and what could start a stop string held back only until it cannot."""

from types import SimpleNamespace

from workbench.serving.visible import VisibleText


class Letters:
    """A stand-in tokenizer whose tokens are characters (the frame's text comes back as it went in)."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(char) for char in text]}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(token) for token in ids)


def visible(pieces: list[str], stops: tuple[str, ...] = (), frame: str = "") -> tuple[list[str], bool]:
    rendering = SimpleNamespace(answer_prefix=frame, opening="")
    text = VisibleText(Letters(), rendering, stops)
    shown = [text.feed(piece) for piece in pieces] + [text.finish()]
    return shown, text.stopped


def test_without_stops_every_piece_shows_at_once():
    assert visible(["Qu", "ito"]) == (["Qu", "ito", ""], False)


def test_a_stop_string_split_over_pieces_cuts_the_answer_there():
    shown, stopped = visible(["Quito ##", "# and more"], stops=("###",))
    assert "".join(shown) == "Quito " and stopped
    assert shown[0] == "Quito ", "the '##' that may start the stop string is held back"


def test_text_held_back_for_a_stop_string_that_never_comes_is_shown_at_the_end():
    shown, stopped = visible(["Quito #", "#"], stops=("###",))
    assert "".join(shown) == "Quito ##" and not stopped


def test_the_answer_frame_is_hidden_even_when_it_comes_in_pieces():
    shown, _ = visible(["fin", "alQuito"], frame="final")
    assert "".join(shown) == "Quito" and shown[0] == ""
    assert "".join(visible(["fi"], frame="final")[0]) == "fi", "a frame cut short is shown as it came"

"""What of a generated answer the caller sees: the answer's frame hidden (gpt-oss writes 'final' before its
answer), the text cut at the first stop string, and text that could still be the start of one held back until it
is known not to be.

``VisibleText`` is fed the decoded pieces of one answer as they come and gives back what may be shown now; it is
the one home of this rule for single replies and for side-by-side batches.
"""

from typing import Any

from workbench.models.rendering import Rendering


class VisibleText:
    """The visible part of one answer, fed piece by piece."""

    def __init__(self, tokenizer: Any, rendering: Rendering, stops: tuple[str, ...] = ()) -> None:
        self.prefix = _visible_prefix(tokenizer, rendering)
        self.stops = stops
        self.keep = max((len(stop) for stop in stops), default=1) - 1
        self.stopped = False  # a stop string came: nothing more is shown
        self._framing = bool(self.prefix)  # still at the start, where the frame may be
        self._held = ""

    def feed(self, piece: str) -> str:
        """The text ``piece`` lets through now ('' while it is held back, and after a stop string)."""
        if self.stopped:
            return ""
        self._held += piece
        if self._framing:
            if len(self._held) < len(self.prefix) and self.prefix.startswith(self._held):
                return ""
            self._held, self._framing = self._held.removeprefix(self.prefix), False
        return self._release(final=False)

    def finish(self) -> str:
        """What was held back, once the answer has ended."""
        if self.stopped:
            return ""
        self._framing = False
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        held = self._held
        cut = min((held.find(stop) for stop in self.stops if stop in held), default=-1)
        if cut >= 0:
            self._held, self.stopped = "", True
            return held[:cut]
        shown = len(held) if final else max(len(held) - self.keep, 0)
        self._held = held[shown:]
        return held[:shown]


def _visible_prefix(tokenizer: Any, rendering: Rendering) -> str:
    """What the answer's frame looks like once special tokens are hidden (gpt-oss: 'final'), to keep it out of the
    reply as ``Rendering.answer`` does."""
    frame = rendering.answer_prefix.removeprefix(rendering.opening)  # a frame the prompt wrote is not generated
    ids = tokenizer(frame, add_special_tokens=False)["input_ids"] if frame else []
    return tokenizer.decode(ids, skip_special_tokens=True)

"""What the model sees: one record rendered as training renders it (``workbench.models.rendering``), token by token,
each token marked as trained (the answers and their end-of-turn token) or not, and the tokens the max length cuts,
drawn as HTML for the page."""

import html
from dataclasses import dataclass
from typing import Any

from workbench.data.tokens import char_limit, rendering_of, row_chars
from workbench.errors import UserError
from workbench.models.rendering import RenderingError, encode


SHOWN_AFTER_CUT = 48


@dataclass
class Piece:
    """One token of a rendered sample: its text, whether training learns it, and whether truncation cuts it."""

    text: str
    trained: bool
    cut: bool
    special: bool = False


def what_the_model_sees(row: dict[str, Any], tokenizer: Any, max_length: int) -> list[Piece]:
    """The row's tokens as rendered for training, each marked trained or not, and cut or not; a UserError when
    the chat template refuses the row, or when the row is far too long to show token by token."""
    if row_chars(row) > char_limit(max_length):
        raise UserError(
            f"This record has {row_chars(row):,} characters, far more than {max_length} tokens hold, so it is not "
            "shown token by token; shorten it or drop it."
        )
    try:
        encoded = encode(rendering_of(tokenizer), tokenizer, row)
    except RenderingError as error:
        raise UserError(str(error)) from None
    except Exception as error:  # noqa: BLE001 - a template may raise anything; say so in words
        raise UserError(f"The model's chat template refuses this record ({str(error)[:160]}).") from None
    text, mask = encoded.text, [label != -100 for label in encoded.labels]
    special = set(tokenizer.all_special_ids)
    pieces, end = [], 0
    for index, (token, (_, stop)) in enumerate(zip(encoded.input_ids, encoded.offsets, strict=True)):
        piece_text = text[end:stop] if stop > end else ""  # a character split over several tokens shows once
        end = max(end, stop)
        cut = index >= max_length  # what is cut is never learned, answer or not
        pieces.append(Piece(piece_text, bool(mask[index]) and not cut, cut, token in special))
    return pieces


def pieces_html(pieces: list[Piece], max_length: int) -> str:
    """The rendered sample as HTML: trained tokens green, the rest grey, the cut part struck through."""
    shown = pieces[: max_length + SHOWN_AFTER_CUT]
    spans = []
    for index, piece in enumerate(shown):
        if index == max_length:
            spans.append(
                '<span style="background:#fee2e2;color:#991b1b;font-weight:bold;padding:0 4px">'
                f"&#9986; max length {max_length}: everything after this is cut</span>"
            )
        spans.append(_span(piece))
    if len(pieces) > len(shown):
        spans.append(f'<span style="color:#991b1b"> &hellip; {len(pieces) - len(shown)} more tokens cut</span>')
    return (
        '<div style="font-family:monospace;font-size:0.85rem;white-space:pre-wrap;line-height:1.9;'
        'border:1px solid #e5e7eb;border-radius:6px;padding:8px">' + "".join(spans) + "</div>"
    )


def _span(piece: Piece) -> str:
    style = "background:#bbf7d0;" if piece.trained else "background:#f1f5f9;color:#475569;"
    style += "border-right:1px solid rgba(0,0,0,0.12);"
    if piece.special:
        style += "font-weight:bold;"
    if piece.cut:
        style += "text-decoration:line-through;opacity:0.45;"
    title = "cut by the max length" if piece.cut else "trained" if piece.trained else "not trained (prompt)"
    return f'<span style="{style}" title="{title}">{html.escape(piece.text)}</span>'


LEGEND = (
    '<span style="background:#bbf7d0;padding:0 4px">trained on (the answers)</span> '
    '<span style="background:#f1f5f9;color:#475569;padding:0 4px">not trained (prompt and template)</span> '
    '<span style="text-decoration:line-through;opacity:0.45;padding:0 4px">cut by the max length</span>'
)

"""Tests for workbench.model_view: a record as the model sees it, trained tokens and the cut marked, safe HTML."""

import pytest
from tiny_tokenizers import CHATML, build_tokenizer, chat

from workbench.data import model_view


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(CHATML)


def test_what_the_model_sees_marks_the_trained_answer_and_the_cut(tokenizer):
    row = chat(1, answer_words=30)
    pieces = model_view.what_the_model_sees(row, tokenizer, max_length=20)
    assert "".join(piece.text for piece in pieces) == tokenizer.apply_chat_template(row["messages"], tokenize=False)
    whole = model_view.what_the_model_sees(row, tokenizer, max_length=4096)
    assert "".join(piece.text for piece in whole if piece.trained) == row["messages"][1]["content"] + "<|im_end|>"
    assert [piece.cut for piece in pieces] == [index >= 20 for index in range(len(pieces))]
    assert not any(piece.trained for piece in pieces[20:]), "what the max length cuts is never learned"
    assert sum(piece.trained for piece in pieces) == sum(piece.trained for piece in whole[:20]) > 0
    assert any(piece.special for piece in pieces)
    html = model_view.pieces_html(pieces, 20)
    assert "max length 20" in html and "line-through" in html


def test_rendered_html_escapes_the_records_text(tokenizer):
    row = {
        "messages": [{"role": "user", "content": "<script>alert(1)</script>"}, {"role": "assistant", "content": "ok"}]
    }
    html = model_view.pieces_html(model_view.what_the_model_sees(row, tokenizer, 512), 512)
    assert "<script" not in html and "&lt;" in html

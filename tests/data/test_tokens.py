"""Tests for workbench.data.tokens and template_checks: token lengths under the chat template, truncation counts,
template checks, and the "what the model sees" view. They use a tiny BPE tokenizer built in a second (the demo
model's recipe), so they need neither the demo model nor the network."""

import json

import pytest
from conftest import REAL_DATASETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_tokenizers import CHATML, NO_SYSTEM, WITHOUT_END, WITHOUT_MARKERS, build_tokenizer, chat

from workbench.data import model_view, template_checks, tokens
from workbench.data.validation import validate
from workbench.errors import UserError


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(CHATML)


def exact_length(tokenizer, row: dict) -> int:
    return len(tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True)["input_ids"])


@pytest.mark.parametrize(
    ("template", "codes"),
    [
        (CHATML, []),
        (WITHOUT_MARKERS, []),  # no markers needed: answers start where the template's prompt ends
        (WITHOUT_END, ["template_no_end_of_turn"]),
        (None, ["no_chat_template"]),
    ],
)
def test_template_checks(template, codes):
    tokenizer = build_tokenizer(template)
    assert [problem.code for problem in template_checks.template_problems(tokenizer)] == codes
    origin = template_checks.template_origin(tokenizer)
    assert ("up to <|im_end|>" in origin) == (not codes), "the pages say what will happen, not a wrong warning"


def test_lengths_are_exact_and_long_rows_are_counted_with_the_answer_tokens_they_lose(tokenizer):
    rows = [chat(i, answer_words=1 + (i % 7) * 20) for i in range(40)]
    stats = tokens.token_stats(rows, tokenizer, max_length=60)
    assert stats.lengths == [exact_length(tokenizer, row) for row in rows] and stats.estimated == 0
    assert stats.too_long == [i for i, row in enumerate(rows) if exact_length(tokenizer, row) > 60]
    cut = 0
    for index in stats.too_long:
        out = tokenizer.apply_chat_template(
            rows[index]["messages"], return_dict=True, return_assistant_tokens_mask=True
        )
        cut += sum(out["assistant_masks"][60:])  # the template's own markers agree with the rendering contract
    assert stats.answer_tokens_cut == cut > 0


def test_big_files_estimate_short_rows_but_count_every_long_row_exactly(tokenizer, monkeypatch):
    monkeypatch.setattr(tokens, "EXACT_ROWS", 50)
    monkeypatch.setattr(tokens, "SAMPLE_ROWS", 30)
    rows = [chat(i, answer_words=1 + (i * 37 % 11) * 9) for i in range(400)]
    stats = tokens.token_stats(rows, tokenizer, max_length=70)
    exact = [exact_length(tokenizer, row) for row in rows]
    assert stats.too_long == [i for i, length in enumerate(exact) if length > 70]
    assert 0 < stats.estimated < len(rows)
    for index, length in enumerate(exact):
        assert abs(stats.lengths[index] - length) <= max(3, length * 0.1), "estimates stay close"


def test_big_files_whose_sample_the_template_refuses_still_get_estimates(monkeypatch):
    monkeypatch.setattr(tokens, "EXACT_ROWS", 5)
    monkeypatch.setattr(tokens, "SAMPLE_ROWS", 3)
    rows = [{"messages": [{"role": "system", "content": "s"}, *chat(i)["messages"]]} for i in range(20)]
    stats = tokens.token_stats(rows, build_tokenizer(NO_SYSTEM), max_length=512)
    assert len(stats.failed) == 3 and stats.estimated == 17
    assert all(length > 0 for index, length in enumerate(stats.lengths) if index not in stats.failed)


def test_report_gets_too_long_warnings_with_lines_and_a_summary(tokenizer):
    content = (REAL_DATASETS / "openai_toy_chat_fine_tuning.jsonl").read_bytes()
    report = validate(content, "toy.jsonl", tokenizer=tokenizer, max_length=512)
    assert report.too_long == 1 and report.tokens.lengths[-1] > 5000
    long = [problem for problem in report.problems if problem.code == "too_long"]
    assert [(problem.line, problem.row) for problem in long] == [(5, 5), (None, None)]
    assert long[1].message.startswith("1 record is far longer than the max length of 512 tokens")
    assert "cut most of it" in long[1].message, "no count of cut answer tokens for a record too long to tokenise"


def test_a_template_that_refuses_a_row_makes_it_an_error_with_its_line():
    rows = [chat(i) for i in range(10)]
    rows[3] = {"messages": [{"role": "system", "content": "s"}, *chat(3)["messages"]]}
    content = "\n".join(json.dumps(row) for row in rows).encode()
    report = validate(content, "a.jsonl", tokenizer=build_tokenizer(NO_SYSTEM), max_length=512)
    assert [(problem.line, problem.code) for problem in report.errors] == [(4, "template_error")]
    assert "System role not supported" in report.errors[0].message and not report.ok


def test_templates_that_drop_tool_calls_are_named(tokenizer):
    content = (REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json").read_bytes()
    report = validate(content, "glaive.json", tokenizer=tokenizer, max_length=4096)
    [warning] = [problem for problem in report.problems if problem.code == "template_no_tools"]
    assert "tool calls of 153 records" in warning.message, "211 calls in 153 of the 300 conversations"
    assert "tool descriptions of 191 records" in warning.message, "109 of the 300 describe no tools ([])"


def test_text_rows_count_the_end_of_text_token(tokenizer):
    stats = tokens.token_stats([{"text": "hello there"}], tokenizer, max_length=512)
    assert stats.lengths == [len(tokenizer("hello there", add_special_tokens=False)["input_ids"]) + 1]


TEXTS = st.text(max_size=60)
TURN_ROLES = st.sampled_from(["system", "user", "assistant", "tool"])
ROWS = st.lists(
    st.lists(st.fixed_dictionaries({"role": TURN_ROLES, "content": TEXTS}), min_size=1, max_size=4).map(
        lambda turns: {"messages": turns}
    )
    | TEXTS.map(lambda text: {"text": text}),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, max_length=st.integers(1, 64))
def test_token_checks_never_raise(rows, max_length):
    content = "\n".join(json.dumps(row) for row in rows).encode()
    for template in (CHATML, NO_SYSTEM):
        report = validate(content, "data.jsonl", tokenizer=TOKENIZERS[template], max_length=max_length)
        assert report.tokens is None or len(report.tokens.lengths) == len(report.rows)
        for row in report.rows:
            try:
                model_view.what_the_model_sees(row, TOKENIZERS[template], max_length)
            except UserError:
                pass


TOKENIZERS = {template: build_tokenizer(template) for template in (CHATML, NO_SYSTEM)}

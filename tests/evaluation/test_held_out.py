"""Tests for workbench.evaluation.held_out: scoring a model's answers to held-out conversations."""

import pytest

from workbench.evaluation.answers import exact_match
from workbench.evaluation.held_out import score_answers
from workbench.models import demo_task
from workbench.models.rendering import rendering_for
from workbench.runs.held_out_scores import Score


@pytest.fixture(scope="module")
def base(demo_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(demo_model_dir), AutoTokenizer.from_pretrained(demo_model_dir)


def test_evaluate_exact_match_reports_score_and_examples(base):
    model, tokenizer = base
    rows = demo_task.generate_demo_rows()[1][:5]
    result = score_answers(
        model, tokenizer, rendering_for(tokenizer), rows, max_new_tokens=demo_task.DEMO_MAX_NEW_TOKENS
    )
    assert isinstance(result, Score) and result.n == 5 and len(result.examples) == 5
    for row, (prompt, expected, predicted) in zip(rows, result.examples, strict=True):
        assert prompt == row["messages"][0]["content"]
        assert expected == row["messages"][-1]["content"]
        assert isinstance(predicted, str)
    predictions = [predicted for _, _, predicted in result.examples]
    assert result.exact_match == exact_match(predictions, [expected for _, expected, _ in result.examples])


def test_evaluate_exact_match_needs_an_expected_answer(base):
    model, tokenizer = base
    with pytest.raises(ValueError, match="must end with an assistant message"):
        score_answers(
            model, tokenizer, rendering_for(tokenizer), [{"messages": [{"role": "user", "content": "hi"}]}], 4
        )

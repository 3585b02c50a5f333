"""Tests for workbench.evaluation.base_cache: the untrained model's score is kept once per model, data, template,
answer length, loading and device, and a cache that cannot be read or written only means scoring again."""

from workbench.evaluation import base_cache
from workbench.runs.held_out_scores import Score


ROWS = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]


def key(model: str, **changes) -> str:
    values = {"method": "lora", "template": "T", "rows": ROWS, "max_new_tokens": 16, "device": "CPU", **changes}
    return base_cache.cache_key(model, **values)


def test_the_key_changes_with_everything_the_answers_depend_on(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    first = key(str(model))
    assert first == key(str(model))
    assert first == key(str(model), method="full"), "only 4-bit loading changes how the base answers"
    others = [
        key(str(model), method="qlora"),
        key(str(model), template="U"),
        key(str(model), rows=ROWS * 2),
        key(str(model), max_new_tokens=8),
        key(str(model), device="NVIDIA H100"),
    ]
    assert first not in others and len(set(others)) == len(others)
    (model / "model.safetensors").write_bytes(b"new weights")
    assert key(str(model)) != first, "a changed model folder is scored again"


def test_a_kept_score_is_read_back_and_garbage_is_ignored(home):
    score = Score(exact_match=0.25, n=4, checked=4, ran_on=1, examples=(("q", "a", "b"),), f1=0.5)
    assert base_cache.cached_score("k") is None
    base_cache.keep_score("k", score)
    assert base_cache.cached_score("k") == score
    (home / "cache" / "base-scores" / "k.json").write_text("not json")
    assert base_cache.cached_score("k") is None


def test_an_unwritable_cache_is_not_an_error(home):
    (home / "cache").write_text("a file where the folder should be")
    base_cache.keep_score("k", Score(exact_match=1.0, n=1))
    assert base_cache.cached_score("k") is None

"""Answers during training: the callback answers the same held-out questions at each evaluation, and the run's
answers read back step by step."""

import json
from types import SimpleNamespace

from workbench.models.demo_task import DEMO_HELDOUT_FILE
from workbench.results import answer_tables
from workbench.runs import directory, samples
from workbench.training.callbacks import SampleAnswersCallback


def state(step):
    """The two fields of the Trainer's state the callback reads."""
    return SimpleNamespace(global_step=step, is_world_process_zero=True)


def heldout_rows(count=6):
    return [json.loads(line) for line in DEMO_HELDOUT_FILE.read_text().splitlines()[:count]]


def test_the_trained_demo_run_answers_wrong_before_training_and_right_at_the_end(trained_home):
    run = directory.get_run(trained_home.run_id)
    questions, records = samples.read_samples(run.path)
    answers = samples.by_step(records)
    assert len(questions) == samples.SAMPLE_COUNT
    assert min(answers) == 0 and len(answers) >= 3, "step 0 plus the evaluations"
    first = answer_tables.answers_at(questions, answers[0])
    last = answer_tables.answers_at(questions, answers[max(answers)])
    assert [row["match"] for row in first].count("yes") <= 1
    assert [row["match"] for row in last] == ["yes"] * samples.SAMPLE_COUNT


def test_the_callback_writes_the_questions_once_and_a_record_per_evaluation(demo_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    from workbench.models import loading

    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    callback = SampleAnswersCallback(
        tmp_path, *with_rendering(loading.load_tokenizer(str(demo_model_dir))), heldout_rows(), 8
    )
    callback.on_train_begin(None, state(0), None, model=model)
    callback.on_evaluate(None, state(10), None, model=model)
    callback.on_train_begin(None, state(10), None, model=model)  # as a resumed run does
    questions, records = samples.read_samples(tmp_path)
    assert [question["expected"] for question in questions] == [
        row["messages"][-1]["content"] for row in heldout_rows()[: samples.SAMPLE_COUNT]
    ]
    assert [record["step"] for record in records] == [0, 10]
    assert all(len(record["answers"]) == samples.SAMPLE_COUNT for record in records)


def test_half_written_and_missing_files_read_as_what_is_complete(tmp_path):
    assert samples.read_samples(tmp_path) == ([], [])
    samples.append_sample(tmp_path, {"prompts": ["Q?"], "expected": ["A"]})
    samples.append_sample(tmp_path, {"step": 0, "answers": ["B"]})
    samples.append_sample(tmp_path, {"step": 5, "answers": ["a."]})
    samples.append_sample(tmp_path, {"step": 5, "answers": ["A"]})  # evaluated twice at one step: the later wins
    with open(tmp_path / directory.SAMPLES_FILE, "a") as handle:
        handle.write('{"step": 9, "answ')
    questions, records = samples.read_samples(tmp_path)
    assert samples.by_step(records) == {0: ["B"], 5: ["A"]}
    assert answer_tables.answers_at(questions, ["a."]) == [
        {"question": "Q?", "expected": "A", "answer": "a.", "match": "yes"}
    ]


def test_a_sample_that_fails_to_generate_is_skipped_and_training_goes_on(demo_model_dir, tmp_path, capsys):
    import copy

    from transformers import AutoModelForCausalLM

    from workbench.models import loading

    tokenizer = copy.deepcopy(loading.load_tokenizer(str(demo_model_dir)))
    tokenizer.pad_token = None  # batched generation then refuses to run: a real failure inside the callback
    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    callback = SampleAnswersCallback(tmp_path, *with_rendering(tokenizer), heldout_rows(), 8)
    callback.on_train_begin(None, state(0), None, model=model)
    assert "Skipped the sample answers at step 0" in capsys.readouterr().out
    questions, records = samples.read_samples(tmp_path)
    assert len(questions) == samples.SAMPLE_COUNT and records == []


def test_with_early_stopping_the_restored_step_is_recorded(demo_model_dir, tmp_path):
    from workbench.models import loading

    callback = SampleAnswersCallback(
        tmp_path, *with_rendering(loading.load_tokenizer(str(demo_model_dir))), heldout_rows(), 8
    )
    args = SimpleNamespace(load_best_model_at_end=True)
    callback.on_train_end(args, SimpleNamespace(best_global_step=32, is_world_process_zero=True), None)
    assert samples.saved_step(tmp_path) == 32
    callback.on_train_end(SimpleNamespace(load_best_model_at_end=False), state(64), None)
    assert samples.saved_step(tmp_path) == 32, "without early stopping nothing is added"
    assert samples.saved_step(tmp_path / "elsewhere") is None


def with_rendering(tokenizer):
    from workbench.models.rendering import rendering_for

    return tokenizer, rendering_for(tokenizer)

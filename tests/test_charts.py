"""Tests for workbench.charts: the figures carry the data they are drawn from, and the reference lines."""

from workbench import charts


def test_loss_figure_has_a_training_and_a_held_out_trace():
    metrics = [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5, "eval_loss": 2.8}, {"step": 3, "loss": 2.0}]
    figure = charts.loss_figure(metrics)
    traces = {trace.name: (list(trace.x), list(trace.y)) for trace in figure.data}
    assert traces == {"training loss": ([1, 2, 3], [3.0, 2.5, 2.0]), "held-out loss": ([2], [2.8])}
    assert charts.loss_figure([]).data == ()


def test_token_length_histogram_marks_the_max_length():
    figure = charts.token_length_figure([10, 20, 30, 900], 512)
    assert list(figure.data[0].x) == [10, 20, 30, 900]
    assert figure.layout.shapes[0].x0 == 512 and "max length 512" in figure.layout.annotations[0].text


def test_memory_figure_stacks_the_parts_against_the_free_memory():
    parts = {"weights": 3.9, "training state": 0.2, "activations": 1.1, "overhead": 1.0}
    figure = charts.memory_figure(parts, available_gb=7.5)
    assert [(trace.name, trace.x[0]) for trace in figure.data] == list(parts.items())
    assert figure.layout.barmode == "stack" and figure.layout.shapes[0].x0 == 7.5
    assert charts.memory_figure(parts, None).layout.shapes == ()


def test_comparison_figure_gives_each_run_one_colour_for_both_of_its_losses():
    first = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}, {"step": 2, "eval_loss": 1.5}]
    second = [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5}]
    figure = charts.comparison_figure({"run-a": first, "run-b": second})
    names = [trace.name for trace in figure.data]
    assert names == ["run-a · training", "run-a · held-out", "run-b · training"]
    colours = [trace.line.color for trace in figure.data]
    assert colours[0] == colours[1] != colours[2]
    assert figure.data[1].line.dash == "dot"
    assert list(figure.data[2].y) == [3.0, 2.5]


def test_training_signals_include_speed_from_the_token_count_and_skip_what_was_not_logged():
    metrics = [
        {"step": 1, "time": 100.0, "num_tokens": 0, "learning_rate": 1e-4, "grad_norm": 2.0},
        {"step": 2, "time": 102.0, "num_tokens": 1000, "learning_rate": 2e-4, "grad_norm": 1.5},
        {"step": 2, "time": 102.5, "eval_loss": 1.0},
        {"step": 3, "time": 103.0, "num_tokens": 1500, "learning_rate": 2e-4, "grad_norm": 1.0},
    ]
    signals = charts.training_signals(metrics)
    assert set(signals) == {"learning_rate", "grad_norm", "tokens_per_s"}, "no accuracy was logged"
    assert signals["tokens_per_s"] == [(2, 500.0)], "the interval with the evaluation in it is left out"
    figure = charts.signal_figure(signals["grad_norm"], "gradient norm")
    assert list(figure.data[0].y) == [2.0, 1.5, 1.0] and figure.layout.title.text == "gradient norm"


def test_the_checkpoint_timeline_puts_scores_on_their_own_axis_with_the_untrained_baseline():
    metrics = [{"step": 10, "loss": 2.0}, {"step": 10, "eval_loss": 1.5}, {"step": 20, "loss": 1.0}]
    figure = charts.checkpoint_figure(metrics, {20: 0.8, 10: 0.4}, baseline=0.17, promoted=10)
    scores = next(trace for trace in figure.data if trace.yaxis == "y2")
    assert list(scores.x) == [10, 20] and list(scores.y) == [0.4, 0.8]
    baseline = next(shape for shape in figure.layout.shapes if shape.yref == "y2")
    assert baseline.y0 == baseline.y1 == 0.17
    assert any(shape.x0 == 10 for shape in figure.layout.shapes if shape.yref != "y2"), "the promoted step is marked"
    assert [trace.name for trace in charts.checkpoint_figure(metrics, {}, None, None).data] == [
        "training loss",
        "held-out loss",
    ]


def test_the_phases_chart_stacks_each_phase_in_the_order_it_happened():
    figure = charts.phases_figure({"loading the model": 1.0, "training": 7.5, "saving": 0.1})
    assert [trace.name for trace in figure.data] == ["loading the model", "training", "saving"]
    assert [trace.x[0] for trace in figure.data] == [1.0, 7.5, 0.1] and figure.layout.barmode == "stack"

"""Plotly figures built from a run's metrics (kept out of the pages so they can be tested on their own)."""

from typing import Any

import plotly.graph_objects as go


MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")


def loss_figure(metrics: list[dict[str, Any]]) -> go.Figure:
    """Training loss and, where logged, held-out (eval) loss against the step."""
    figure = go.Figure()
    for key, name in (("loss", "training loss"), ("eval_loss", "held-out loss")):
        points = [(record["step"], record[key]) for record in metrics if key in record]
        if points:
            steps, values = zip(*points, strict=True)
            figure.add_trace(
                go.Scatter(x=steps, y=values, mode="lines+markers" if len(points) < 40 else "lines", name=name)
            )
    figure.update_layout(
        xaxis_title="step",
        yaxis_title="loss",
        height=360,
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.1},
    )
    return figure


TRAINING_SIGNALS = {
    "learning_rate": "learning rate",
    "grad_norm": "gradient norm",
    "mean_token_accuracy": "answer-token accuracy",
    "tokens_per_s": "tokens per second",
}


def training_signals(metrics: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """(step, value) series of the signals beside the loss that were logged; tokens per second comes from the
    growth of TRL's ``num_tokens`` count between log lines."""
    series = {
        key: [(record["step"], record[key]) for record in metrics if isinstance(record.get(key), int | float)]
        for key in ("learning_rate", "grad_norm", "mean_token_accuracy")
    }
    series["tokens_per_s"] = _tokens_per_second(metrics)
    return {key: points for key, points in series.items() if points}


def _tokens_per_second(metrics: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """Training speed between successive training log lines; an interval with an evaluation in it (which also
    answers the sample questions and may save a checkpoint) is left out, so it does not show as a slowdown."""
    points, previous = [], None
    for record in metrics:
        if any(key.startswith("eval_") for key in record):
            previous = None
        elif "num_tokens" in record and "time" in record:
            if previous and record["time"] > previous["time"] and record["num_tokens"] >= previous["num_tokens"]:
                rate = (record["num_tokens"] - previous["num_tokens"]) / (record["time"] - previous["time"])
                points.append((record["step"], rate))
            previous = record
    return points


def signal_figure(points: list[tuple[int, float]], title: str) -> go.Figure:
    """One small line chart of a training signal against the step."""
    steps, values = zip(*points, strict=True)
    figure = go.Figure(go.Scatter(x=steps, y=values, mode="lines", line={"color": PALETTE[0]}, name=title))
    figure.update_layout(title=title, xaxis_title="step", height=240, margin=MARGIN, showlegend=False)
    return figure


def comparison_figure(curves: dict[str, list[dict[str, Any]]]) -> go.Figure:
    """Several runs' losses on one chart: training loss as a solid line, held-out loss dotted in the same colour."""
    figure = go.Figure()
    for index, (name, metrics) in enumerate(curves.items()):
        colour = PALETTE[index % len(PALETTE)]
        for key, dash, label in (("loss", "solid", "training"), ("eval_loss", "dot", "held-out")):
            points = [(record["step"], record[key]) for record in metrics if key in record]
            if points:
                steps, values = zip(*points, strict=True)
                figure.add_trace(
                    go.Scatter(
                        x=steps,
                        y=values,
                        mode="lines",
                        name=f"{name} · {label}",
                        line={"color": colour, "dash": dash},
                        legendgroup=name,
                    )
                )
    figure.update_layout(
        xaxis_title="step",
        yaxis_title="loss",
        height=420,
        margin=MARGIN,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def token_length_figure(lengths: list[int], max_length: int) -> go.Figure:
    """A histogram of token lengths per record, with the training max length drawn as a red line."""
    figure = go.Figure(go.Histogram(x=lengths, nbinsx=min(60, max(10, len(set(lengths)))), name="records"))
    figure.add_vline(
        x=max_length,
        line={"color": "#dc2626", "dash": "dash", "width": 2},
        annotation_text=f"max length {max_length}",
        annotation_position="top right",
    )
    figure.update_layout(
        xaxis_title="tokens per record (chat template applied)",
        yaxis_title="records",
        height=320,
        margin=MARGIN,
        showlegend=False,
        bargap=0.05,
    )
    return figure


MEMORY_COLOURS = {"weights": "#2563eb", "training state": "#7c3aed", "activations": "#f59e0b", "overhead": "#94a3b8"}


def _stacked_bar(parts: dict[str, float], row: str, value: str, colours: dict[str, str] | None = None) -> go.Figure:
    """One horizontal bar of ``parts`` stacked in order, each named in the legend and hovered as ``value``."""
    figure = go.Figure()
    for part, amount in parts.items():
        figure.add_trace(
            go.Bar(
                x=[amount],
                y=[row],
                orientation="h",
                name=part,
                marker_color=(colours or {}).get(part),
                hovertemplate=f"{part}: {value}<extra></extra>",
            )
        )
    return figure


def memory_figure(breakdown: dict[str, float], available_gb: float | None) -> go.Figure:
    """One stacked bar of the estimated peak memory by part, with the memory free right now drawn as a line."""
    figure = _stacked_bar(breakdown, "estimated peak", "%{x:.2f} GB", MEMORY_COLOURS)
    if available_gb is not None:
        figure.add_vline(
            x=max(available_gb, 0.0),
            line={"color": "#dc2626", "dash": "dash", "width": 2},
            annotation_text=f"free now {available_gb:.1f} GB",
            annotation_position="top",
        )
    figure.update_layout(
        barmode="stack",
        xaxis_title="GB",
        height=170,
        margin=MARGIN,
        legend={"orientation": "h", "y": -0.6},
        yaxis={"showticklabels": False},
    )
    return figure


def phases_figure(phases: dict[str, float]) -> go.Figure:
    """One stacked bar of where a run's time went (the run record's phases), in the order they happened."""
    figure = _stacked_bar(phases, "time", "%{x:.1f} s")
    legend = {"orientation": "h", "y": -0.45, "traceorder": "normal"}
    figure.update_layout(barmode="stack", height=230, margin=MARGIN, legend=legend, xaxis={"ticksuffix": " s"})
    figure.update_yaxes(showticklabels=False)
    return figure


def usage_figure(hours: dict[str, float], quota: float = 0.0) -> go.Figure:
    """Device-hours per user as horizontal bars, most first, with the per-user quota drawn when there is one."""
    ordered = sorted(hours.items(), key=lambda item: item[1])
    figure = go.Figure(
        go.Bar(
            x=[value for _, value in ordered],
            y=[name for name, _ in ordered],
            orientation="h",
            marker_color="#4f46e5",
            hovertemplate="%{y}: %{x:.2f} h<extra></extra>",
        )
    )
    if quota > 0:
        figure.add_vline(x=quota, line={"color": "#dc2626", "dash": "dash"}, annotation_text=f"quota {quota:g} h")
    figure.update_layout(xaxis_title="hours", height=120 + 28 * len(ordered), margin=MARGIN)
    return figure


def win_rate_figure(rates: list[tuple[str, float, float, float]]) -> go.Figure:
    """Win rates (model, rate, low, high; 0..1) as horizontal bars with their 95% intervals, best on top."""
    ordered = list(reversed(rates))
    figure = go.Figure(
        go.Bar(
            x=[rate for _, rate, _, _ in ordered],
            y=[model for model, _, _, _ in ordered],
            orientation="h",
            marker_color="#4f46e5",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [high - rate for _, rate, _, high in ordered],
                "arrayminus": [rate - low for _, rate, low, _ in ordered],
            },
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    figure.add_vline(x=0.5, line={"color": "#9ca3af", "dash": "dot"})
    figure.update_layout(
        xaxis={"title": "win rate (a tie counts half), with its 95% interval", "range": [0, 1], "tickformat": ".0%"},
        height=120 + 36 * len(ordered),
        margin=MARGIN,
    )
    return figure


def checkpoint_figure(
    metrics: list[dict[str, Any]], scores: dict[int, float], baseline: float | None, promoted: int | None
) -> go.Figure:
    """The loss curves with, on a second axis, a score (token F1, 0..1) of each evaluated checkpoint, the untrained
    base's score as a dashed baseline, and the promoted checkpoint's step marked."""
    figure = loss_figure(metrics)
    if scores:
        steps = sorted(scores)
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=[scores[step] for step in steps],
                mode="lines+markers",
                name="token F1 (checkpoints, final model)",
                yaxis="y2",
                marker={"size": 10, "color": PALETTE[2]},
                hovertemplate="step %{x}: F1 %{y:.0%}<extra></extra>",
            )
        )
    if baseline is not None:
        figure.add_hline(
            y=baseline,
            yref="y2",
            line={"color": "#6b7280", "dash": "dash"},
            annotation_text=f"untrained F1 {baseline:.0%}",
            annotation_position="bottom right",
        )
    if promoted is not None:
        figure.add_vline(x=promoted, line={"color": PALETTE[3], "dash": "dot"}, annotation_text="answers now")
    figure.update_layout(
        yaxis2={
            "title": "token F1",
            "overlaying": "y",
            "side": "right",
            "range": [-0.02, 1.05],
            "tickmode": "array",
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".0%",
            "showgrid": False,
        }
    )
    return figure

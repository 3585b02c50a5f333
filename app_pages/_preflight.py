"""The Train page's pre-flight panel: verdict, memory chart, time and disk, and one-click fixes."""

import streamlit as st

from app_pages import _form as form
from workbench import charts, words
from workbench.config import RunConfig
from workbench.data import sources
from workbench.errors import UserError
from workbench.jobs import backend
from workbench.models.device import Device
from workbench.planning import preflight
from workbench.training import speedups


SHOW = {"green": st.success, "amber": st.warning, "red": st.error}
ICONS = {"green": ":material/check_circle:", "amber": ":material/warning:", "red": ":material/block:"}


@st.cache_data(show_spinner="Counting tokens under the model's chat template…", max_entries=8)
def lengths(model: str, dataset: str, eval_dataset: str, stamp: tuple) -> preflight.DatasetLengths:
    """Token lengths per conversation; ``stamp`` (file sizes and times) makes a changed file count again."""
    return preflight.dataset_lengths(model, dataset, eval_dataset)


def _stamp(*datasets: str) -> tuple:
    stamps = []
    for reference in datasets:
        if reference.strip():
            stat = sources.resolve_dataset(reference).stat()
            stamps.append((reference, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def counted_lengths(config: RunConfig) -> preflight.DatasetLengths:
    """The token lengths of the run's data (cached until a file changes); a UserError when it cannot be used."""
    return lengths(config.model, config.dataset, config.eval_dataset, _stamp(config.dataset, config.eval_dataset))


def draw_preflight(config: RunConfig, device: Device) -> preflight.Preflight | None:
    """Draw the check for ``config``; returns it, or None when the check could not be made (then Start stays off:
    a run whose data or model cannot be read would only fail in the queue)."""
    try:
        result = preflight.check(config, device, counted_lengths(config))
    except UserError as error:
        st.error(f"The pre-flight check could not run, so this run cannot start: {error}", icon=":material/block:")
        return None
    SHOW[result.verdict](
        f"**{preflight.verdict_text(result)}**  \n" + "  \n".join(result.reasons), icon=ICONS[result.verdict]
    )
    if config.backend != "local":
        cluster = backend.LABELS.get(config.backend, config.backend)
        st.caption(f"Estimated on this server ({result.device_name}); on {cluster} the node it gets decides.")
    free = f"of {result.available_gb:.1f} GB free" if result.available_gb is not None else "free memory unknown"
    figures = [
        (
            "Peak memory" if config.gpus == 1 else "Peak memory per GPU",
            f"{result.peak_memory_gb:.1f} GB",
            free,
            "Weights, training state, activations and overhead"
            + (f"; each of the {config.gpus} processes holds them all (data parallel)." if config.gpus > 1 else "."),
        ),
        (
            "Time",
            words.format_duration(result.est_seconds),
            f"{result.steps:,} steps",
            f"The estimate {result.throughput_note}.",
        ),
        ("Tokens per epoch", f"{result.tokens_per_epoch:,}", f"{result.steps_per_epoch:,} steps per epoch", None),
        (
            "Disk",
            f"{result.disk_needed_gb:.1f} GB",
            f"of {result.free_disk_gb:.0f} GB free",
            "Adapter and checkpoints.",
        ),
    ]
    for column, (label, value, detail, help_text) in zip(st.columns(4), figures, strict=True):
        column.metric(label, value, detail, delta_color="off", delta_arrow="off", help=help_text)
    st.plotly_chart(charts.memory_figure(result.memory_breakdown, result.available_gb), width="stretch")
    draw_speed_recipe(result)
    for index, fix in enumerate(result.fixes):
        st.button(
            f"{fix.label}: about {fix.peak_memory_gb:.1f} GB",
            key=f"train_fix_{index}",
            icon=":material/auto_fix_high:",
            on_click=form.set_values,
            args=(fix.changes,),
        )
    return result


def draw_speed_recipe(result: preflight.Preflight) -> None:
    """The speed recipe on this device: what is used and why, each choice a setting under Advanced settings."""
    with st.expander(f"Speed recipe: {speedups.headline(list(result.speedups))}", icon=":material/speed:"):
        for choice in result.speedups:
            mark = ":material/check: " if choice.used else ":material/remove: "
            st.markdown(f"{mark}**{choice.name}**: {choice.reason}")
        st.caption("Each can be turned off or on under Advanced settings; measured by `make bench`.")

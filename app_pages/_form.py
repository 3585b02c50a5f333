"""Widgets for the Train page's settings, one per RunConfig field, drawn from the config's own labels and bounds.

The settings being edited live in ``st.session_state["train_values"]`` (a dict of RunConfig fields), not in the
widgets: Streamlit forgets the value of a widget that is not drawn (the advanced settings are hidden by default), and
a preset, a one-click fix or an imported YAML file must be able to change any field. Each widget copies its new value
into that dict when the user changes it.
"""

from collections.abc import Callable
from typing import Any

import streamlit as st

from workbench.config import GROUP_TITLES, METHOD_LABELS, FieldSpec, RunConfig, form_fields
from workbench.errors import UserError
from workbench.jobs import backend


VALUES = "train_values"


def values() -> dict[str, Any]:
    """The settings being edited (every RunConfig field)."""
    return st.session_state.setdefault(VALUES, RunConfig().to_dict())


def set_values(changes: dict[str, Any]) -> None:
    values().update(changes)


def config() -> RunConfig:
    """The settings as a RunConfig; raises UserError naming a field whose value does not fit its type."""
    return RunConfig.from_dict(values())


def load_yaml(uploader_key: str) -> None:
    """Replace every setting with those of the YAML file just uploaded; a bad file changes nothing and says why."""
    upload = st.session_state.get(uploader_key)
    if upload is not None:
        try:
            loaded = RunConfig.from_yaml(upload.getvalue().decode("utf-8", "replace")).check()  # all fields valid
            set_values(loaded.to_dict())
            st.session_state["train_preset"] = None
        except UserError as error:
            st.session_state["train_notice"] = f"{upload.name}: {error}"


def synced(key: str, current: Any, store: Callable[[Any], None]) -> dict[str, Any]:
    """Widget arguments that show ``current`` and hand a change the user makes to ``store`` (before the rerun)."""
    st.session_state[key] = current
    return {"key": key, "on_change": lambda: store(st.session_state[key])}


def draw(spec: FieldSpec, container: Any = st) -> None:
    """One widget for one field, kept in sync with ``values()``."""
    keep = synced(f"train_field_{spec.name}", values()[spec.name], lambda value: set_values({spec.name: value}))
    common = {"label": spec.label, "help": spec.help + _range(spec), **keep}
    # Numbers take no min/max here: the widget would silently put back the old value, where RunConfig.validate
    # names the field and its range and Start waits for a fix.
    if spec.kind == "bool":
        container.toggle(**common)
    elif spec.kind == "choice":
        options, labels = _choices(spec)
        container.selectbox(options=options, format_func=lambda value: labels.get(value, value), **common)
    elif spec.kind == "int":
        container.number_input(step=1, **common)
    elif spec.kind == "float":
        tiny = spec.low is not None and 0 < spec.low < 1e-3  # the learning rate: show it as 2.0e-04
        container.number_input(format="%.1e" if tiny else "%.2f", **common)
    else:
        container.text_input(**common)


def _choices(spec: FieldSpec) -> tuple[list[str], dict[str, str]]:
    """The options of a choice and their labels: where a run trains offers only the backends this server is set up
    for (and the value a loaded YAML file asked for, which Start then refuses in a sentence)."""
    if spec.name == "backend":
        offered = backend.configured()
        current = values()["backend"]
        return offered + ([current] if current not in offered else []), backend.LABELS
    return list(spec.choices), METHOD_LABELS


def _range(spec: FieldSpec) -> str:
    if spec.kind not in ("int", "float") or spec.low is None or spec.high is None:
        return ""
    return f" From {spec.low:g} to {spec.high:g}."


def draw_named(name: str, container: Any = st) -> None:
    draw(next(spec for spec in form_fields() if spec.name == name), container)


def draw_group(group: str, skip: tuple[str, ...] = ()) -> None:
    """Every field of one section of the config, three to a row, under the section's title."""
    specs = [spec for spec in form_fields(group) if spec.name not in skip]
    if not specs:
        return
    st.markdown(f"**{GROUP_TITLES[group]}**")
    for start in range(0, len(specs), 3):
        for column, spec in zip(st.columns(3), specs[start : start + 3], strict=False):
            draw(spec, column)

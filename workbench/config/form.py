"""How the Train page draws ``RunConfig``: its sections, and one ``FieldSpec`` per field (widget kind, label, help,
bounds or choices), read from the fields' metadata."""

import dataclasses
from dataclasses import dataclass
from typing import Any

from workbench.config.run_config import RunConfig


# Sections of the form; the Train page shows the "basic" ones always and the others behind an "Advanced" toggle.
GROUPS = ("basic", "adapter", "schedule", "batching", "evaluation", "other")
GROUP_TITLES = {
    "basic": "Basics",
    "adapter": "Adapter (LoRA and layer freezing)",
    "schedule": "Learning-rate schedule",
    "batching": "Batches and sequences",
    "evaluation": "Evaluation and checkpoints",
    "other": "Where it runs, GPUs, precision and reproducibility",
}


@dataclass(frozen=True)
class FieldSpec:
    """How the form shows one RunConfig field: its widget kind, label, section, help and bounds or choices."""

    name: str
    kind: str  # "int" | "float" | "bool" | "choice" | "text"
    label: str
    group: str
    help: str
    default: Any
    low: Any = None
    high: Any = None
    choices: tuple[str, ...] = ()


def form_fields(group: str | None = None) -> list[FieldSpec]:
    """Every field (or those of one section) in declaration order, as the form draws them."""
    specs = [_form_field(spec) for spec in dataclasses.fields(RunConfig)]
    return [spec for spec in specs if group is None or spec.group == group]


def _form_field(spec: dataclasses.Field) -> FieldSpec:
    meta = spec.metadata
    kind = (
        "choice" if meta.get("choices") else {bool: "bool", int: "int", float: "float"}.get(type(spec.default), "text")
    )
    return FieldSpec(
        spec.name,
        kind,
        meta["label"],
        meta["group"],
        meta["help"],
        spec.default,
        meta.get("min"),
        meta.get("max"),
        tuple(meta.get("choices", ())),
    )


def field_help(name: str) -> str:
    """The help text of one RunConfig field, for form tooltips."""
    spec = next(spec for spec in dataclasses.fields(RunConfig) if spec.name == name)
    return spec.metadata["help"]

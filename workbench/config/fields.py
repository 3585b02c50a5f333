"""Declaring a ``RunConfig`` field with its label, form section, help text and bounds, and checking a value
against them.

The metadata written by ``setting`` is the single source of each field's wording and limits: the form
(``workbench.config.form``), the validation and the YAML loader all read it.
"""

import dataclasses
from typing import Any

from workbench.errors import UserError


def setting(default: Any, label: str, group: str, help: str, **bounds: Any) -> Any:
    """A dataclass field carrying its label, form section (``group``), help text and ``min``/``max``/``choices``."""
    return dataclasses.field(default=default, metadata={"label": label, "group": group, "help": help, **bounds})


def label_of(spec: dataclasses.Field) -> str:
    """The field as the form shows it, with its YAML key for people who edit config files."""
    return f"{spec.metadata['label']} ({spec.name})"


def check_value(spec: dataclasses.Field, value: Any) -> list[str]:
    """One sentence when ``value`` is outside the field's choices or bounds; an empty list when it is fine."""
    label = label_of(spec)
    choices = spec.metadata.get("choices")
    if choices and value not in choices:
        return [f"{label}: '{value}' is not one of {', '.join(choices)}."]
    low, high = spec.metadata.get("min"), spec.metadata.get("max")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if low is not None and is_number and not low <= value <= high:
        return [f"{label}: {value} is outside the allowed range {low} to {high}."]
    return []


def coerce(spec: dataclasses.Field, value: Any) -> Any:
    """Turn a YAML or form value into the field's type, or raise a UserError naming the field."""
    kind = type(spec.default)
    if value is None:
        return spec.default
    try:
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{label_of(spec)}: '{value}' is not a valid {kind.__name__}.") from None

"""The run configuration: the typed ``RunConfig`` and how its fields are declared, checked and drawn.

Bottom layer: imports only ``workbench.errors``. The names below are the package's public face; import them from
here (``from workbench.config import RunConfig``).
"""

from workbench.config.form import GROUP_TITLES, GROUPS, FieldSpec, field_help, form_fields
from workbench.config.run_config import (
    DEMO_DATASET,
    DEMO_MODEL,
    METHOD_LABELS,
    METHODS,
    PRECISIONS,
    SCHEDULERS,
    RunConfig,
)


__all__ = [
    "DEMO_DATASET",
    "DEMO_MODEL",
    "GROUPS",
    "GROUP_TITLES",
    "METHODS",
    "METHOD_LABELS",
    "PRECISIONS",
    "SCHEDULERS",
    "FieldSpec",
    "RunConfig",
    "field_help",
    "form_fields",
]

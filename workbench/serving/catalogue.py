"""What the model server can answer with: every finished run's trained model (named by its run id), the base
model each of them was trained from (named as the run config names it), and the built-in demo model always."""

from dataclasses import dataclass

from workbench.config import DEMO_MODEL
from workbench.errors import UserError
from workbench.runs import directory
from workbench.runs.directory import Run


@dataclass(frozen=True)
class Served:
    """One model the API lists: ``run`` is None for a base model; ``base`` is the model the run was trained from."""

    id: str
    base: str
    run: Run | None
    owner: str
    created: int

    @property
    def adapter(self) -> str | None:
        """The adapter's name in the loaded base (the run id), or None for the base itself and for a full
        fine-tune, which is a model of its own."""
        return self.run.run_id if self.run is not None and self.run.is_adapter else None


def served_models() -> list[Served]:
    """The base models first (each once), then the finished runs, newest first."""
    runs = [run for run in directory.list_runs() if run.has_output]
    bases: dict[str, Served] = {DEMO_MODEL: Served(DEMO_MODEL, DEMO_MODEL, None, "", 0)}
    for run in reversed(runs):  # oldest first, so a base counts as created with the first run that used it
        bases.setdefault(run.config.model, Served(run.config.model, run.config.model, None, "", _created(run)))
    tuned = [
        Served(run.run_id, run.config.model, run, directory.read_status(run.path).owner, _created(run)) for run in runs
    ]
    return list(bases.values()) + tuned


def find(model_id: str) -> Served:
    """The served model called ``model_id``, or a UserError that says where the names are listed."""
    for served in served_models():
        if served.id == model_id:
            return served
    raise UserError(
        f"There is no finished run or base model called '{model_id}'; GET /v1/models lists the names you can use."
    )


def _created(run: Run) -> int:
    try:
        return int(run.path.stat().st_mtime)
    except OSError:
        return 0

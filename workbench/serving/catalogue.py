"""What the model server can answer with: every finished run's trained model (named by its run id), the base
model each of them was trained from (named as the run config names it), and the built-in demo model always.

Asked for by a user (through their API token in team mode), the list holds only the runs they may see, and the
bases of those runs; asked for with the server's own key (the web app), every run."""

from dataclasses import dataclass

from workbench.config import DEMO_MODEL
from workbench.errors import UserError
from workbench.runs import directory
from workbench.runs.directory import Run
from workbench.team import access
from workbench.team.identity import Actor


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


def served_models(actor: Actor | None = None) -> list[Served]:
    """The base models first (each once), then the finished runs, newest first; with ``actor``, only theirs to see."""
    runs = [run for run in directory.list_runs() if run.has_output]
    owners = {run.run_id: directory.read_status(run.path).owner for run in runs}
    if actor is not None:
        runs = [run for run in runs if access.may_see(actor, owners[run.run_id], "run", run.run_id)]
    bases: dict[str, Served] = {DEMO_MODEL: Served(DEMO_MODEL, DEMO_MODEL, None, "", 0)}
    for run in reversed(runs):  # oldest first, so a base counts as created with the first run that used it
        bases.setdefault(run.config.model, Served(run.config.model, run.config.model, None, "", _created(run)))
    tuned = [Served(run.run_id, run.config.model, run, owners[run.run_id], _created(run)) for run in runs]
    return list(bases.values()) + tuned


def find(model_id: str, actor: Actor | None = None) -> Served:
    """The served model called ``model_id`` (among those ``actor`` may use), or a UserError that says where the
    names are listed."""
    for served in served_models(actor):
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

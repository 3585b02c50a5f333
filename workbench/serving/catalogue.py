"""What the model server can answer with: every finished run's trained model (named by its run id), the base
model each of them was trained from (named as the run config names it), and the built-in demo model always. A
run's saved checkpoints answer too, named ``RUN_ID@checkpoint-STEP``; they are not listed, so that the list stays
short, but the Runs page and ``workbench eval --checkpoint`` name them.

Asked for by a user (through their API token in team mode), the list holds only the runs they may see, and the
bases of those runs; asked for with the server's own key (the web app), every run."""

from dataclasses import dataclass
from pathlib import Path

from workbench.config import DEMO_MODEL
from workbench.errors import UserError
from workbench.runs import checkpoints, directory
from workbench.runs.directory import Run
from workbench.team import access
from workbench.team.identity import Actor


CHECKPOINT_MARK = "@checkpoint-"


@dataclass(frozen=True)
class Served:
    """One model the API answers with: ``run`` is None for a base model; ``base`` is the model the run was trained
    from; ``checkpoint`` is the step of one of the run's checkpoints, None for the run's model itself."""

    id: str
    base: str
    run: Run | None
    owner: str
    created: int
    checkpoint: int | None = None

    @property
    def folder(self) -> Path | None:
        """Where the weights are: the run's adapter folder, or the checkpoint's folder."""
        if self.run is None:
            return None
        if self.checkpoint is None:
            return self.run.adapter_dir
        return self.run.path / directory.CHECKPOINTS_DIR / f"checkpoint-{self.checkpoint}"

    @property
    def version(self) -> str | None:
        """A name for these exact weights, so a loaded copy is never used for other ones: a promoted run answers
        with its checkpoint's weights, so it shares that checkpoint's name; None for a base model."""
        if self.run is None:
            return None
        step = self.checkpoint if self.checkpoint is not None else checkpoints.promoted_step(self.run.path)
        return self.run.run_id if step is None else f"{self.run.run_id}{CHECKPOINT_MARK}{step}"

    @property
    def adapter(self) -> str | None:
        """The adapter's name in the loaded base, or None for the base itself and for a full fine-tune, which is
        a model of its own."""
        return self.version if self.run is not None and self.run.is_adapter else None


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
    run_id, mark, step = model_id.partition(CHECKPOINT_MARK)
    for served in served_models(actor):
        if served.id == model_id:
            return served
        if mark and served.id == run_id and step.isdigit() and served.run is not None:
            return _checkpoint(served, int(step))
    raise UserError(
        f"There is no finished run or base model called '{model_id}'; GET /v1/models lists the names you can use."
    )


def _checkpoint(served: Served, step: int) -> Served:
    if checkpoints.saved_model(served.run.path, step) is None:
        raise UserError(
            f"The run {served.id} has no saved checkpoint at step {step}; the Runs page lists the ones it kept."
        )
    return Served(f"{served.id}{CHECKPOINT_MARK}{step}", served.base, served.run, served.owner, served.created, step)


def _created(run: Run) -> int:
    try:
        return int(run.path.stat().st_mtime)
    except OSError:
        return 0

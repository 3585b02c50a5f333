"""Pre-flight: before Start, will this run fit, how long will it take, and what to change if it will not fit.

Everything here is arithmetic on the model's ``config.json`` (no weights are loaded), the token length of every
training conversation, and the device. The numbers are estimates meant to tell "fits easily" from "will run out of
memory", not to the last gigabyte. ``estimate`` returns a green/amber/red verdict with plain-language reasons and
one-click fixes (RunConfig changes) that each lower the estimated memory.

``check`` gathers what ``estimate`` needs for a RunConfig (the model's shape, the token length of every training and
evaluation conversation under the model's chat template, the free disk of the data folder); ``dataset_lengths`` is
the slow part, so the Train page caches it.
"""

from dataclasses import dataclass, field, replace

from workbench import paths, schedule
from workbench.config import DEMO_DATASET, DEMO_MODEL, RunConfig
from workbench.data import sources, template_checks, tokens
from workbench.errors import DISK_FULL_FIX
from workbench.jobs import queue
from workbench.models.device import Device
from workbench.planning import recipe
from workbench.planning.fixes import AMBER_MEMORY_FRACTION, Fix, offer_fixes
from workbench.planning.memory import (
    available_memory_gb,
    disk_needed_gb,
    free_disk_gb,
    memory_breakdown,
    peak_memory_gb,
    peak_seq_len,
)
from workbench.planning.model_facts import ModelFacts, batch_shape, model_facts, trainable_params
from workbench.planning.timing import estimate_seconds, generation_seconds, throughput_note, workload
from workbench.training.speedups import Speedup, speedups
from workbench.words import format_duration, plural


VERY_LONG_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DatasetLengths:
    """Token lengths of a run's training rows, and of its evaluation rows when they come from another file."""

    train: list[int]
    evaluation: list[int] | None
    answers: list[int] = field(default_factory=list)  # tokens of the held-out reference answers (a sample)


def dataset_lengths(model: str, dataset: str, eval_dataset: str = "") -> DatasetLengths:
    """Token lengths of every conversation under ``model``'s chat template; a UserError when either is unusable."""
    tokenizer = tokens.tokenizer_for(model)
    rows = sources.load_rows(dataset)
    train = tokens.token_stats(rows, tokenizer, 1 << 30).lengths
    held_out = sources.eval_rows_for(dataset, eval_dataset)
    evaluation = tokens.token_stats(held_out, tokenizer, 1 << 30).lengths if held_out else None
    return DatasetLengths(train, evaluation, tokens.answer_lengths(held_out or rows, tokenizer))


def data_shape(lengths: DatasetLengths, facts: ModelFacts) -> recipe.DataShape:
    """What the recipe rules read of the data and the model."""
    return recipe.DataShape(lengths.train, lengths.answers, facts.position_embeddings, facts.n_params)


def check(config: RunConfig, device: Device, lengths: DatasetLengths | None = None) -> "Preflight":
    """The pre-flight verdict for ``config`` on ``device``, reading the model, data, disk and queue as they are now.

    On a GPU, memory that this workbench's running jobs hold counts as free (up to the GPU's size): a run that does not
    fit beside them waits in the queue until they end, then has that memory (see ``workbench.jobs.runner``).
    """
    lengths = lengths or dataset_lengths(config.model, config.dataset, config.eval_dataset)
    facts = model_facts(config.model)
    running, held_gb = queue.running_estimate_gb() if device.cuda else (0, 0.0)
    if held_gb and device.free_gb is not None:
        device = replace(device, free_gb=min(device.free_gb + held_gb, device.total_gb or float("inf")))
    disk = free_disk_gb(paths.runs_dir())
    result = estimate(config, facts, lengths.train, device, disk, 0.0, lengths.evaluation, lengths.answers)
    if origin := template_checks.template_origin(tokens.tokenizer_for(config.model)):
        result.reasons.append(origin)
    if held_gb:
        result.reasons.insert(
            1,
            f"Runs of this workbench ({plural(running, 'run')}) hold about {held_gb:.1f} GB of the GPU now; that "
            "memory counts as free here, since this run waits in the queue until it fits.",
        )
    return result


@dataclass
class Preflight:
    """The pre-flight verdict for one run configuration on one device."""

    verdict: str  # "green" | "amber" | "red"
    reasons: list[str]
    fixes: list[Fix]
    peak_memory_gb: float
    available_gb: float | None
    memory_breakdown: dict[str, float]
    tokens_per_epoch: int
    plan: schedule.Plan  # held-out rows, steps and cadence, as the trainer will use them
    est_seconds: float
    answering_seconds: float  # of est_seconds: writing answers for the held-out scores and the samples
    disk_needed_gb: float
    free_disk_gb: float
    device_name: str
    trainable_params: int
    throughput_note: str = ""
    blocked: str = ""  # a reason no "start anyway" can override (the checkpoints would not fit on the disk)
    speedups: tuple[Speedup, ...] = ()  # the speed recipe on this device, each choice with its reason

    @property
    def steps(self) -> int:
        return self.plan.total_steps

    @property
    def steps_per_epoch(self) -> int:
        return self.plan.steps_per_epoch


# ---------------------------------------------------------------- the estimate


def estimate(
    config: RunConfig,
    facts: ModelFacts,
    token_lengths: list[int],
    device: Device,
    free_disk_gb: float,
    other_jobs_gb: float = 0.0,
    eval_token_lengths: list[int] | None = None,
    answer_lengths: list[int] | None = None,
) -> Preflight:
    """Memory, tokens, steps, time and disk for ``config`` on ``device``, with a verdict, reasons and fixes.

    ``token_lengths`` holds the token count of every training conversation (chat template applied);
    ``eval_token_lengths`` those of a separate evaluation file, when there is one; ``answer_lengths`` the tokens of
    the held-out reference answers; ``other_jobs_gb`` is GPU memory set aside for jobs that are queued on the same
    GPU but have not allocated it yet. The recipe is judged by ``workbench.planning.recipe``.
    """
    work = workload(config, token_lengths, eval_token_lengths)
    breakdown = memory_breakdown(config, facts, peak_seq_len(config, token_lengths), device.cuda)
    available = available_memory_gb(device, other_jobs_gb)
    result = Preflight(
        verdict="green",
        reasons=[],
        fixes=[],
        peak_memory_gb=round(sum(breakdown.values()), 2),
        available_gb=available,
        memory_breakdown=breakdown,
        tokens_per_epoch=work.tokens_per_epoch,
        plan=work.plan,
        est_seconds=round(estimate_seconds(config, facts, device, work), 1),
        answering_seconds=round(generation_seconds(config, facts, device, work), 1),
        disk_needed_gb=disk_needed_gb(config, facts, work.plan, device.cuda),
        free_disk_gb=round(free_disk_gb, 2),
        device_name=device.name,
        trainable_params=trainable_params(config, facts),
        throughput_note=throughput_note(config, device),
        speedups=tuple(speedups(config, device.cuda, batch_shape(config, facts, token_lengths))),
    )
    _judge(result, device, other_jobs_gb)
    if available is not None and _memory_level(result.peak_memory_gb, available) != "green":
        result.fixes = offer_fixes(config, facts, token_lengths, device.cuda, available)
    shape = recipe.DataShape(token_lengths, answer_lengths or [], facts.position_embeddings, facts.n_params)
    _judge_recipe(result, config, shape, facts, device)
    return result


def _memory_level(memory: float, available: float | None) -> str:
    if available is None:
        return "amber"
    if memory > available:
        return "red"
    return "amber" if memory > AMBER_MEMORY_FRACTION * available else "green"


def _judge(result: Preflight, device: Device, other_jobs_gb: float) -> None:
    """Fill in the verdict and the plain-language reasons about memory, disk and time."""
    levels = [_memory_level(result.peak_memory_gb, result.available_gb)]
    result.reasons.append(_memory_sentence(result, device, other_jobs_gb))
    if result.disk_needed_gb > result.free_disk_gb:
        levels.append("red")
        result.blocked = (
            f"The adapter and checkpoints need about {result.disk_needed_gb:.1f} GB of disk, but only "
            f"{result.free_disk_gb:.1f} GB are free; {DISK_FULL_FIX} first."
        )
        result.reasons.append(result.blocked)
    result.reasons.append(_time_sentence(result))
    if result.est_seconds > VERY_LONG_SECONDS:
        levels.append("amber")
        result.reasons.append(
            "That is more than a day; the Quick pilot preset or fewer epochs give a first result much sooner."
        )
    result.verdict = _worst(levels)


def _judge_recipe(result: Preflight, config: RunConfig, shape: recipe.DataShape, facts: ModelFacts, device: Device):
    """Add what the recipe gets wrong for this data (``workbench.planning.recipe``), each with its one-click fix."""
    findings = recipe.judge(config, shape, result.plan)
    result.reasons += [finding.sentence for finding in findings]
    if config.model.strip() == DEMO_MODEL and config.dataset.strip() != DEMO_DATASET:
        result.reasons.append(DEMO_ON_OWN_DATA)
    for fix in (finding.fix for finding in findings if finding.fix):
        fixed = replace(config, **fix.changes)
        result.fixes.append(replace(fix, peak_memory_gb=peak_memory_gb(fixed, facts, shape.lengths, device.cuda)))
    result.verdict = _worst([result.verdict, *(finding.level for finding in findings)])


DEMO_ON_OWN_DATA = (
    "The built-in demo model is a toy of 0.18 million parameters that knows only made-up sentences about cities: on "
    "your data its held-out loss falls, but its answers will not read like your references. For a real pilot, pick "
    "a local model folder (Qwen2.5-0.5B-Instruct or larger) under Model."
)


def _worst(levels: list[str]) -> str:
    return "red" if "red" in levels else "amber" if "amber" in levels else "green"


def _memory_sentence(result: Preflight, device: Device, other_jobs_gb: float) -> str:
    place = "GPU memory" if device.cuda else "memory (RAM)"
    need, have = result.peak_memory_gb, result.available_gb
    if have is None:
        return f"Training needs about {need:.1f} GB of {place}; how much is free could not be read, so check it."
    reserved = f" ({other_jobs_gb:.1f} GB are kept for jobs queued before this one)" if other_jobs_gb > 0 else ""
    if need > have:
        total = device.total_gb
        whole = f" The whole device has {total:.1f} GB." if total is not None and need > total else ""
        return (
            f"Training needs about {need:.1f} GB of {place}, but only {max(have, 0):.1f} GB are free on the "
            f"{device.name}{reserved}; it would stop with an out-of-memory error.{whole}"
        )
    share = need / have if have > 0 else 1.0
    if share > AMBER_MEMORY_FRACTION:
        return (
            f"Tight fit: training needs about {need:.1f} GB of the {have:.1f} GB of {place} free on the "
            f"{device.name} ({share:.0%}){reserved}; a little more use by anyone else would make it fail."
        )
    return (
        f"Fits: training needs about {need:.1f} GB of the {have:.1f} GB of {place} free on the "
        f"{device.name}{reserved}."
    )


def _time_sentence(result: Preflight) -> str:
    answering = ""
    if result.answering_seconds >= max(60.0, 0.2 * result.est_seconds):
        answering = (
            f"; about {format_duration(result.answering_seconds)} of it is writing answers for the held-out scores "
            "(a shorter answer length for scoring saves most of it)"
        )
    return (
        f"Estimated time: about {format_duration(result.est_seconds)} for {result.steps:,} steps "
        f"({result.tokens_per_epoch:,} tokens per epoch){answering}."
    )


# ---------------------------------------------------------------- text


VERDICT_TEXT = {
    "green": "Ready to start.",
    "amber": "It should run, but read the notes below.",
    "red": "This run would fail as it is; apply a fix below or change the settings.",
}


def verdict_text(preflight: Preflight) -> str:
    """The verdict in one sentence; a red one points at the fixes only when there are some."""
    if preflight.blocked:
        return "This run cannot start: there is not enough free disk for its checkpoints."
    if preflight.verdict == "red" and not preflight.fixes:
        return "This run would fail as it is; change what the notes below name."
    return VERDICT_TEXT[preflight.verdict]


def format_summary(preflight: Preflight) -> str:
    """A short plain-text report of the pre-flight check, one fact per line."""
    memory = f"Memory: about {preflight.peak_memory_gb:.1f} GB needed"
    if preflight.available_gb is not None:
        memory += f", {preflight.available_gb:.1f} GB free"
    lines = [
        f"Verdict: {preflight.verdict.upper()}. {verdict_text(preflight)}",
        memory + ".",
        _time_line(preflight),
        f"Disk: about {preflight.disk_needed_gb:.1f} GB needed, {preflight.free_disk_gb:.1f} GB free.",
        *(f"- {reason}" for reason in preflight.reasons),
    ]
    if preflight.throughput_note:
        lines.append(f"The time estimate {preflight.throughput_note}.")
    if preflight.fixes:
        lines.append("Fixes:")
        lines += [f"- {fix.label}: about {fix.peak_memory_gb:.1f} GB" for fix in preflight.fixes]
    return "\n".join(lines)


def _time_line(preflight: Preflight) -> str:
    duration = format_duration(preflight.est_seconds)
    return f"Time: about {duration} ({preflight.steps:,} steps, {preflight.tokens_per_epoch:,} tokens per epoch)."

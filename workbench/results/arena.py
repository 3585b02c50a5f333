"""A blind arena: reviewers see two to four anonymised answers to the same prompt (the base's and runs' saved
evaluation answers, in an order shuffled per prompt and reviewer), pick the best or call a tie, and may write a better
answer; which model gave which answer is told only after the vote.

Votes are kept once per prompt and reviewer in ``arena.sqlite``. They give win rates with 95% Wilson intervals per
model (and per reviewer), and preference pairs in the conversational layout TRL's ``DPOTrainer`` reads (``prompt``,
``chosen``, ``rejected``); a better answer written by a reviewer is the chosen one against every shown answer.
"""

import json
import math
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workbench import database, paths
from workbench.errors import UserError
from workbench.jobs import control
from workbench.results import evaluate
from workbench.runs import directory
from workbench.serving.catalogue import CHECKPOINT_MARK
from workbench.team import access
from workbench.team.identity import Actor


TIE = "tie"
BASE_PREFIX = "base: "  # the base model's name in the arena: "base: MODEL"
LABELS = "ABCD"
SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    prompt_key TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    prompt TEXT NOT NULL,        -- JSON: the messages asked
    answers TEXT NOT NULL,       -- JSON: {model: answer} of the answers shown
    chosen TEXT NOT NULL,        -- a model of answers, or 'tie'
    better TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    UNIQUE (prompt_key, reviewer)
)
"""


@dataclass(frozen=True)
class Matchup:
    """One prompt and its answers in the order shown: ``shown[i]`` is (model, answer) behind label ``LABELS[i]``."""

    key: str
    prompt: list[dict[str, str]]
    question: str
    shown: list[tuple[str, str]]

    def labelled(self) -> dict[str, tuple[str, str]]:
        """'Answer A' -> (model, answer), in the order shown."""
        return {f"Answer {label}": item for label, item in zip(LABELS, self.shown, strict=False)}

    def reveal(self) -> str:
        """'On "QUESTION": Answer A was base: demo; Answer B was RUN', said only after the vote."""
        question = self.question if len(self.question) <= 80 else self.question[:77] + "..."
        owners = "; ".join(f"{label} was {model}" for label, (model, _) in self.labelled().items())
        return f'On "{question}": {owners}.'


@dataclass(frozen=True)
class Standing:
    """A model's record over the votes it was in: a tie counts half a win."""

    model: str
    votes: int
    wins: int
    ties: int
    rate: float
    low: float
    high: float


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    with database.connect(paths.home_path() / "arena.sqlite", SCHEMA, "the arena's votes") as db:
        yield db


def contenders(run_ids: list[str], actor: Actor | None = None) -> dict[str, dict[str, dict]]:
    """Each contending model's saved answers by question: the base (from the first run's evaluation) and each run
    (or checkpoint, ``RUN_ID@checkpoint-STEP``). Every run must be one ``actor`` may see, evaluated, and on the same
    base."""
    if not 1 <= len(run_ids) <= len(LABELS) - 1:
        raise UserError(f"Pick one to {len(LABELS) - 1} evaluated runs for the arena.")
    answers: dict[str, dict[str, dict]] = {}
    for contender in run_ids:
        run_id, _, step = contender.partition(CHECKPOINT_MARK)
        control.check_see_run(actor, run_id)
        run = directory.get_run(run_id)
        saved = evaluate.read_evaluation(run, int(step) if step.isdigit() else None)
        if saved is None:
            raise UserError(f"{contender} has not been evaluated yet; evaluate it on the Runs page first.")
        rows = {row["question"]: row for row in saved.examples if row.get("prompt")}
        if not rows:
            raise UserError(f"The run {run_id} was evaluated before the arena existed; evaluate it again.")
        base = f"{BASE_PREFIX}{run.config.model}"
        if answers and base not in answers:
            raise UserError(f"The run {run_id} has another base model; the arena compares runs of one base.")
        answers.setdefault(base, {question: {**row, "answer": row["base"]} for question, row in rows.items()})
        answers[contender] = {question: {**row, "answer": row["tuned"]} for question, row in rows.items()}
    return answers


def evaluated_models(actor: Actor) -> list[str]:
    """What can enter the arena for ``actor``: each visible run with a saved evaluation of its final model, and
    each of its checkpoints with one (``RUN_ID@checkpoint-STEP``)."""
    found = []
    for run in control.visible_runs(actor):
        if evaluate.read_evaluation(run) is not None:
            found.append(run.run_id)
        found += [f"{run.run_id}{CHECKPOINT_MARK}{step}" for step in evaluate.checkpoint_evaluations(run)]
    return found


def matchups(run_ids: list[str], actor: Actor | None = None) -> list[Matchup]:
    """Every prompt all the contenders answered, each with its answers shuffled for ``actor``."""
    reviewer = access.acting(actor).name
    answers = contenders(run_ids, actor)
    shared = set.intersection(*(set(by_question) for by_question in answers.values()))
    found = []
    for question in sorted(shared):
        first = next(iter(answers.values()))[question]
        key = f"{'|'.join(sorted(answers))}|{question}"
        shown = [(model, by_question[question]["answer"]) for model, by_question in answers.items()]
        random.Random(f"{key}|{reviewer}").shuffle(shown)
        found.append(Matchup(key, first["prompt"], question, shown))
    return found


def next_matchup(run_ids: list[str], actor: Actor | None = None) -> Matchup | None:
    """The first prompt ``actor`` has not voted on yet, or None when they have voted on every one."""
    reviewer = access.acting(actor).name
    with connect() as db:
        done = {row["prompt_key"] for row in db.execute("SELECT prompt_key FROM votes WHERE reviewer=?", (reviewer,))}
    return next((matchup for matchup in matchups(run_ids, actor) if matchup.key not in done), None)


def vote(matchup: Matchup, chosen: str, actor: Actor | None = None, better: str = "") -> None:
    """Record ``actor``'s choice (a model of the matchup, or ``TIE``) once, with the better answer they wrote."""
    if chosen != TIE and chosen not in dict(matchup.shown):
        raise UserError("Pick one of the answers shown, or call it a tie.")
    values = (
        matchup.key,
        access.acting(actor).name,
        json.dumps(matchup.prompt, ensure_ascii=False),
        json.dumps(dict(matchup.shown), ensure_ascii=False),
        chosen,
        better.strip(),
        time.time(),
    )
    try:
        with connect() as db:
            db.execute(
                "INSERT INTO votes (prompt_key, reviewer, prompt, answers, chosen, better, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )
    except sqlite3.IntegrityError:
        raise UserError("You have already voted on this prompt; the next one is waiting.") from None


def standings(reviewer: str | None = None, actor: Actor | None = None) -> list[Standing]:
    """Every model's win rate over the votes it was in (by one reviewer, or everyone), best first; only votes
    between models ``actor`` may see."""
    tally: dict[str, list[int]] = {}
    for row in _votes(reviewer, actor):
        for model in json.loads(row["answers"]):
            counts = tally.setdefault(model, [0, 0, 0])
            counts[0] += 1
            counts[1] += row["chosen"] == model
            counts[2] += row["chosen"] == TIE
    found = []
    for model, (votes, wins, ties) in tally.items():
        rate = (wins + ties / 2) / votes
        low, high = wilson(rate, votes)
        found.append(Standing(model, votes, wins, ties, rate, low, high))
    return sorted(found, key=lambda standing: -standing.rate)


def reviewers() -> list[str]:
    with connect() as db:
        return [row["reviewer"] for row in db.execute("SELECT DISTINCT reviewer FROM votes ORDER BY reviewer")]


def preference_pairs(reviewer: str | None = None, actor: Actor | None = None) -> list[dict[str, Any]]:
    """DPO rows (``prompt``, ``chosen``, ``rejected``, each a list of messages): the chosen answer against every other
    shown one, or a reviewer's better answer against every shown one; ties give none. Only votes between models
    ``actor`` may see."""
    pairs = []
    for row in _votes(reviewer, actor):
        prompt, shown = json.loads(row["prompt"]), json.loads(row["answers"])
        if row["better"]:
            winner, losers = row["better"], list(shown.values())
        elif row["chosen"] != TIE:
            winner, losers = shown[row["chosen"]], [text for model, text in shown.items() if model != row["chosen"]]
        else:
            continue
        for loser in losers:
            if loser.strip() != winner.strip():
                pairs.append({"prompt": prompt, "chosen": _said(winner), "rejected": _said(loser)})
    return pairs


def corrected_examples(reviewer: str) -> list[dict[str, Any]]:
    """Every better answer ``reviewer`` wrote, as an SFT row (the prompt and that answer)."""
    return [
        {"messages": [*json.loads(row["prompt"]), *_said(row["better"])]}
        for row in _votes(reviewer, None)
        if row["better"]
    ]


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def wilson(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate seen over ``n`` trials (0..1 both ends; (0, 1) with none)."""
    if n == 0:
        return 0.0, 1.0
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def _votes(reviewer: str | None, actor: Actor | None) -> list[sqlite3.Row]:
    """The votes (of one reviewer, or all), keeping only those whose every model ``actor`` may see."""
    with connect() as db:
        if reviewer is None:
            rows = db.execute("SELECT * FROM votes ORDER BY id").fetchall()
        else:
            rows = db.execute("SELECT * FROM votes WHERE reviewer=? ORDER BY id", (reviewer,)).fetchall()
    if actor is None:
        return rows
    seen = _visible_models(actor)
    return [row for row in rows if set(json.loads(row["answers"])) <= seen]


def _visible_models(actor: Actor) -> set[str]:
    runs = control.visible_runs(actor)
    bases = {f"{BASE_PREFIX}{run.config.model}" for run in runs}
    return {run.run_id for run in runs} | bases | set(_checkpoints(runs))


def _checkpoints(runs: list[directory.Run]) -> list[str]:
    return [f"{run.run_id}{CHECKPOINT_MARK}{step}" for run in runs for step in evaluate.checkpoint_evaluations(run)]


def _said(answer: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": answer}]

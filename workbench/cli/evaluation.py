"""The ``workbench eval`` and ``workbench judge`` commands: evaluate a finished run's base and trained model, and have
a local model judge the saved answers against a rubric, as the Runs page does."""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.cli.runs import actor
from workbench.errors import UserError
from workbench.results import evaluate, evaluation_tasks, judge


RECORD_HELP = "Record progress and the outcome in the run folder, where the Runs page follows it (as it starts it)."


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "eval", help="Evaluate finished runs: each one's base and trained answers scored, saved with the run."
    )
    parser.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="One run, or several evaluated in turn.")
    parser.add_argument(
        "--data", type=Path, help="A test file of conversations ending with the expected answer (default: held-out)."
    )
    parser.add_argument(
        "--checkpoint", type=int, help="Evaluate the run's saved checkpoint of this step (`workbench checkpoints`)."
    )
    parser.add_argument("--json", action="store_true", help="Print each run's whole evaluation as one JSON line.")
    parser.add_argument("--record", action="store_true", help=RECORD_HELP)
    parser.set_defaults(handler=cmd_eval)
    _judge_command(commands)


def _judge_command(commands: Any) -> None:
    parser = commands.add_parser(
        "judge",
        help="Have a local model score a run's evaluated answers against your rubric (a model's opinion).",
    )
    parser.add_argument("run_id")
    parser.add_argument("--judge", required=True, help="The judging model: a base model name or a finished run's id.")
    rubric = parser.add_mutually_exclusive_group(required=True)
    rubric.add_argument("--rubric", help=f"What a good answer does, at most {judge.MAX_RUBRIC_CHARS} characters.")
    rubric.add_argument("--rubric-file", type=Path, help="A UTF-8 text file holding the rubric.")
    parser.add_argument("--json", action="store_true", help="Print the whole judgement as one JSON object.")
    parser.add_argument("--record", action="store_true", help=RECORD_HELP)
    parser.set_defaults(handler=cmd_judge)


def cmd_eval(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json and (done == total or done % 20 == 0):
            print(f"Answered {done} of {total}", file=sys.stderr, flush=True)

    if args.record:
        if len(args.run_ids) != 1:
            raise UserError("--record evaluates one run at a time; give one RUN_ID.")
        return evaluation_tasks.record_evaluation(args.run_ids[0], actor(args), args.data, args.checkpoint)
    for run_id in args.run_ids:
        result = evaluate.evaluate(run_id, actor(args), args.data, progress, args.checkpoint)
        said = f"{run_id}: {evaluate.summary(result)}"
        print(json.dumps(asdict(result), ensure_ascii=False) if args.json else said, flush=True)
    return 0


def cmd_judge(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json and (done == total or done % 20 == 0):
            print(f"Judged {done} of {total} answers", file=sys.stderr, flush=True)

    rubric = args.rubric if args.rubric is not None else read_rubric(args.rubric_file)
    if args.record:
        return evaluation_tasks.record_judgement(args.run_id, actor(args), args.judge, rubric)
    result = judge.judge(args.run_id, args.judge, rubric, actor(args), progress)
    print(json.dumps(asdict(result), ensure_ascii=False) if args.json else judge.summary(result))
    return 0


def read_rubric(path: Path) -> str:
    """The rubric in the file ``path``, read no further than a rubric may be long (the judge refuses a longer one)."""
    limit = judge.MAX_RUBRIC_CHARS * 4  # bytes: UTF-8 takes at most 4 a character
    try:
        with path.open("rb") as file:
            content = file.read(limit + 1)
    except OSError as error:
        raise UserError(f"Cannot read the rubric file {path} ({error.strerror}); give a readable text file.") from None
    if len(content) > limit:
        raise UserError(f"The rubric file {path} is longer than {judge.MAX_RUBRIC_CHARS} characters; shorten it.")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"The rubric file {path} is not UTF-8 text; save it as UTF-8 and try again.") from None

"""The ``workbench eval`` command: evaluate a finished run's base and trained model, as the Runs page does."""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.cli.runs import actor
from workbench.results import evaluate


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "eval", help="Evaluate a finished run: its base and trained answers scored, saved with the run."
    )
    parser.add_argument("run_id")
    parser.add_argument(
        "--data", type=Path, help="A test file of conversations ending with the expected answer (default: held-out)."
    )
    parser.add_argument("--json", action="store_true", help="Print the whole evaluation as one JSON object.")
    parser.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        if not args.json and (done == total or done % 20 == 0):
            print(f"Answered {done} of {total}", file=sys.stderr, flush=True)

    result = evaluate.evaluate(args.run_id, actor(args), args.data, progress)
    print(json.dumps(asdict(result), ensure_ascii=False) if args.json else evaluate.summary(result))
    return 0

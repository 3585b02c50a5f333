"""Commands about datasets: validate a file, share a library dataset."""

import argparse
import json
from pathlib import Path
from typing import Any

from workbench.cli.runs import actor
from workbench.config import RunConfig
from workbench.data import library, sources
from workbench.data.mapping import ColumnMapping
from workbench.errors import UserError


def add_commands(commands: Any) -> None:
    data_parser = commands.add_parser("data", help="Dataset tools.").add_subparsers()
    validate = data_parser.add_parser(
        "validate",
        help="Check a dataset file (JSONL, JSON, CSV or Parquet). Exit 0: ok, 1: some bad records, 2: unusable.",
    )
    validate.add_argument("file", type=Path)
    validate.add_argument("--model", default="demo", help="Tokenizer and chat template to count with (default: demo).")
    validate.add_argument(
        "--max-length", type=int, default=RunConfig().max_length, help="Training max length in tokens."
    )
    validate.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="Which column holds what, for a table whose layout is not recognised: prompt=, completion=, system= or "
        "text= (repeat it, e.g. --map prompt=question --map completion=answer).",
    )
    validate.add_argument("--json", action="store_true", help="Print one JSON object.")
    validate.set_defaults(handler=cmd_data_validate)
    sharing = data_parser.add_parser("share", help="Let the whole team see and train on a library dataset.")
    sharing.add_argument("dataset", help="The dataset's id in the library (its folder name).")
    sharing.add_argument("--off", action="store_true", help="Stop sharing it.")
    sharing.set_defaults(handler=cmd_data_share)


def column_mapping(pairs: list[str]) -> ColumnMapping | None:
    """``--map prompt=question --map completion=answer`` as a ColumnMapping (None without any)."""
    fields = ("prompt", "completion", "system", "text")
    mapping = {}
    for pair in pairs:
        field, _, column = pair.partition("=")
        if field.strip() not in fields or not column.strip():
            raise UserError(f"--map {pair}: write FIELD=COLUMN with FIELD one of {', '.join(fields)}.")
        mapping[field.strip()] = column.strip()
    found = ColumnMapping.from_dict(mapping)
    if found is not None and not found.complete:
        raise UserError("--map needs both prompt= and completion= (two different columns), or text= alone.")
    return found


def cmd_data_validate(args: argparse.Namespace) -> int:
    from workbench.data import reports

    report = sources.validate_file(args.file, args.model, args.max_length, column_mapping(args.map))
    if args.json:
        print(json.dumps(reports.report_json(report), ensure_ascii=False))
    else:
        print(reports.report_text(report))
    return reports.exit_code(report)


def cmd_data_share(args: argparse.Namespace) -> int:
    library.share_dataset(actor(args), args.dataset, shared=not args.off)
    print(f"{args.dataset}: {'no longer shared' if args.off else 'shared with the team'}")
    return 0

"""The ``workbench`` command line; it calls the same core functions as the pages.

workbench train CONFIG.yaml [--wait] [--force]   check and queue a run (and follow it with --wait)
workbench jobs list [--json]           list jobs
workbench jobs cancel RUN_ID           cancel a job
workbench jobs resume RUN_ID [--wait]  resume a failed, interrupted or cancelled run from its last checkpoint
workbench runner                       run the job runner in the foreground (e.g. under systemd)
workbench serve [--host H] [--port N] [--show-key]   run the model server (OpenAI-compatible API) in the foreground
workbench demo build                   build the offline demo model now
workbench export RUN_ID [--merged] [--out PATH]   write the adapter zip, or merge it into its base model
workbench import ADAPTER.zip [--base MODEL] [--name NAME]   a LoRA adapter made elsewhere, as a run to chat with
workbench data validate FILE [--model PATH_OR_ID] [--max-length N] [--json]   check a dataset file
"""

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.config import RunConfig
from workbench.data import sources
from workbench.data.mapping import ColumnMapping
from workbench.errors import UserError
from workbench.jobs import control, queue, runner
from workbench.models import device, loading
from workbench.planning import fitting, preflight, presets
from workbench.runs import directory


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return code
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went to a pipe that closed early (``jobs list | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes it
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="SFT Workbench command line.")
    commands = parser.add_subparsers()
    for add in (_train_commands, _job_commands, _runner_commands, _export_commands, _data_commands):
        add(commands)
    return parser


def _train_commands(commands: Any) -> None:
    train = commands.add_parser("train", help="Queue a training run from a YAML config.")
    train.add_argument("config", type=Path, help="A run config YAML file, e.g. examples/demo.yaml.")
    train.add_argument("--wait", action="store_true", help="Follow progress; exit 0 only if the run succeeds.")
    train.add_argument("--force", action="store_true", help="Queue the run even when the pre-flight check says red.")
    train.add_argument(
        "--preset", choices=presets.PRESETS, help="Fit a preset to the data first, as the Train page does."
    )
    train.set_defaults(handler=cmd_train)


def _job_commands(commands: Any) -> None:
    jobs_parser = commands.add_parser("jobs", help="List, cancel or resume jobs.").add_subparsers()
    listing = jobs_parser.add_parser("list", help="List jobs, newest first.")
    listing.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    listing.set_defaults(handler=cmd_jobs_list)
    cancel = jobs_parser.add_parser("cancel", help="Cancel a queued or running job.")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=cmd_jobs_cancel)
    resume = jobs_parser.add_parser(
        "resume", help="Resume a failed, interrupted or cancelled run from its checkpoint."
    )
    resume.add_argument("run_id")
    resume.add_argument("--wait", action="store_true", help="Follow progress; exit 0 only if the run succeeds.")
    resume.set_defaults(handler=cmd_jobs_resume)


def _runner_commands(commands: Any) -> None:
    run = commands.add_parser("runner", help="Run the job runner in the foreground.")
    run.add_argument("--idle-exit", type=float, default=None, help="Exit after this many idle seconds.")
    run.set_defaults(handler=cmd_runner)
    serve = commands.add_parser("serve", help="Run the model server (an OpenAI-compatible API) in the foreground.")
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: this machine only).")
    serve.add_argument("--port", type=int, default=8502, help="Port to listen on; 0 picks a free one.")
    serve.add_argument("--show-key", action="store_true", help="Print the API key and the address, then exit.")
    serve.set_defaults(handler=cmd_serve)
    demo = commands.add_parser("demo", help="The built-in demo model.").add_subparsers()
    demo.add_parser("build", help="Build the demo model now.").set_defaults(handler=cmd_demo_build)


def _export_commands(commands: Any) -> None:
    export_parser = commands.add_parser("export", help="Write a run's adapter as a zip, or a merged whole model.")
    export_parser.add_argument("run_id")
    export_parser.add_argument(
        "--merged", action="store_true", help="Fold the adapter into the base model's weights (no peft needed)."
    )
    export_parser.add_argument(
        "--out", type=Path, default=None, help="Where to write (default: RUN_ID-adapter.zip, or merged/ in the run)."
    )
    export_parser.set_defaults(handler=cmd_export)
    importing = commands.add_parser("import", help="Import a LoRA adapter zip made elsewhere as a run to chat with.")
    importing.add_argument("zip", type=Path)
    importing.add_argument("--base", default="demo", help="The base model it was trained on (default: demo).")
    importing.add_argument("--name", default="", help="A name for the run.")
    importing.set_defaults(handler=cmd_import)


def _data_commands(commands: Any) -> None:
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


def cmd_train(args: argparse.Namespace) -> int:
    config = RunConfig.load(args.config).check()
    lengths = preflight.dataset_lengths(config.model, config.dataset, config.eval_dataset)  # a doomed run stops here
    if args.preset:
        fitted = fitting.fit_to_data(args.preset, config, lengths, device.device_info())
        config = fitted.config.check()
        print("\n".join([f"Preset {args.preset}, fitted to the data:", *(f"- {line}" for line in fitted.changes)]))
    checked = preflight.check(config, device.device_info(), lengths)
    print(preflight.format_summary(checked))
    if checked.blocked:
        raise UserError(checked.blocked)  # no --force: the run would only fill the disk and fail
    if checked.verdict == "red" and not args.force:
        raise UserError("The pre-flight check says this run would fail; apply a fix above, or add --force.")
    job = control.submit(config, peak_gb=checked.peak_memory_gb)
    runner.ensure_runner()
    print(f"Queued run {job.run_id}.")
    return follow(job.run_id) if args.wait else 0


def follow(run_id: str, poll_s: float = 1.0) -> int:
    run = directory.get_run(run_id)
    last = ""
    while True:
        status = directory.read_status(run.path)
        line = f"{status.state}: step {status.step}/{status.max_steps or '?'} {status.message}"
        if line != last:
            print(line, flush=True)
            last = line
        if status.finished and not queue.get_job(run_id).active:
            scores = directory.read_scores(run.path)
            if scores.tuned:
                base = scores.base.exact_match if scores.base else 0.0
                print(f"Held-out exact match: base {base:.1%}, tuned {scores.tuned.exact_match:.1%}")
            return 0 if status.state == "succeeded" else 1
        time.sleep(poll_s)


def cmd_jobs_list(args: argparse.Namespace) -> int:
    listed = queue.list_jobs()
    if args.json:
        print(json.dumps([asdict(job) for job in listed], indent=1))
        return 0
    for row in queue.queue_rows(listed):
        position = f"#{row['position']}" if row["position"] else ""
        print(f"{row['run']:48} {row['state']:11} {position:4} {row['owner']:20} {row['queued at']}")
    return 0


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


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    job = control.request_cancel(args.run_id)
    print(f"{job.run_id}: {'cancelled' if job.state == 'cancelled' else 'cancel requested'}")
    return 0


def cmd_jobs_resume(args: argparse.Namespace) -> int:
    job = control.resume(args.run_id)
    runner.ensure_runner()
    print(f"{job.run_id}: queued to resume (attempt {job.attempt})")
    return follow(job.run_id) if args.wait else 0


def cmd_runner(args: argparse.Namespace) -> int:
    return runner.Runner(idle_exit_s=args.idle_exit).run_forever()


def cmd_serve(args: argparse.Namespace) -> int:
    from workbench.serving import process

    if args.show_key:
        running = process.running_server()
        print(f"key: {process.api_key()}")
        print(f"url: {running.url}/v1" if running else "url: (no model server is running)")
        return 0
    return process.serve_forever(args.host, args.port)


def cmd_demo_build(args: argparse.Namespace) -> int:
    path = loading.ensure_demo_model(progress=lambda fraction, text: print(f"{fraction:4.0%} {text}", flush=True))
    print(f"Demo model ready at {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.results import export, merge

    run = directory.get_run(args.run_id)
    if args.merged and args.out is None:
        code = merge.run_merge(run)  # records its progress in the run, where the Runs page shows it
        print(merge.merge_state(run).message, file=sys.stdout if code == 0 else sys.stderr)
        return code
    if args.merged:
        print(f"Merged model saved in {merge.merge_into_base(run, args.out)}")
        return 0
    target = args.out or Path(export.adapter_zip_name(run))
    target.write_bytes(export.adapter_zip_bytes(run))
    print(f"Adapter saved as {target}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from workbench.people import server_user
    from workbench.results import adapter_import

    try:
        data = args.zip.read_bytes()
    except OSError:
        raise UserError(f"There is no readable file at {args.zip}; give the path of the adapter's .zip.") from None
    run = adapter_import.import_adapter(data, args.base, args.name, server_user())
    print(f"Imported as run {run.run_id}")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from workbench.data import reports

    report = sources.validate_file(args.file, args.model, args.max_length, column_mapping(args.map))
    if args.json:
        print(json.dumps(reports.report_json(report), ensure_ascii=False))
    else:
        print(reports.report_text(report))
    return reports.exit_code(report)


if __name__ == "__main__":
    sys.exit(main())

"""Commands about runs and the processes behind them: train, jobs, runs, runner, serve, demo, export, import."""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.jobs import control, fairness, queue, runner, runner_lock
from workbench.models import device, loading
from workbench.planning import fitting, preflight, presets
from workbench.results import answer_tables
from workbench.runs import directory, held_out_scores
from workbench.team import access, audit
from workbench.team.identity import Actor


def actor(args: argparse.Namespace) -> Actor:
    """Who the command acts for: ``--user``, else the operating-system user."""
    return access.cli_actor(args.user)


def add_commands(commands: Any) -> None:
    for add in (_train_commands, _job_commands, _runner_commands, _export_commands):
        add(commands)


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
    jobs_parser = commands.add_parser("jobs", help="List, cancel, resume or reorder jobs.").add_subparsers()
    listing = jobs_parser.add_parser("list", help="List the jobs you may see, newest first, with their place.")
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
    front = jobs_parser.add_parser("front", help="(Admins) start a waiting run before every other.")
    front.add_argument("run_id")
    front.add_argument("--back", action="store_true", help="Put it back in the fair order instead.")
    front.set_defaults(handler=cmd_jobs_front)
    runs_parser = commands.add_parser("runs", help="Share runs with the team.").add_subparsers()
    sharing = runs_parser.add_parser("share", help="Let the whole team see, chat with and download a run.")
    sharing.add_argument("run_id")
    sharing.add_argument("--off", action="store_true", help="Stop sharing it.")
    sharing.set_defaults(handler=cmd_runs_share)


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
    job = control.submit(config, actor(args), peak_gb=checked.peak_memory_gb, estimate_s=checked.est_seconds)
    runner_lock.ensure_runner()
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
            scores = held_out_scores.read_scores(run.path)
            if scores.tuned:
                print(f"Held-out, untrained -> trained: {answer_tables.metrics_sentence(scores)}")
            return 0 if status.state == "succeeded" else 1
        time.sleep(poll_s)


def cmd_jobs_list(args: argparse.Namespace) -> int:
    listed = control.visible_jobs(actor(args))
    if args.json:
        print(json.dumps([asdict(job) for job in listed], indent=1))
        return 0
    for row in fairness.queue_rows(listed, len(device.gpus())):
        position = f"#{row['position']}" if row["position"] else ""
        start = f"  starts {row['expected start']}" if row["expected start"] else ""
        print(f"{row['run']:48} {row['state']:11} {position:5} {row['owner']:20} {row['queued at']}{start}")
    return 0


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    job = control.request_cancel(args.run_id, actor(args))
    print(f"{job.run_id}: {'cancelled' if job.state == 'cancelled' else 'cancel requested'}")
    return 0


def cmd_jobs_resume(args: argparse.Namespace) -> int:
    job = control.resume(args.run_id, actor(args))
    runner_lock.ensure_runner()
    print(f"{job.run_id}: queued to resume (attempt {job.attempt})")
    return follow(job.run_id) if args.wait else 0


def cmd_jobs_front(args: argparse.Namespace) -> int:
    job = control.move_to_front(args.run_id, actor(args), front=not args.back)
    print(f"{job.run_id}: {'back in the fair order' if args.back else 'moved to the front of the queue'}")
    return 0


def cmd_runs_share(args: argparse.Namespace) -> int:
    control.share(args.run_id, actor(args), shared=not args.off)
    print(f"{args.run_id}: {'no longer shared' if args.off else 'shared with the team'}")
    return 0


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
    who = actor(args)
    control.check_see_run(who, run.run_id)
    if args.merged and args.out is None:
        code = merge.run_merge(run, who)  # records its progress in the run, where the Runs page shows it
        print(merge.merge_state(run).message, file=sys.stdout if code == 0 else sys.stderr)
        return code
    if args.merged:
        print(f"Merged model saved in {merge.merge_into_base(run, args.out)}")
        audit.record(who.name, "export", run.run_id, f"merged model to {args.out}")
        return 0
    target = args.out or Path(export.adapter_zip_name(run))
    target.write_bytes(export.adapter_zip_bytes(run, who))
    export.record_download(run, who)
    print(f"Adapter saved as {target}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from workbench.results import adapter_import

    try:
        data = args.zip.read_bytes()
    except OSError:
        raise UserError(f"There is no readable file at {args.zip}; give the path of the adapter's .zip.") from None
    run = adapter_import.import_adapter(data, args.base, args.name, actor(args))
    print(f"Imported as run {run.run_id}")
    return 0

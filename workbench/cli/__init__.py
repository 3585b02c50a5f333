"""The ``workbench`` command line; it calls the same core functions as the pages, as the user named with ``--user``
(by default the operating-system user), so scripts are held to the same rules as the browser.

workbench train CONFIG.yaml [--wait] [--force] [--preset P]   check and queue a run (and follow it with --wait)
workbench jobs list [--json]           list jobs, in the order they will start
workbench jobs cancel|resume RUN_ID    cancel a job; resume a failed, interrupted or cancelled run from its checkpoint
workbench jobs front RUN_ID [--back]   (admins) move a waiting run to the front of the queue, or back
workbench runs share RUN_ID [--off]    share a run with the team (or stop)
workbench runner                       run the job runner in the foreground (e.g. under systemd)
workbench serve [--host H] [--port N] [--show-key]   run the model server (OpenAI-compatible API) in the foreground
workbench demo build                   build the offline demo model now
workbench export RUN_ID [--merged] [--out PATH]   write the adapter zip, or merge it into its base model
workbench import ADAPTER.zip [--base MODEL] [--name NAME]   a LoRA adapter made elsewhere, as a run to chat with
workbench eval RUN_ID... [--data FILE] [--checkpoint STEP] [--json]   score a run's (or a checkpoint's) answers
workbench judge RUN_ID --judge MODEL --rubric TEXT   a local model scores the evaluated answers (its opinion)
workbench checkpoints RUN_ID           a run's saved checkpoints with their losses and scores
workbench promote RUN_ID STEP|final    make a checkpoint the run's model for chat, download and merge (final undoes it)
workbench data validate FILE [--model PATH_OR_ID] [--max-length N] [--json]   check a dataset file
workbench data share DATASET [--off]   share a dataset with the team (or stop)
workbench users add|remove|passwd|list|role ...   (team mode) manage users; the first admin is made here
workbench tokens create|list|revoke ...   personal API tokens for the model server
workbench audit [--user U] [--action A] [--days N]   (admins) the audit log
"""

import argparse
import os
import sys

from workbench.cli import checkpoints, data, evaluation, runs, team
from workbench.errors import UserError


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
    parser.add_argument(
        "--user", default=None, help="Act as this user (default: the operating-system user); team mode checks it."
    )
    commands = parser.add_subparsers()
    for module in (runs, evaluation, checkpoints, data, team):
        module.add_commands(commands)
    return parser

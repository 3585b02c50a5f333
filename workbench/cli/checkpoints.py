"""The ``workbench checkpoints`` and ``workbench promote`` commands: a run's saved checkpoints as results, and
promoting one to be the run's model, as the Runs page does."""

import argparse
from typing import Any

from workbench.cli.runs import actor
from workbench.errors import UserError
from workbench.jobs import control
from workbench.results import evaluate, promotion
from workbench.runs import directory


def add_commands(commands: Any) -> None:
    listing = commands.add_parser("checkpoints", help="A run's saved checkpoints, their losses and scores.")
    listing.add_argument("run_id")
    listing.set_defaults(handler=cmd_checkpoints)
    promote = commands.add_parser(
        "promote", help="Make a saved checkpoint the run's model for chat, download and merge ('final' undoes it)."
    )
    promote.add_argument("run_id")
    promote.add_argument("step", help="The checkpoint's step, or 'final' for the model training saved at the end.")
    promote.set_defaults(handler=cmd_promote)


def cmd_checkpoints(args: argparse.Namespace) -> int:
    control.check_see_run(actor(args), args.run_id)
    run = directory.get_run(args.run_id)
    saved = promotion.saved_models(run)
    if not saved:
        print(f"The run {args.run_id} kept no checkpoints.")
        return 0
    scores = evaluate.checkpoint_evaluations(run)
    print(f"{'step':>8}  {'epoch':>6}  {'train loss':>10}  {'held-out loss':>13}  {'token F1':>8}")
    for checkpoint in saved:
        f1 = f"{scores[checkpoint.step].tuned['f1']:.0%}" if checkpoint.step in scores else "-"
        mark = "  <- answers now" if checkpoint.promoted else ""
        print(
            f"{checkpoint.step:>8}  {_shown(checkpoint.epoch, '.2f'):>6}  {_shown(checkpoint.train_loss, '.4f'):>10}  "
            f"{_shown(checkpoint.eval_loss, '.4f'):>13}  {f1:>8}{mark}"
        )
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    if args.step == "final":
        promotion.restore_final(args.run_id, actor(args))
        print(f"The run {args.run_id} answers with the model its training saved at the end again.")
        return 0
    if not args.step.isdigit():
        raise UserError(
            f"'{args.step}' is not a checkpoint step; give a number from `workbench checkpoints`, or final."
        )
    promotion.promote(args.run_id, int(args.step), actor(args))
    print(promotion.promoted_sentence(directory.get_run(args.run_id)))
    return 0


def _shown(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)

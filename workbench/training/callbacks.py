"""Trainer callbacks used inside the training process: they write progress into the run directory, stop
training cleanly when a stop is requested, and answer a few held-out questions at every evaluation."""

import threading
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from workbench.evaluation.answers import expected_answer, last_user_text
from workbench.models.generation import generate_answers
from workbench.runs import checkpoints, directory, record, samples


class RunDirectoryCallback(TrainerCallback):
    """Appends every log event to metrics.jsonl, keeps status.json current, and honours a stop request."""

    def __init__(self, run_dir: Path, stop_requested: threading.Event, min_interval_s: float = 0.5) -> None:
        self.run_dir = run_dir
        self.stop_requested = stop_requested
        self.min_interval_s = min_interval_s
        self._last_write = 0.0
        self._steps_here = 0  # steps this trainer took; a resumed run starts at a higher global step

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._steps_here = 0
        self._write_progress(state, args, force=True)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._steps_here += 1
        self._write_progress(state, args, force=self._steps_here == 1)
        if _any_process(self.stop_requested.is_set()):  # all processes of a data-parallel run stop at one step
            control.should_training_stop = True
            control.should_save = True  # a checkpoint of where it stopped, so the cancelled run can be resumed

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:  # only the main process writes the run directory
            return
        values = {key: value for key, value in (logs or {}).items() if isinstance(value, int | float)}
        directory.append_metrics(
            self.run_dir, {"step": state.global_step, "epoch": state.epoch, "time": time.time(), **values}
        )

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        _wait_for_every_process()  # each writes its own rng_state_N.pth into the checkpoint: seal it once all have
        if state.is_world_process_zero and checkpoint.is_dir():
            checkpoints.seal(checkpoint, self.run_dir.name)
            directory.update_status(self.run_dir, last_checkpoint=checkpoint.name)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._write_progress(state, args, force=True)

    def _write_progress(self, state: Any, args: Any, force: bool = False) -> None:
        now = time.monotonic()
        if not state.is_world_process_zero or (not force and now - self._last_write < self.min_interval_s):
            return
        self._last_write = now
        cuda = not args.use_cpu and _cuda()
        directory.update_status(
            self.run_dir,
            state="running",
            step=state.global_step,
            max_steps=state.max_steps,
            epoch=round(state.epoch or 0.0, 3),
            num_epochs=args.num_train_epochs,
            steps_this_attempt=self._steps_here,  # the runner shares a GPU only once this is 1 or more
            memory_gb=round(record.memory_in_use_gb(cuda), 2),
            memory_place="GPU memory" if cuda else "RAM",
        )


def _any_process(flag: bool) -> bool:
    """``flag`` or'ed over the processes of a data-parallel run (each gets the SIGTERM at its own moment; one that
    stopped a step before the others would leave them waiting for it for ever)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _wait_for_every_process() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class SampleAnswersCallback(TrainerCallback):
    """Generates answers to the first held-out conversations before training and after every evaluation."""

    def __init__(
        self, run_dir: Path, tokenizer: Any, rendering: Any, eval_rows: list[dict], max_new_tokens: int
    ) -> None:
        self.run_dir = run_dir
        self.tokenizer, self.rendering = tokenizer, rendering
        self.conversations = [list(row["messages"]) for row in eval_rows[: samples.SAMPLE_COUNT]]
        self.max_new_tokens = max_new_tokens

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        resumed = (self.run_dir / directory.SAMPLES_FILE).exists()  # a resumed run keeps the answers it has
        if state.is_world_process_zero and not resumed:
            header = {
                "prompts": [last_user_text(conversation) for conversation in self.conversations],
                "expected": [expected_answer(conversation) for conversation in self.conversations],
            }
            samples.append_sample(self.run_dir, header)
            self._record(state.global_step, model)

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._record(state.global_step, model)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """With early stopping the best checkpoint's weights are restored at the end: say which step that was."""
        if state.is_world_process_zero and args.load_best_model_at_end and state.best_global_step:
            samples.append_sample(self.run_dir, {"saved_step": int(state.best_global_step)})

    def _record(self, step: int, model: Any) -> None:
        if model is None or not self.conversations:
            return
        try:
            answers = generate_answers(model, self.tokenizer, self.rendering, self.conversations, self.max_new_tokens)
        except Exception as error:  # noqa: BLE001 - a failed sample (e.g. out of memory) must never stop training
            print(f"Skipped the sample answers at step {step}: {type(error).__name__}: {error}", flush=True)
            _empty_cuda_cache()
            return
        samples.append_sample(self.run_dir, {"step": step, "time": time.time(), "answers": answers})


def _empty_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()

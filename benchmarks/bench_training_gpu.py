"""Benchmark: training speed and memory on one NVIDIA GPU, sized to finish inside 8 minutes on an H100 or H200.

    python benchmarks/bench_training_gpu.py [--shapes 1b,8b] [--steps 10] [--json FILE]
    python benchmarks/bench_training_gpu.py --smoke     # a tiny shape on the CPU: checks the script, measures nothing

Llama-3.2-1B- and Llama-3.1-8B-shaped models with random weights, built from configs on the GPU (no download), train
with LoRA (r=16, all linear layers) on pre-tokenised rows of widely varied lengths (log-normal, cut at 2,048), each
arm in a process of its own (``gpu_arms``). Arms: TRL's defaults (padded, gradient checkpointing on), the workbench's
default recipe (``workbench.training.speedups``: padding-free, Liger and FlashAttention where installed, gradient
checkpointing only when the pre-flight says the run needs it), then one change at a time: SDPA instead of
FlashAttention, packing, Liger off, gradient checkpointing on, and QLoRA (4-bit NF4 through bitsandbytes, loaded
from a saved copy of the random model, as ``workbench.models.loading`` loads it).

Per arm: useful (non-padding) tokens per second over ``--steps`` timed steps after ``gpu_arms.WARMUP``, LoRA model-FLOP
utilisation (``tokens/s x (4 N_mm + 6 N_lora + 3 A) / peak``, A the causal attention per token over each document,
../shared/notes/performance.md section 2.2), peak GPU memory (allocated and reserved) and the workbench's pre-flight
estimate for the same settings beside it, so that ``workbench.planning.memory`` can be calibrated from the table.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
import gpu_arms


ARMS_1B = ("trl-defaults", "default", "sdpa", "packing", "no-liger", "gc-on", "qlora")
ARMS_8B = ("trl-defaults", "default", "packing", "qlora", "qlora-batch1")  # packing: full 2,048-token rows
HEADER = (
    "| shape | arm | attention | padding-free / packing / Liger / GC | tokens/s | x TRL defaults | MFU (LoRA) "
    "| peak reserved GB | estimate GB | estimate / peak |"
)
FLAGS = ("padding_free", "packing", "liger", "gradient_checkpointing")


def table(results: list[dict]) -> list[str]:
    lines = [HEADER, "|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        base = next(r for r in results if r["shape"] == result["shape"] and r["arm"] == "trl-defaults")
        flags = "/".join("yes" if result[flag] else "no" for flag in FLAGS)
        peak = result["peak_reserved_gb"]
        ratio = f"{result['estimated_gb'] / peak:.2f}" if peak else "-"
        lines.append(
            f"| {result['shape']} | {result['arm']} | {result['attention']} | {flags} | {result['tokens_per_s']:,.0f} "
            f"| {result['tokens_per_s'] / base['tokens_per_s']:.2f} | {result['mfu']:.1%} "
            f"| {peak if peak is None else round(peak, 1)} | {result['estimated_gb']:.1f} | {ratio} |"
        )
    return lines


def changes_anything(arm: str) -> bool:
    """False for an arm that would repeat the default here (SDPA where FlashAttention is missing, Liger off where
    it is not installed)."""
    import torch

    from workbench.models import loading
    from workbench.training import speedups

    cuda = torch.cuda.is_available()
    if arm == "sdpa":
        return loading.attention_implementation(cuda) != "sdpa"
    if arm == "no-liger":
        return cuda and speedups.liger_installed()
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="1b,8b")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--smoke", action="store_true", help="a tiny shape on the CPU, to check the script")
    args = parser.parse_args()
    shapes = ["smoke"] if args.smoke else args.shapes.split(",")
    started, results = time.perf_counter(), []
    env = {**os.environ, "BENCH_STEPS": str(args.steps if not args.smoke else 2), "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as scratch:
        folder = Path(scratch)
        env["WORKBENCH_HOME"] = str(folder / "home")
        for shape in shapes:
            arms = [arm for arm in (ARMS_8B if shape == "8b" else ARMS_1B) if changes_anything(arm)]
            if "qlora" in arms:
                gpu_arms.save_random_model(shape, folder)
            for arm in arms:
                out = folder / f"{shape}-{arm}.json"
                command = [sys.executable, gpu_arms.__file__, arm, shape, str(folder), str(out)]
                finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
                if finished.returncode != 0:
                    print(f"{shape} {arm}: failed\n{finished.stderr[-1500:]}", flush=True)
                    continue
                results.append(json.loads(out.read_text()))
                print(f"{shape} {arm}: {results[-1]['tokens_per_s']:,.0f} tokens/s", flush=True)
    print("\n".join(["", *table(results), "", f"Benchmark wall time: {time.perf_counter() - started:.0f} s."]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

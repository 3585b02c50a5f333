"""Benchmark: the workbench's training path and its default speed recipe against a plain TRL script, on the CPU, in
one run (``make bench``, under 10 minutes on 2 cores).

    .venv/bin/python benchmarks/bench_training.py [--rows 96] [--max-length 384] [--repeats 3] [--json FILE]

It builds a random Llama-shaped model and seeded chat data in two length profiles (``training_fixtures``), then
runs each arm of ``training_arms`` in a process of its own, the arms interleaved (forward, then backward) over
``--repeats`` rounds per profile. Each arm trains one epoch over the same rows. Reported per profile: useful
(non-padding) tokens per second, as the median with min and max over the rounds, its ratio to the plain script in
the same round, the padding share, peak memory and set-up speed, and whether the arm's batch layout computes the
same loss as plain padding on the same eight conversations (an arm's speed counts only when it does). Last, one
demo run through the real queue (``workbench train examples/demo.yaml --wait``) shows the fixed cost around
training, phase by phase, from its run record.

Targets (issue 13): the workbench's path at least 0.99 of the plain script; the default recipe at least 1.5x TRL's
defaults on the varied-length data.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
import training_fixtures


ROOT = Path(__file__).resolve().parent.parent
ARMS = ("plain", "trl-defaults", "workbench", "default", "packing", "gc-on")
LABELS = {
    "plain": "plain TRL script (the workbench's settings)",
    "trl-defaults": "TRL's defaults",
    "workbench": "workbench path, same settings",
    "default": "workbench default recipe",
    "packing": "workbench + packing (BFD)",
    "gc-on": "workbench + gradient checkpointing",
}
HEADER = (
    "| arm | useful tokens/s | x plain | x plain, CPU time | x TRL defaults | padding | peak RSS GB | set-up rows/s "
    "| loss check |"
)
CPU_CLOCK = "useful_tokens_per_cpu_s"
TOLERANCE = 1e-4  # relative loss difference between an arm's layout and plain padding


def run_arm(arm: str, folder: Path, data: list[Path], max_length: int, threads: int) -> dict[str, dict]:
    """The arm's result for each data file (by profile), from a process of its own."""
    out = folder / f"{arm}.json"
    env = {**os.environ, "WORKBENCH_HOME": str(folder / f"home-{arm}"), "HF_HUB_OFFLINE": "1"}
    env |= {"OMP_NUM_THREADS": str(threads), "BENCH_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, str(Path(__file__).parent / "training_arms.py"), arm, str(folder / "model")]
    command += [str(max_length), str(out), *map(str, data)]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"arm {arm} failed:\n{finished.stderr[-3000:]}")
    return json.loads(out.read_text())


def rounds(folder: Path, data: list[Path], args: argparse.Namespace) -> dict[str, list[dict[str, dict]]]:
    """Per profile, one {arm: result} per round; the arms run forward in odd rounds and backward in even ones."""
    by_profile: dict[str, list[dict[str, dict]]] = {path.stem: [] for path in data}
    for index in range(args.repeats):
        order = ARMS if index % 2 == 0 else tuple(reversed(ARMS))
        measured = {arm: run_arm(arm, folder, data, args.max_length, args.threads) for arm in order}
        for profile, results in by_profile.items():
            results.append({arm: measured[arm][profile] for arm in ARMS})
        print(f"  round {index + 1} of {args.repeats} done", flush=True)
    return by_profile


def spread(values: list[float], form: str = "{:.2f}") -> str:
    return f"{form.format(statistics.median(values))} ({form.format(min(values))}-{form.format(max(values))})"


def loss_equal(result: dict) -> str:
    check = result["loss_check"]
    if "arm" not in check:
        return "padded (reference)"
    difference = abs(check["arm"] - check["padded"]) / check["padded"]
    return f"{'same' if difference <= TOLERANCE else 'DIFFERENT'} ({difference:.1e})"


def ratio(result: dict[str, dict], arm: str, against: str, clock: str = "useful_tokens_per_s") -> float:
    """The arm's useful tokens per (wall or CPU) second over ``against``'s, in the same round."""
    return result[arm][clock] / result[against][clock]


def table(profile: str, results: list[dict[str, dict]], rows: int) -> list[str]:
    lines = [
        f"### {profile} lengths",
        "",
        HEADER,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in ARMS:
        speed = [result[arm]["useful_tokens_per_s"] for result in results]
        to_plain = [ratio(result, arm, "plain") for result in results]
        cpu_to_plain = [ratio(result, arm, "plain", CPU_CLOCK) for result in results]
        to_trl = [ratio(result, arm, "trl-defaults") for result in results]
        padding = statistics.median(result[arm]["padding_fraction"] for result in results)
        memory = statistics.median(result[arm]["peak_rss_gb"] for result in results)
        setup = statistics.median(rows / result[arm]["prepare_seconds"] for result in results)
        lines.append(
            f"| {LABELS[arm]} | {spread(speed, '{:.0f}')} | {spread(to_plain)} | {spread(cpu_to_plain)} "
            f"| {spread(to_trl)} | {padding:.0%} "
            f"| {memory:.2f} | {setup:.1f} | {loss_equal(results[0][arm])} |"
        )
    return lines


def verdicts(by_profile: dict[str, list[dict[str, dict]]]) -> list[str]:
    def median_ratio(profile: str, arm: str, against: str, clock: str = "useful_tokens_per_s") -> float:
        return statistics.median(ratio(result, arm, against, clock) for result in by_profile[profile])

    path = min(median_ratio(profile, "workbench", "plain", CPU_CLOCK) for profile in by_profile)
    wall = min(median_ratio(profile, "workbench", "plain") for profile in by_profile)
    default = median_ratio("varied", "default", "trl-defaults")
    checks = [loss_equal(result) for results in by_profile.values() for result in results[0].values()]
    same = all(check.startswith(("same", "padded")) for check in checks)
    path_met = "met" if path >= 0.99 else "NOT met"
    default_met = "met" if default >= 1.5 else "NOT met"
    path_line = (
        f"- workbench path / plain script, tokens per CPU second: {path:.3f} (the worse profile's median; target "
        f"0.99): {path_met}; per wall second {wall:.3f}"
    )
    return [
        path_line,
        f"- default recipe / TRL defaults, varied lengths: {default:.2f}x (target 1.5x): {default_met}",
        f"- every faster layout computes the padded loss within {TOLERANCE:g}: {'yes' if same else 'NO'}",
    ]


def end_to_end(folder: Path) -> list[str]:
    """One demo run through the real queue, and where its time went (from its run record)."""
    home = folder / "home-e2e"
    env = {**os.environ, "WORKBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "workbench"), "train", str(ROOT / "examples/demo.yaml"), "--wait"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    record = json.loads(next((home / "runs").glob("*/run.json")).read_text())
    phases = record.get("phases", {})
    lines = [f"### Fixed cost: the demo, Start to succeeded ({wall:.1f} s wall, CLI included)", ""]
    lines += ["| phase | seconds | share |", "|---|---|---|"]
    total = sum(phases.values()) or 1.0
    for phase, seconds in sorted(phases.items(), key=lambda item: -item[1]):
        lines.append(f"| {phase} | {seconds:.2f} | {seconds / total:.0%} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--no-end-to-end", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        folder = Path(scratch)
        os.environ["WORKBENCH_HOME"] = str(folder / "home-fixtures")
        length = args.max_length
        training_fixtures.build_model(folder / "model", length)
        data = [
            training_fixtures.write_dataset(folder / f"{profile}.jsonl", folder / "model", profile, args.rows, length)
            for profile in training_fixtures.PROFILES
        ]
        by_profile = rounds(folder, data, args)
        setting = f"{args.threads} threads, {args.rows} rows, max length {args.max_length}"
        lines = [f"## Training speed on the CPU ({setting})"]
        for profile, results in by_profile.items():
            lines += ["", *table(profile, results, args.rows)]
        lines += ["", *verdicts(by_profile)]
        if not args.no_end_to_end:
            lines += ["", *end_to_end(folder)]
    lines += ["", f"Benchmark wall time: {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(by_profile, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmark: the validator's peak memory on the oversized files of the hardening issue, each in a fresh process.

    .venv/bin/python benchmarks/bench_validator_memory.py [--limit-gb 1.0] [--max-length 1024]

Files, written to a temporary folder: a CSV whose one cell is 10 MB; a JSONL file of one 150 MB line; a 482 KB-class
Parquet file of 20 million rows; 64 KB of ``',`` (the pattern that made Python's csv.Sniffer quadratic); a JSONL file
of one million identical rows; and a baseline of 20,000 ordinary rows. Each is validated with token statistics under
a tiny BPE tokenizer with a ChatML template (the demo's recipe), as ``workbench data validate --model`` does, in its
own Python process; the peak resident memory of that process (``VmHWM``) and its wall time are reported, and the
baseline process's peak before validating is given so the validator's own share can be read off. Exits 1 when any
file's peak is over the limit (1 GB by default).
"""

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec, VmHWM starts afresh.
CHILD = """
import sys, time
from pathlib import Path
from workbench.data import sources
def peak_mb():
    line = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
before = peak_mb()
start = time.perf_counter()
report = sources.validate_file(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
seconds = time.perf_counter() - start
peak = peak_mb()
codes = sorted(report.problems.counts) if hasattr(report.problems, "counts") else []
print(f"{before:.0f} {peak:.0f} {seconds:.1f} {len(report.rows)} {','.join(codes[:4]) or '-'}")
"""


def write_files(folder: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    files = {
        "20,000 ordinary rows": ("rows.jsonl", "".join(json.dumps(_chat(i)) + "\n" for i in range(20_000)).encode()),
        "10 MB CSV cell": ("cell.csv", ("prompt,completion\n" + "hi,yo\n" * 20 + "q," + "x" * 10_000_000).encode()),
        "150 MB JSONL line": ("line.jsonl", json.dumps(_chat(0, "y" * 150_000_000)).encode() + b"\n"),
        "64 KB of ',": ("sniff.csv", b"'," * 32_768),
        "1,000,000 identical rows": ("same.jsonl", (json.dumps(chat) + "\n").encode() * 1_000_000),
    }
    paths = {}
    for label, (name, content) in files.items():
        paths[label] = folder / name
        paths[label].write_bytes(content)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": pa.array(["same"] * 20_000_000)}), buffer, compression="zstd")
    paths[f"Parquet, 20,000,000 rows ({buffer.tell() // 1024} KB)"] = folder / "many.parquet"
    (folder / "many.parquet").write_bytes(buffer.getvalue())
    return paths


def _chat(i: int, answer: str = "") -> dict:
    question = f"Question {i} about the cat on the mat?"
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer or f"A {i}"}]}


def tokenizer_folder(folder: Path) -> Path:
    from workbench.models.demo import CHAT_TEMPLATE, train_bpe_tokenizer

    corpus = [f"question {i} answer {i} the cat sat on the mat hello there" for i in range(200)]
    target = folder / "tokenizer"
    train_bpe_tokenizer(corpus, vocab_size=300, chat_template=CHAT_TEMPLATE).save_pretrained(target)
    (target / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-gb", type=float, default=1.0)
    parser.add_argument("--max-length", type=int, default=1024)
    args = parser.parse_args()
    over = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model, files = tokenizer_folder(folder), write_files(folder)
        print(f"{'file':42} {'size':>9} {'peak MB':>8} {'start MB':>9} {'seconds':>8} {'rows':>9}  problems")
        for label, path in files.items():
            command = [sys.executable, "-c", CHILD, str(path), str(model), str(args.max_length)]
            output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800).stdout
            before, peak, seconds, rows, codes = output.split()
            size = f"{path.stat().st_size / 2**20:.1f} MB"
            print(f"{label:42} {size:>9} {peak:>8} {before:>9} {seconds:>8} {rows:>9}  {codes}")
            if float(peak) > args.limit_gb * 1024:
                over.append(label)
    print("over the limit: " + (", ".join(over) if over else f"none (limit {args.limit_gb:g} GB)"))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

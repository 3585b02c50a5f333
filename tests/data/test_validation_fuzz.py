"""Fuzzing `workbench data validate --json` with mutated copies of the four real datasets: whatever the bytes, the
command prints one valid JSON report and no traceback, and exits 0, 1 or 2. Mutations are seeded, so a failure
repeats; most runs go through ``cli.main`` in this process (the same code path, minus starting Python), a few
through a real subprocess."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL_DATASETS
from tiny_tokenizers import tokenizer_folder

from workbench import cli


SEEDS = range(60)
FILES = sorted(path for path in REAL_DATASETS.iterdir() if path.suffix in (".json", ".jsonl"))
NASTY = [b"\x00", b"\xff\xfe", b"\xc3", b'"', b"{", b"]", b"\\ud800", b"1e999999", b"\n", b"," * 50, b"[" * 3000]


def mutate(content: bytes, rng: random.Random) -> bytes:
    """A few random edits of the kinds that break readers: flipped bytes, cuts, nasty insertions, repeats."""
    data = bytearray(content)
    for _ in range(rng.randint(1, 6)):
        where = rng.randrange(max(1, len(data)))
        kind = rng.choice(("flip", "cut", "insert", "repeat", "truncate"))
        if kind == "flip" and data:
            data[where] = rng.randrange(256)
        elif kind == "cut":
            del data[where : where + rng.randint(1, 200)]
        elif kind == "insert":
            data[where:where] = rng.choice(NASTY)
        elif kind == "repeat":
            data[where:where] = data[where : where + rng.randint(1, 2000)] * rng.randint(2, 20)
        else:
            del data[where:]
    return bytes(data)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tokenizer_folder(tmp_path_factory.mktemp("fuzz-model"))


def mutated_file(tmp_path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    source = FILES[seed % len(FILES)]
    target = tmp_path / f"fuzz-{seed}{source.suffix}"
    target.write_bytes(mutate(source.read_bytes(), rng))
    return target


@pytest.mark.parametrize("seed", SEEDS)
def test_a_mutated_real_file_gets_a_json_report_not_a_traceback(seed, tmp_path, tiny_model, home, capsys):
    path = mutated_file(tmp_path, seed)
    code = cli.main(["data", "validate", str(path), "--model", str(tiny_model), "--max-length", "256", "--json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code in (0, 1, 2) and "Traceback" not in out + err
    assert isinstance(report["problems"], list) and report["total"] >= 0


@pytest.mark.parametrize("seed", [1000, 1001, 1002])
def test_the_real_command_on_a_mutated_file(seed, tmp_path, tiny_model, home):
    path = mutated_file(tmp_path, seed)
    command = [
        sys.executable,
        "-m",
        "workbench.cli",
        "data",
        "validate",
        str(path),
        "--model",
        str(tiny_model),
        "--json",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode in (0, 1, 2) and "Traceback" not in result.stderr
    json.loads(result.stdout)

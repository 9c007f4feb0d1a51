"""Mutated inputs give a result or UnreadableImage: never another exception, a hang, or a
runaway allocation. Runs `fuzz_worker` in a subprocess so its limits cannot touch pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _fuzz(examples: int, seed: int, timeout: int) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.pipeline.core.fuzz_worker",
            "--examples",
            str(examples),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert f"fuzz: {examples} inputs" in completed.stdout


def test_a_sample_of_mutated_images_is_handled() -> None:
    _fuzz(examples=200, seed=20261130, timeout=300)


@pytest.mark.slow
def test_ten_thousand_mutated_images_are_handled() -> None:
    _fuzz(examples=10_000, seed=1, timeout=6 * 3600)

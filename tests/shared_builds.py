"""Builds made once per test run and shared by every test that needs them, across pytest-xdist workers
too: a session fixture alone runs once per worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]


def shared_build(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory that `build(dir)` fills once per test run: the first worker to ask builds it while
    the others wait on a lock, then all read it. A build that failed is tried again by the next caller
    (and fails that test too), never taken as done."""
    root = factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # each worker's base is <run>/popen-gwN: the run's folder is shared
    out = root / "shared" / name
    out.parent.mkdir(exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if not (out / ".built").is_file():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            build(out)
            (out / ".built").touch()
    return out


def vit_digits(factory: pytest.TempPathFactory) -> Path:
    """examples/vit_digits.py run as shipped (about 25 s), once per run: vit.pt2 and
    vit_digits_{test,calib}.npz. Read it only: builds go elsewhere."""

    def train(out: Path) -> None:
        cmd = [sys.executable, str(ROOT / "examples" / "vit_digits.py"), "--out", "vit.pt2", "--quiet"]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}  # on a loaded machine torch's threads wait on each other
        subprocess.run(cmd, check=True, cwd=out, timeout=600, capture_output=True, env=env)

    return shared_build(factory, "vit_digits", train)

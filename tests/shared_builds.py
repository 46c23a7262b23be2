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


def disco_builds(factory: pytest.TempPathFactory) -> Path:
    """A small MLP (8 -> 16 -> 4) compiled for stm32f746g-disco twice, once per run: external/ with every
    weight in the kit's QSPI flash (--weights external: code at 0x08000000, weights at 0x90000000) and
    internal/ with none there (--weights auto, which keeps a model this small inside). Read them only."""

    def build(out: Path) -> None:
        import torch

        from edgexf.cli import main

        torch.manual_seed(0)
        mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4)).eval()
        torch.export.save(torch.export.export(mlp, (torch.randn(1, 8),)), out / "mlp.pt2")
        for name, weights in (("external", "external"), ("internal", "auto")):
            args = ["compile", str(out / "mlp.pt2"), "--board", "stm32f746g-disco", "--weights", weights]
            assert main([*args, "--exact-seconds", "0", "--max-vectors", "2", "-o", str(out / name)]) == 0

    return shared_build(factory, "disco_two_tier", build)

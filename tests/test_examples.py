"""The examples run end to end as a user would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edgexf.datasets import load_npz

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_vit_digits_writes_program_and_test_set(tmp_path):
    out = tmp_path / "models" / "vit.pt2"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "vit_digits.py"), "--out", str(out), "--epochs", "3", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"test accuracy: ([0-9.]+)", proc.stdout)
    assert match, proc.stdout
    assert 0.0 <= float(match.group(1)) <= 1.0
    test_npz = out.parent / "vit_digits_test.npz"
    assert str(out) in proc.stdout and str(test_npz) in proc.stdout

    x, y = load_npz(test_npz)
    assert x.shape == (360, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (360,)
    program = torch.export.load(out)
    logits = program.module()(torch.from_numpy(x[:1]))
    assert logits.shape == (1, 10)

"""The code stays ruff-clean (rules in pyproject.toml), so style does not drift between sessions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    dirs = [str(ROOT / d) for d in ("edgexf", "tests", "examples", "benchmarks")]
    result = subprocess.run([ruff, "check", "--no-cache", *dirs], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr

"""One table of exit statuses (errors.EXIT_CODES), the same in `edgexf --help`, the README and every
error class; an unexpected exception is one line for the user and a traceback in a file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import edgexf.targets.boards
from edgexf import errors
from edgexf.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _error_classes(cls=errors.EdgexfError) -> list[type]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _error_classes(sub))]


def test_every_error_class_has_a_status_in_the_table():
    for cls in _error_classes():
        assert cls.exit_code in errors.EXIT_CODES, cls


def test_the_readme_and_help_give_the_same_table(capsys):
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README.read_text(), re.M))
    assert {int(k): v for k, v in rows.items()} == errors.EXIT_CODES
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in errors.EXIT_CODES.items():
        assert f"{code} {meaning}" in text


def test_a_bug_is_one_line_and_a_saved_traceback(tmp_path, monkeypatch, capsys):
    def broken() -> list[str]:
        raise RuntimeError("an invariant edgexf relies on did not hold")

    monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(edgexf.targets.boards, "list_boards", broken)  # stands in for a real bug
    assert main(["boards"]) == errors.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.startswith("edgexf: internal error (a bug in edgexf, not in your input): RuntimeError: ")
    assert "Traceback" not in err
    (log,) = (tmp_path / "cache" / "crashes").glob("crash-*.log")
    assert f"the traceback is in {log}" in err
    assert "Traceback (most recent call last)" in log.read_text() and "in broken" in log.read_text()


def test_a_truncated_pt2_gets_edgexfs_message_alone(tmp_path):
    """In a process of its own: torch's logger writes to the real stderr, past pytest's capture."""
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(torch.nn.Linear(3, 2), (torch.randn(1, 3),)), path)
    path.write_bytes(path.read_bytes()[:200])
    cmd = [sys.executable, "-m", "edgexf.cli", "compile", str(path), "--board", "stm32f746", "-o", "b"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert "not a readable torch.export program" in done.stderr and "Traceback" not in done.stderr

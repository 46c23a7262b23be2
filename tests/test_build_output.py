"""A build directory is never half of two models: compile replaces it whole or not at all, one compile
at a time, and run refuses a build that was changed or cut short since (edgexf/build_output.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from filelock import FileLock

from edgexf.cli import main
from edgexf.datasets import save_npz


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """float.pt2 (8 -> 4) and other.pt2 (6 -> 3), and test data for each."""
    d = tmp_path_factory.mktemp("models")
    for name, (n, m) in {"float": (8, 4), "other": (6, 3)}.items():
        module = torch.nn.Sequential(torch.nn.Linear(n, m), torch.nn.GELU()).eval()
        torch.export.save(torch.export.export(module, (torch.randn(1, n),)), d / f"{name}.pt2")
        save_npz(
            d / f"{name}_test.npz", np.random.default_rng(0).standard_normal((4, 1, n)).astype(np.float32)
        )
    return d


def compile_args(models: Path, name: str, out: Path) -> list[str]:
    return [
        "compile",
        str(models / f"{name}.pt2"),
        "--board",
        "stm32f746",
        "-o",
        str(out),
        "--exact-seconds",
        "0",
    ]


@pytest.fixture(scope="module")
def build(models, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("builds") / "b"
    assert main([*compile_args(models, "float", out), "--test-data", str(models / "float_test.npz")]) == 0
    return out


def files_of(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_failed_compile_leaves_the_previous_build_whole(models, build, capsys):
    before = files_of(build)
    wrong = models / "float_test.npz"  # 8 inputs: the other model takes 6
    assert main([*compile_args(models, "other", build), "--test-data", str(wrong)]) == 2
    assert "does not hold samples of the model's input" in capsys.readouterr().err
    assert files_of(build) == before  # not one file of the other model
    assert [p.name for p in build.parent.iterdir() if p.name.startswith(".b.")] == [".b.lock"]
    assert main(["run", str(build), "--check"]) == 0


def test_a_compile_while_another_writes_the_directory_is_refused(models, build, capsys):
    with FileLock(build.parent / f".{build.name}.lock"):
        t0 = time.monotonic()
        assert main(compile_args(models, "other", build)) == 1
        assert time.monotonic() - t0 < 5  # at once, before loading anything
    err = capsys.readouterr().err
    assert f"another edgexf compile is writing {build}" in err and "wait for it" in err


def test_a_killed_compile_leaves_the_previous_build_and_the_next_compile_cleans_up(models, build, tmp_path):
    before = files_of(build)
    cmd = [sys.executable, "-m", "edgexf.cli", *compile_args(models, "other", build)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # killed once it has written part of the new build
        if line.startswith("[6/"):  # generating C
            time.sleep(0.5)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert files_of(build) == before
    assert main(["run", str(build), "--check"]) == 0
    partial = list(build.parent.glob(".b.partial-*"))
    assert partial  # what the killed compile left, hidden beside the build ...
    assert main(compile_args(models, "float", build)) == 0  # ... goes with the next compile into it
    assert not list(build.parent.glob(".b.partial-*"))


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("host/runner", "host/runner is missing"),
        ("emulator/app.elf", "emulator/app.elf is missing"),
        ("test_vectors.npz", "test_vectors.npz has"),
        ("report.json", "report.json has"),
        ("model/weights.c", "model/weights.c changed since compile"),
    ],
)
def test_run_names_what_is_missing_or_changed(models, build, tmp_path, capsys, damage, expected):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(build), str(copy)], check=True)
    path = copy / damage
    if damage.endswith(("runner", ".elf")):
        path.unlink()
    elif damage.endswith(".c"):
        path.write_bytes(path.read_bytes().replace(b"0.", b"1.", 1))  # same size, other bytes
    else:
        path.write_bytes(path.read_bytes()[:-7])  # cut short
    assert main(["run", str(copy), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("edgexf: error: ") and expected in err and "compile it again" in err.lower()
    assert "Traceback" not in err


def test_bad_output_paths_are_refused_before_any_work(models, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    t0 = time.monotonic()
    assert main(compile_args(models, "float", a_file)) == 2
    assert "is a file: give a directory" in capsys.readouterr().err
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(compile_args(models, "float", mine)) == 2
    assert "not an edgexf build" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me" and a_file.read_text() == "mine"
    assert main(compile_args(models, "float", a_file / "sub")) == 2  # its parent cannot be a folder
    assert "cannot create" in capsys.readouterr().err
    assert time.monotonic() - t0 < 5


def test_the_manifest_lists_every_file_compile_wrote(build):
    manifest = json.loads((build / "manifest.json").read_text())["files"]
    assert set(manifest) == set(files_of(build)) - {"manifest.json"}
    assert manifest["report.json"]["bytes"] == (build / "report.json").stat().st_size

"""What the CLI fuzzers share (tests/test_fuzz_cli_data.py, tests/test_fuzz_cli_builds.py): one small
int8 build made once per module, the command line run in-process with a deadline, and the rule every
run must keep: an exit status from the table that is not 70 (a bug), and no Python traceback.

Settings: a fixed number of examples, derandomized (the same examples on every run, so CI is
deterministic), no hypothesis database. EDGEXF_FUZZ_SCALE=10 runs ten times as many examples. What breaks
the rule is written to tests/data/fuzz_corpus/cli_*/ before the test fails; the corpus tests replay it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings

from edgexf.cli import main
from edgexf.errors import EXIT_CODES, INTERNAL_ERROR

CORPUS = Path(__file__).resolve().parent / "data" / "fuzz_corpus"
SCALE = int(os.environ.get("EDGEXF_FUZZ_SCALE", "1"))
STATUSES: dict[str, Counter] = defaultdict(Counter)  # command -> exit status -> runs: `pytest -s` prints it


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def fuzz(strategy, examples: int, check: Callable[[Any], None], keep: Callable[[Any], None]) -> None:
    """check(value) on `examples` values drawn from strategy. On a failure, keep(value) for the smallest
    failing value (hypothesis replays it last, after shrinking) and raise."""
    failed = []

    @fuzz_settings(examples)
    @given(strategy)
    def one(value):
        try:
            check(value)
        except BaseException:
            failed.append(value)
            raise

    try:
        one()
    except BaseException:
        if failed:  # else the strategy itself failed
            keep(failed[-1])
        raise
    print(f"exit statuses of all runs so far: {dict(STATUSES)}")  # pytest -s shows it


class Hang(BaseException):
    """A command ran past its deadline (BaseException: main's own handlers must not catch it)."""


@dataclass
class Outcome:
    code: int
    err: str
    out: str


def run_cli(argv: list[str], seconds: float = 60) -> Outcome:
    """main(argv) in this process, its stdout and stderr captured; Hang past `seconds`."""

    def alarm(*_):
        raise Hang(f"edgexf {' '.join(argv)} ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            # numpy's warnings print over edgexf's messages (a NaN cast, an overflow): here they fail
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            code = main(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return Outcome(code, err.getvalue(), out.getvalue())


def assert_clean(outcome: Outcome, argv: list[str]) -> None:
    """The rule: a status from the table, not the internal-error one, and no traceback."""
    STATUSES[argv[0]][outcome.code] += 1
    where = f"edgexf {' '.join(argv)} -> {outcome.code}\n{outcome.err[-3000:]}"
    assert outcome.code != INTERNAL_ERROR, where
    assert outcome.code in EXIT_CODES, where
    assert "Traceback (most recent call last)" not in outcome.err + outcome.out, where
    if outcome.code != 0:
        assert "edgexf: error: " in outcome.err, where


def files_of(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@dataclass
class Fixture:
    model: Path  # tiny.pt2: (1, 8) -> (1, 4)
    calibration: Path  # x (20, 1, 8)
    test_data: Path  # x (6, 1, 8), y (6,)
    build: Path  # the int8 build, compiled once: copy it before damaging it


def make_fixture(root: Path) -> Fixture:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU()).eval()
    model = root / "tiny.pt2"
    torch.export.save(torch.export.export(module, (torch.randn(1, 8),)), model)
    rng = np.random.default_rng(0)
    np.savez(root / "calib.npz", x=rng.standard_normal((20, 1, 8)).astype(np.float32))
    np.savez(root / "test.npz", x=rng.standard_normal((6, 1, 8)).astype(np.float32), y=np.arange(6) % 4)
    build = root / "build"
    data = ["--calibration", str(root / "calib.npz"), "--test-data", str(root / "test.npz")]
    argv = ["compile", str(model), "--board", "stm32f746", "-o", str(build), "--exact-seconds", "0",
            "--quantize", "int8", *data]  # fmt: skip
    outcome = run_cli(argv, 300)
    assert outcome.code == 0, outcome.err
    return Fixture(model, root / "calib.npz", root / "test.npz", build)


def copy_build(fixture: Fixture, to: Path) -> Path:
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(fixture.build, to, symlinks=True)
    return to

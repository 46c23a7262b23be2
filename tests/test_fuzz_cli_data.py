"""Data files from hypothesis given to every command that takes one: `compile --test-data`,
`compile --quantize int8 --calibration`, `run --input` and `eval --emulate --data`. Whatever the file
holds (any shape, 0-d, empty; float64, float16, int, bool, complex, strings, objects, datetimes; NaN,
inf, values past float32; labels of any length and type; a truncated, flipped, empty or non-npz file; a
zip member declaring a huge array in a few bytes), the command ends with a status from the table, not 70
and not a traceback, within its deadline, and a compile that fails leaves the previous build byte for
byte (one that succeeds leaves a whole one).

A file that breaks the rule is kept in tests/data/fuzz_corpus/cli_data/ as TARGET-HASH.npz;
test_corpus_replays runs each against its target.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_fuzz import (
    CORPUS,
    Fixture,
    assert_clean,
    copy_build,
    files_of,
    fuzz,
    make_fixture,
    run_cli,
)
from hypothesis import strategies as st

from edgexf.build_output import verify_build

KEPT = CORPUS / "cli_data"
DTYPES = ["float32", "float64", "float16", "int8", "int64", "uint8", "bool", "complex64", "<U3", "object",
          "datetime64[s]"]  # fmt: skip
SPECIAL = [np.nan, np.inf, -np.inf, 1e300, -3e38, 0.0]
MODEL_SHAPES = [(1, 8), (8,), (1, 1, 8), (5, 1, 8), (3, 8), (0, 1, 8)]  # samples of the (1, 8) input, or not


@st.composite
def arrays(draw, first_dim: int | None = None) -> np.ndarray:
    if first_dim is not None and draw(st.booleans()):
        shape = (first_dim,)
    elif draw(st.integers(0, 2)) == 0:
        shape = draw(st.sampled_from(MODEL_SHAPES))
    else:
        shape = tuple(draw(st.lists(st.integers(0, 9), max_size=4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = np.asarray(rng.standard_normal(shape) * draw(st.sampled_from([1.0, 1e3, 1e40])))
    if a.size and draw(st.booleans()):
        a.reshape(-1)[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(SPECIAL))
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(all="ignore"):
        if dtype == "datetime64[s]":
            return np.nan_to_num(a, posinf=0, neginf=0).astype(np.int64).astype(dtype)
        return a.astype(dtype) if dtype != "<U3" else a.astype(str).astype(dtype)


def npz_bytes(named: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **named)
    return buf.getvalue()


def huge_member(shape: tuple[int, ...]) -> bytes:
    """An .npz whose x.npy declares `shape` (float32) but holds 16 bytes of data."""
    header = repr({"descr": "<f4", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(16)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", npy)
    return buf.getvalue()


@st.composite
def data_files(draw) -> bytes:
    """The bytes of a file given as FILE.npz."""
    kinds = ["npz"] * 4 + ["samples"] * 3 + ["truncated", "flipped", "npy", "bytes", "empty", "huge"]
    kind = draw(st.sampled_from(kinds))
    if kind == "samples":  # the model's samples, with labels that may be anything
        n = draw(st.integers(1, 4))
        x = np.random.default_rng(n).standard_normal((n, 1, 8)).astype(np.float32)
        labels = st.one_of(arrays(first_dim=n), st.lists(st.integers(-5, 2**40), min_size=n, max_size=n))
        return npz_bytes({"x": x, "y": np.asarray(draw(labels))} if draw(st.booleans()) else {"x": x})
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "empty":
        return b""
    if kind == "huge":
        dims = st.sampled_from([0, 1, 8, 2**20, 2**31, 2**40])
        return huge_member(tuple(draw(st.lists(dims, min_size=1, max_size=3))))
    x = draw(arrays())
    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, x)
        return buf.getvalue()
    named = {"x": x} if draw(st.integers(0, 9)) else {"X": x}
    if draw(st.booleans()):  # labels: as many as the samples, or not, of any type
        named["y"] = draw(arrays(first_dim=len(x) + draw(st.sampled_from([0, 0, 0, 1, -1])) if x.ndim else 1))
    data = npz_bytes(named)
    if kind == "truncated":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flipped":
        flipped = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            flipped[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(flipped)
    return data


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> Fixture:
    return make_fixture(tmp_path_factory.mktemp("fuzz_data"))


def target_argv(target: str, fx: Fixture, data: Path, out: Path) -> list[str]:
    compile_ = ["compile", str(fx.model), "--board", "stm32f746", "-o", str(out), "--exact-seconds", "0"]
    return {
        "compile-test-data": [*compile_, "--test-data", str(data)],
        "compile-calibration": [*compile_, "--quantize", "int8", "--calibration", str(data)],
        "run-input": ["run", str(out), "--input", str(data), "--timeout", "20"],
        "eval-data": ["eval", str(out), "--emulate", "--data", str(data), "--limit", "3", "--timeout", "3"],
    }[target]


def check(target: str, fx: Fixture, data: bytes, work: Path) -> None:
    """The rule for one data file given to one target; a file that breaks it is kept in the corpus."""
    path = work / "data.npz"
    path.write_bytes(data)
    out = work / "build"
    if not out.exists():
        copy_build(fx, out)
    before = files_of(out) if target.startswith("compile") else None
    argv = target_argv(target, fx, path, out)
    outcome = run_cli(argv, 120)
    assert_clean(outcome, argv)
    if before is not None and outcome.code != 0:  # the previous build, byte for byte, and no leftovers
        assert files_of(out) == before
        assert [p.name for p in work.iterdir() if p.name.startswith(".build.")] == [".build.lock"]
    elif before is not None:
        verify_build(out)


TARGETS = {"compile-test-data": 20, "compile-calibration": 15, "run-input": 100, "eval-data": 25}  # examples


@pytest.mark.parametrize("target", list(TARGETS))
def test_data_files(fx, tmp_path, target):
    def keep(data: bytes) -> None:
        KEPT.mkdir(parents=True, exist_ok=True)
        (KEPT / f"{target}-{hashlib.sha1(data).hexdigest()[:12]}.npz").write_bytes(data)

    fuzz(data_files(), TARGETS[target], lambda data: check(target, fx, data, tmp_path), keep)


@pytest.mark.parametrize("path", sorted(KEPT.glob("*.npz")), ids=lambda p: p.name)
def test_corpus_replays(fx, tmp_path, path):
    check(path.name.rsplit("-", 1)[0], fx, path.read_bytes(), tmp_path)

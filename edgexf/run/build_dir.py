"""Run a build directory made by `edgexf compile`: on the host, or its firmware in QEMU."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgexf.build_output import verify_build
from edgexf.datasets import as_samples, read_arrays
from edgexf.errors import DataError, EdgexfError, RunError
from edgexf.ir.graph import DTYPES
from edgexf.run.common import RunResult
from edgexf.run.host import run_host
from edgexf.run.qemu import run_qemu
from edgexf.run.report_schema import check_report
from edgexf.run.vectors import Agreement, TestVectors, compare, encode_inputs
from edgexf.targets.boards import load_board

REPORT_FILE = "report.json"


@dataclass
class BuildRun:
    outputs: np.ndarray  # (S, *output shape)
    result: RunResult
    agreement: Agreement | None  # with --check


def read_report(build_dir: Path) -> dict:
    """report.json of a build directory checked whole against its manifest (build_output.py)."""
    path = Path(build_dir) / REPORT_FILE
    if not path.is_file():
        raise EdgexfError(
            f"{build_dir} is not an edgexf build directory (no {REPORT_FILE}); "
            "make one with: edgexf compile MODEL --board BOARD -o DIR"
        )
    try:
        report = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        report = None
    command = report.get("command") if isinstance(report, dict) else None
    verify_build(build_dir, command if isinstance(command, str) else "")
    check_report(report, str(path))  # the fields and types the commands read
    return report


def load_inputs(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A .npy array, or an .npz with array x: one sample of the input's shape, or a batch of them."""
    read = read_arrays(path, "input file", ("x",))
    if isinstance(read, tuple) and "x" not in read[0]:
        raise DataError(f"{path}: not a .npy array or an .npz with an array 'x' (it has {sorted(read[1])})")
    return as_samples(read[0]["x"] if isinstance(read, tuple) else read, shape, str(path))


def run_build(
    build_dir: Path,
    emulate: bool,
    inputs: np.ndarray | None = None,
    check: bool = False,
    timeout: float = 600,
) -> BuildRun:
    build_dir = Path(build_dir)
    report = read_report(build_dir)
    (inp,), (out,) = report["inputs"], report["outputs"]
    out_shape = tuple(out["shape"])
    vectors = TestVectors.load(build_dir) if check or inputs is None else None
    x = vectors.x if inputs is None else inputs
    data = encode_inputs(x, inp).tobytes()
    if emulate:
        board = load_board(report["board"])
        if not report["files"].get("emulator_elf"):
            raise RunError(f"board {board.name} has no emulator, so this build has no firmware for QEMU")
        result = run_qemu(board, build_dir / report["files"]["emulator_elf"], data, out["bytes"], timeout)
    else:
        result = run_host(build_dir / report["files"]["host"], data, out["bytes"], timeout)
    outputs = np.frombuffer(result.outputs, DTYPES[out["dtype"]]).reshape((len(x),) + out_shape)
    approximation = report.get("approximation") or ""
    original = report.get("original") or "PyTorch"
    agreement = None
    if check and inputs is None:  # original_int8: it ran the same int8 file (an int8 .tflite)
        same_file = bool(report.get("original_int8"))
        agreement = compare(outputs, vectors, out, approximation, original, same_file)
    if check and inputs is not None:
        raise EdgexfError("--check runs the build's saved test vectors; leave out --input")
    return BuildRun(outputs, result, agreement)

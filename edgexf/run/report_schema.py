"""The parts of report.json that run, eval, flash, layers and --profile read, and their types, checked
once when a build is read (build_dir.read_report), so a report of another shape (written by another
edgexf, or edited and its manifest written again) is one message naming the field, not a KeyError or
TypeError from deep inside a command.

A spec is a type (str, int, float, bool, dict, list), a dict of required keys -> specs, a one-item list
[spec] (a list whose items all match), Opt(spec) (the key may be missing or null), OneOf(values) or
Where(spec, test, what) (a spec plus a condition). Fields no command reads are not checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from edgexf.errors import EdgexfError
from edgexf.ir.graph import DTYPES


@dataclass(frozen=True)
class Opt:
    spec: Any


@dataclass(frozen=True)
class OneOf:
    values: tuple


@dataclass(frozen=True)
class Where:
    spec: Any
    test: Any
    what: str


def _inside(p: str) -> bool:  # a path relative to the build directory that stays in it
    path = PurePosixPath(p)
    return bool(p) and not path.is_absolute() and ".." not in path.parts


COUNT = Where(int, lambda n: n >= 0, "a count (0 or more)")
FILE = Where(str, _inside, "a path inside the build directory")
IO = Where(
    {
        "shape": Where([COUNT], lambda s: len(s) > 0, "a list of dimensions"),
        "dtype": OneOf(tuple(DTYPES)),
        "bytes": COUNT,
        "quant": Opt({"scale": Where(float, lambda s: math.isfinite(s) and s > 0, "a positive number"),
                      "zero_point": int}),
    },
    lambda io: io["bytes"] == math.prod(io["shape"]) * np.dtype(DTYPES[io["dtype"]]).itemsize
    and (io["dtype"] not in ("int8", "int16") or io.get("quant") is not None),
    "a tensor whose bytes are its shape's elements times its dtype's size (int8, int16: with a quant)",
)  # fmt: skip
LAYER = {"layer": str, "op": str, "dtype": str, "cosine": float, "rmse": float, "relative_rmse": float}
REPORT = {
    "command": Opt(str),
    "model": str,
    "model_hash": str,
    "source": str,
    "board": str,
    "macs": COUNT,
    "arena_bytes": COUNT,
    "ops": Opt([{"index": COUNT, "name": str, "type": str, "macs": COUNT}]),
    "kernels": {"used": str},
    "inputs": Where([IO], lambda v: len(v) == 1, "a list of one input"),
    "outputs": Where([IO], lambda v: len(v) == 1, "a list of one output"),
    "files": {"sources": FILE, "host": FILE, "emulator_elf": Opt(FILE), "eval_elf": Opt(FILE),
              "eval_bin": Opt(FILE), "eval_ext_bin": Opt(FILE), "eval_emulator_elf": Opt(FILE)},
    "eval": Opt({"why_not": Opt(str)}),
    "approximation": Opt(str),
    "original": Opt(str),
    "original_int8": Opt(bool),
    "streaming": Opt({"state_bytes": COUNT}),
    "quantization": Opt({"dtype": str, "calibration": {"file": Opt(str), "method": str},
                         "layer_error_samples": Opt(COUNT), "layers": Opt([LAYER])}),
}  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(value: Any, spec: Any, where: str) -> str | None:
    """None when value matches spec, else what is wrong and where."""
    if isinstance(spec, Opt):
        return None if value is None else _problem(value, spec.spec, where)
    if isinstance(spec, OneOf):
        ok = value in spec.values
        return None if ok else f"{where} is {_short(value)}, not one of {', '.join(spec.values)}"
    if isinstance(spec, Where):
        return _problem(value, spec.spec, where) or (
            None if spec.test(value) else f"{where} is {_short(value)}, not {spec.what}"
        )
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where} is {type(value).__name__}, not an object"
        for key, sub in spec.items():
            if key not in value and not isinstance(sub, Opt):
                return f"{where}.{key} is missing"
            found = _problem(value.get(key), sub, f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} is {type(value).__name__}, not a list"
        return next((p for i, v in enumerate(value) if (p := _problem(v, spec[0], f"{where}[{i}]"))), None)
    ok = isinstance(value, spec) and not (isinstance(value, bool) and spec is not bool)
    if spec is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return None if ok else f"{where} is {type(value).__name__}, not {spec.__name__}"


def check_report(report: Any, path: str) -> None:
    """EdgexfError naming the first field of report.json that is not as this edgexf reads it."""
    problem = _problem(report, REPORT, "report")
    if problem:
        raise EdgexfError(
            f"{path} is not a report this edgexf can read ({problem}): it was written by another "
            "version of edgexf or edited since compile; compile the build again"
        )

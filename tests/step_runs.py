"""Every step of a streaming build's model, run on the host (gcc) or in QEMU by tests/data/step_runner.c:
each step's output and its instructions (QEMU) or ns (host), where `edgexf run` gives the last step's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgexf.ir.graph import DTYPES
from edgexf.resources import firmware_dir
from edgexf.run.common import run_vectors
from edgexf.run.qemu import run_qemu
from edgexf.run.vectors import encode_inputs
from edgexf.targets.boards import load_board
from edgexf.targets.objcache import compile_objects
from edgexf.targets.toolchain import (
    COMMON_CFLAGS,
    find_tool,
    include_flags,
    link_firmware,
    model_sources,
    run_compiler,
)

RUNNER = Path(__file__).parent / "data" / "step_runner.c"


def run_every_step(build: Path, x: np.ndarray, emulate: bool) -> tuple[np.ndarray, list[int]]:
    """x: sequences (S, *input io_shape) in float32 (quantized here for an int8 build) -> every step's
    output (S, T, *output shape) in the output's dtype, and each step's instructions (QEMU) or ns."""
    report = json.loads((build / "report.json").read_text())
    inp, out = report["inputs"][0], report["outputs"][0]
    data = encode_inputs(np.asarray(x, np.float32), inp).tobytes()
    model_dir, out_bytes = build / "model", out["bytes"]
    if emulate:
        board = load_board(report["board"])
        fw = firmware_dir()
        # the model as compile built it for the board's images (firmware/obj/), the runner compiled here
        objects = [build / "firmware" / "obj" / f"{s.stem}.o" for s in model_sources(model_dir)]
        sources = [*objects, RUNNER, fw / "platform" / "platform_semihost.c", fw / "startup" / "startup.c",
                   fw / "startup" / "semihost.c"]  # fmt: skip
        flags = include_flags(model_dir, "platform", "startup")
        elf = link_firmware(board, sources, flags, build / "step_runner", True, "the step runner").elf
        result = run_qemu(board, elf, data, out_bytes, timeout=300)
        counts = result.instructions
    else:
        gcc, out_dir = find_tool("gcc"), build / "step_runner_host"
        sources = [*model_sources(model_dir), RUNNER, firmware_dir() / "platform" / "platform_host.c"]
        flags = [*COMMON_CFLAGS, *include_flags(model_dir, "platform")]
        objects = compile_objects(gcc, flags, sources, out_dir, "the host step runner", _run_in)
        exe = out_dir / "runner"
        run_compiler([gcc, *objects, "-o", exe, "-lm"], "linking the host step runner")
        result = run_vectors([str(exe)], "the host step runner", data, out_bytes, timeout=120)
        counts = result.ticks
    y = np.frombuffer(result.outputs, DTYPES[out["dtype"]])
    return y.reshape(len(x), -1, *out["shape"]), counts


def _run_in(cmd: list, what: str, cwd: Path) -> None:
    run_compiler(cmd, what, cwd=cwd)

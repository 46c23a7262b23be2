"""The compiler, start to end, as one readable list of steps (`edgexf compile` calls compile_model).

Each step's output is a checked stage: a float Graph (verified by every pass), a MemoryPlan
(verified when planned), GeneratedSources (kernels checked to exist), Firmware (linked, sized).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgexf import __version__
from edgexf.codegen.generate import count_params, generate_c
from edgexf.datasets import load_npz
from edgexf.errors import DoesNotFitError, MismatchError
from edgexf.frontends import LoadedModel, load_model
from edgexf.ir.ops import op_macs
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import plan_memory
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.run.build_dir import REPORT_FILE
from edgexf.run.host import run_host
from edgexf.run.vectors import TestVectors, as_samples, compare
from edgexf.targets.boards import Board, load_board
from edgexf.targets.size import elf_sizes
from edgexf.targets.toolchain import _does_not_fit, build_firmware, build_host, find_tool

DEFAULT_VECTORS = 16  # random test vectors when no data set is given


def compile_model(
    model: str | Path,
    board_name: str,
    out_dir: Path,
    *,
    test_data: Path | None = None,
    max_vectors: int | None = None,
    name: str | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
) -> dict:
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    step = _Steps(log)

    step("checking board and tools")
    board = load_board(board_name)  # fail before any work on a bad board name
    for tool in ("gcc", "arm-none-eabi-gcc", "qemu-system-arm"):
        find_tool(tool)

    step(f"loading {model}")
    loaded = load_model(model, name)

    step("optimizing the graph")
    g = fold_constants(loaded.graph)  # before planning: constant results go to flash, not the arena
    g = remove_dead_ops(g)  # e.g. the unused parts of an unbind

    step("planning memory")
    plan = plan_memory(g)  # greedy by size, verified: no two live buffers share a byte
    _check_fits_estimate(board, g, plan)  # before code generation: fail fast with the model's figures

    step("generating C")
    meta = {"command": command or "edgexf compile", "source": str(model), "board": board.name}
    sources = generate_c(g, plan, out_dir / "model", meta)

    step("building for the host (gcc)")
    host_exe = build_host(sources.dir, out_dir / "host")

    step(f"building firmware for {board.name} (arm-none-eabi-gcc)")
    try:
        firmware = build_firmware(board, sources.dir, out_dir / "firmware", emulated=False)
        emulated = (
            build_firmware(board, sources.dir, out_dir / "emulator", emulated=True)
            if board.emulator
            else None
        )
    except DoesNotFitError as e:
        raise DoesNotFitError(f"{e}\n{_breakdown(sources.weights_bytes, plan)}") from None
    memory = elf_sizes(firmware.elf, board)

    step("making test vectors (PyTorch and the IR reference)")
    vectors = _test_vectors(loaded, g, test_data, max_vectors)
    vectors.save(out_dir)

    step("checking the host build against them")
    out_bytes = g.tensors[g.outputs[0]].nbytes
    result = run_host(host_exe, np.ascontiguousarray(vectors.x, np.float32).tobytes(), out_bytes, timeout=300)
    outputs = np.frombuffer(result.outputs, np.float32).reshape(vectors.reference.shape)
    host_check = compare(outputs, vectors)
    if not host_check.ok:
        raise MismatchError(f"the host build disagrees with the reference:\n{host_check.describe()}")

    report = {
        "edgexf_version": __version__,
        "command": meta["command"],
        "model": g.name,
        "source": str(model),
        "board": board.name,
        "params": count_params(g),
        "macs": sum(op_macs(g, op) for op in g.ops),
        "ops": len(g.ops),
        "weights_bytes": sources.weights_bytes,
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "activations_sum_bytes": plan.naive_bytes,
        "planner": plan.planner,
        "flash_bytes": memory.flash_bytes,
        "ram_bytes": memory.ram_bytes,
        "flash_capacity_bytes": board.flash.size,
        "ram_capacity_bytes": board.ram.size,
        "stack_bytes": board.stack_bytes,
        "sections": memory.sections,
        "inputs": [_io(g, n) for n in g.inputs],
        "outputs": [_io(g, n) for n in g.outputs],
        "files": {
            "sources": str(sources.dir.relative_to(out_dir)),
            "host": str(host_exe.relative_to(out_dir)),
            "firmware_elf": str(firmware.elf.relative_to(out_dir)),
            "firmware_bin": str(firmware.bin.relative_to(out_dir)),
            "firmware_hex": str(firmware.hex.relative_to(out_dir)),
            "emulator_elf": str(emulated.elf.relative_to(out_dir)) if emulated else None,
            "test_vectors": "test_vectors.npz",
        },
        "host_check": host_check.to_dict(),
        "host_ns_per_inference": float(np.median(result.ticks)) if result.ticks else None,
        "compile_seconds": round(time.perf_counter() - t0, 2),
    }
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "memory_plan.json").write_text(json.dumps(plan.to_dict(), indent=1) + "\n")
    return report


class _Steps:
    """Numbered progress lines: "[3/9] optimizing the graph"."""

    TOTAL = 9  # the step() calls in compile_model

    def __init__(self, log: Callable[[str], None]):
        self.log, self.n = log, 0

    def __call__(self, what: str) -> None:
        self.n += 1
        self.log(f"[{self.n}/{self.TOTAL}] {what}")


def _io(g, name: str) -> dict:
    t = g.tensors[name]
    return {"name": name, "shape": list(t.shape), "dtype": t.dtype, "bytes": t.nbytes}


def _breakdown(weights_bytes: int, plan) -> str:
    return (
        f"  model: weights {weights_bytes:,} B (flash); arena {plan.arena_bytes:,} B (RAM; lower bound "
        f"{plan.lower_bound_bytes:,} B)"
    )


def _check_fits_estimate(board: Board, g, plan) -> None:
    """Weights alone against flash, arena plus stack alone against RAM: a sure overflow is reported now."""
    weights = sum(t.nbytes for t in g.constants())
    over = {}
    if weights > board.flash.size:
        over["FLASH"] = weights - board.flash.size
    if plan.arena_bytes + board.stack_bytes > board.ram.size:
        over["RAM"] = plan.arena_bytes + board.stack_bytes - board.ram.size
    if over:
        raise DoesNotFitError(
            f"{_does_not_fit(board, over)}\n{_breakdown(weights, plan)}\n"
            "  (at least: code and the C library need a little more)"
        )


def _test_vectors(loaded: LoadedModel, g, test_data: Path | None, max_vectors: int | None) -> TestVectors:
    shape = g.tensors[g.inputs[0]].shape
    labels = None
    if test_data is not None:
        x, labels = load_npz(test_data)
        x = as_samples(x, shape, f"{test_data} (array x)")
    else:
        rng = np.random.default_rng(0)
        x = np.concatenate(
            [
                loaded.example_input.reshape((1,) + shape).astype(np.float32),
                rng.standard_normal((DEFAULT_VECTORS - 1,) + shape, dtype=np.float32),
            ]
        )
    if max_vectors is not None:
        x = x[:max_vectors]
        labels = labels[:max_vectors] if labels is not None else None
    expected = loaded.original(x).reshape((len(x),) + g.tensors[g.outputs[0]].shape)
    reference = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    return TestVectors(x, expected.astype(np.float32), reference, labels)

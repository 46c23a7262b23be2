"""What a candidate model costs on a board, measured as `edgexf compile --quantize int8` would build it.

    graph = lower(module, example)                      # torch.export -> IR, constants folded
    sizes = measure_graph(graph, x_calib, board)        # int8 weights, where they go, the planned arena
    overhead = measure_overhead(graph, x_calib, board, work_dir)   # a real build: code, runtime, .data
    flash, ram = sizes.flash_bytes(overhead), sizes.ram_bytes(board, overhead)

The steps are pipeline.compile_model's, in its order (quantize, fuse, select_kernels, plan_memory, then
place_weights: on a board with external flash the weights that outgrow the internal flash go there, by
compile's rule, edgexf/targets/placement.py), without code generation and the build, so a candidate takes
seconds. The int8 sizes do not depend on the
calibrated ranges (only on shapes), so a few hundred samples are plenty. Code and runtime overhead (the
kernels, the runner, startup, libc, .data) is not a formula either: `measure_overhead` builds one
candidate's firmware with arm-none-eabi-gcc, linked against a copy of the board with room to spare, and
takes the ELF's flash minus the weights and RAM minus arena and stack. The low-rank candidates use the
same kernels as the dense model, so one build serves them all; `edgexf fit` checks the winner's real
build against the board at the end.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from edgexf.codegen.generate import generate_c, weight_bytes
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.datasets import as_samples
from edgexf.frontends import from_program
from edgexf.ir.graph import Graph
from edgexf.ir.ops import count_params
from edgexf.passes.optimize import optimize
from edgexf.pipeline import MemoryOptions, plan_for_board
from edgexf.targets.boards import Board, Region
from edgexf.targets.placement import place_weights
from edgexf.targets.size import elf_sizes
from edgexf.targets.toolchain import build_firmware

MEASURE_EXACT_TIME_S = 1.0  # the exact planner's time per candidate (compile's default is 5 s)
_ROOM = 64 << 20  # flash and RAM of the roomy board copy the overhead build is linked for


@dataclass(frozen=True)
class Sizes:
    """One candidate, int8, as compile would plan it."""

    params: int  # all constants of the float graph (weights, biases, embeddings)
    weights_bytes: int  # the int8 graph's constants: what weights.c puts in flash
    arena_bytes: int
    arena_lower_bound_bytes: int
    planner: str
    seconds: float
    # where compile's --weights rule puts them (16-byte aligned arrays): the internal flash and the
    # board's external flash (tier: its name; None without one), and how many tensors go outside
    internal_weights_bytes: int = 0
    external_weights_bytes: int = 0
    external_tensors: int = 0
    tier: str | None = None

    def flash_bytes(self, overhead: Overhead) -> int:
        """All flash: internal and external."""
        return self.weights_bytes + overhead.flash_bytes

    def internal_flash_bytes(self, overhead: Overhead) -> int:
        return self.flash_bytes(overhead) - self.external_weights_bytes

    def weights_in(self) -> str:
        """Which memories hold the weights: 'flash', 'qspi', or 'flash + qspi (3 tensors)'."""
        if not self.external_weights_bytes:
            return "flash"
        n = self.external_tensors
        if self.internal_weights_bytes == 0:
            return self.tier or "external"
        return f"flash + {self.tier} ({n} tensor{'s' * (n != 1)})"

    def ram_bytes(self, board: Board, overhead: Overhead) -> int:
        return self.arena_bytes + board.stack_bytes + overhead.ram_bytes

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Overhead:
    """What a build adds to the weights (flash) and to arena + stack (RAM), from a real ELF."""

    flash_bytes: int  # vector table, code, tables, .data's load image
    ram_bytes: int  # .data, .bss other than the arena, alignment
    measured_on: str  # which candidate was built
    elf_flash_bytes: int
    elf_ram_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


def lower(module: torch.nn.Module, example: torch.Tensor, name: str = "candidate") -> Graph:
    """The float IR graph of `module`, as compile loads it (torch.export, then passes/optimize.py)."""
    ep = torch.export.export(module.eval(), (example,))
    graph = from_program(ep, name, name).graph
    return optimize(graph)


def quantize_and_plan(
    graph: Graph,
    x_calib: np.ndarray,
    board: Board,
    kernels: str = "auto",
    exact_time_s: float = MEASURE_EXACT_TIME_S,
):
    """(int8 graph, memory plan): pipeline.compile_model's steps from quantization to planning."""
    x = as_samples(x_calib, graph.tensors[graph.inputs[0]].shape, "calibration data (array x)")
    ranges = calibrate(graph, x, "minmax", 99.99, progress=False)  # compile's defaults
    g = quantize_graph(graph, ranges, ()).graph
    # int8 weights: a candidate's flash is what it needs at least (compile widens them only where they fit)
    g, _, _, _, plan = plan_for_board(g, board, kernels, MemoryOptions(exact_time_s=exact_time_s), "int8")
    return g, plan


def measure_graph(
    graph: Graph,
    x_calib: np.ndarray,
    board: Board,
    kernels: str = "auto",
    exact_time_s: float = MEASURE_EXACT_TIME_S,
    weights: str = "auto",
) -> Sizes:
    """weights: compile's --weights (auto, internal, external): where the weights go."""
    t0 = time.perf_counter()
    g, plan = quantize_and_plan(graph, x_calib, board, kernels, exact_time_s)
    placement = place_weights(weight_bytes(g), board, weights)
    return Sizes(
        params=count_params(graph),
        weights_bytes=sum(t.nbytes for t in g.constants()),
        arena_bytes=plan.arena_bytes,
        arena_lower_bound_bytes=plan.lower_bound_bytes,
        planner=plan.planner,
        seconds=round(time.perf_counter() - t0, 2),
        internal_weights_bytes=placement.internal_bytes,
        external_weights_bytes=placement.external_bytes,
        external_tensors=len(placement.external),
        tier=placement.tier.name if placement.tier else None,
    )


def roomy(board: Board) -> Board:
    """The board with 64 MB of flash and of RAM at the same origins: any candidate links, so its ELF
    can be measured. Only for measuring; never flash or run what is linked for it."""
    return replace(board, flash=Region(board.flash.origin, _ROOM), ram=Region(board.ram.origin, _ROOM))


def measure_overhead(
    graph: Graph,
    x_calib: np.ndarray,
    board: Board,
    work_dir: Path,
    name: str = "candidate",
    kernels: str = "auto",
) -> Overhead:
    """Generate and build the candidate's runner firmware (as compile does, for the board, not its
    emulator) and read what the build adds to weights and arena. About a second per 100 KB of weights."""
    g, plan = quantize_and_plan(graph, x_calib, board, kernels, exact_time_s=0)
    weights = sum(t.nbytes for t in g.constants())
    meta = {"command": "edgexf fit (overhead build)", "source": name, "board": board.name}
    sources = generate_c(g, plan, Path(work_dir) / "model", meta)
    big = roomy(board)
    firmware = build_firmware(big, sources.dir, Path(work_dir) / "firmware", False)
    use = elf_sizes(firmware.elf, big)
    return Overhead(
        flash_bytes=use.flash_bytes - weights,
        ram_bytes=use.ram_bytes - plan.arena_bytes - board.stack_bytes,
        measured_on=name,
        elf_flash_bytes=use.flash_bytes,
        elf_ram_bytes=use.ram_bytes,
    )

"""Where each weight tensor goes: the internal flash or the board's external flash (`--weights`).

    internal  every weight in the internal flash: edgexf's behaviour before memory tiers
    external  every weight in the external tier (the board's first read-only [[external]] memory)
    auto      (default) all in the internal flash while they fit it less CODE_RESERVE_BYTES (code and
              model.c's own tables); else the largest tensors move to the external
              tier, one at a time, until the rest fit. Largest first moves the fewest tensors (ties: by
              name, so the choice repeats).

A board without an external tier keeps every weight inside (auto), and refuses `external`.

The rule is chosen for simplicity, not speed. QEMU does not model the QSPI flash's latency (RAM stands
in for it), so no measurement here could tell placements apart. On the board, memory-mapped QSPI reads
cost more cycles per byte than the internal flash's (how many depends on the QUADSPI clock, the cache
and the access pattern; not measured here). A latency model, cycles per byte of each tier and
bytes read per inference for each tensor (a token MLP's weights are read once per token, a recurrent
model's once per step), would change the rule: keep the tensors read most per byte inside and move those
read least, which is not always the largest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgexf.errors import BoardError, DoesNotFitError
from edgexf.targets.arena import ArenaPlacement, arena_overflows, check_stand_in
from edgexf.targets.boards import Board, MemoryTier
from edgexf.targets.does_not_fit import does_not_fit
from edgexf.targets.tiers import EXTERNAL_SECTION

if TYPE_CHECKING:  # annotations only: the command line imports this module for its --weights help
    from edgexf.ir.graph import Graph
    from edgexf.memory.plan import MemoryPlan

WEIGHT_MODES = ("auto", "internal", "external")
# Internal flash that auto leaves for everything but the weights: code, kernels, the C library, model.c's
# tables and requantization terms. The digits ViT's images take 10 KB (float32) to 38 KB (int8 with the
# DSP kernels) besides their weights, runner and evaluation firmware alike; 64 KB leaves room for a
# larger model's tables. A build that needs more fails to link, naming the flash overflow, and
# --weights external then helps.
CODE_RESERVE_BYTES = 64 << 10
ARRAY_ALIGN = 16  # weights.c aligns every array to 16 bytes


@dataclass(frozen=True)
class Placement:
    mode: str
    tier: MemoryTier | None  # where external weights go; None: the board has no external flash
    external: tuple[str, ...]  # tensors in the tier, largest first
    internal_bytes: int  # the weights' bytes in each memory, 16-byte alignment included
    external_bytes: int
    reserve_bytes: int  # auto's room for code in the internal flash

    def sections(self) -> dict[str, str]:
        """The linker output section of each external tensor (codegen.generate_c's `sections`)."""
        return {name: EXTERNAL_SECTION for name in self.external}

    def describe(self) -> str:
        """'weights: 3 tensors (1,234 B) in external 'qspi' (...), 5,678 B in the internal flash (--weights
        auto)'."""
        n, where = len(self.external), self.tier.describe() if self.tier else "no external memory"
        return (
            f"weights: {n} tensor{'s' * (n != 1)} ({self.external_bytes:,} B) in {where}, "
            f"{self.internal_bytes:,} B in the internal flash (--weights {self.mode})"
        )

    def to_dict(self) -> dict:
        """report.json's "weights_placement"."""
        return {
            "mode": self.mode,
            "rule": RULE,
            "tier": self.tier.name if self.tier else None,
            "external_tensors": list(self.external),
            "internal_bytes": self.internal_bytes,
            "external_bytes": self.external_bytes,
            "code_reserve_bytes": self.reserve_bytes,
        }


RULE = (
    "auto: all weights in the internal flash while they fit it less the code reserve (64 KB), else the "
    "largest tensors move to the external flash until the rest fit (the fewest tensors move)"
)


def check_mode(board: Board, mode: str) -> None:
    """--weights as the board allows it: BoardError (exit 2) for external where there is no external flash."""
    if mode not in WEIGHT_MODES:
        raise BoardError(f"--weights must be one of {', '.join(WEIGHT_MODES)}, not {mode!r}")
    if mode == "external" and board.weights_tier is None:
        raise BoardError(
            f"--weights external: board {board.name} ({board.path}) has no external flash to hold weights "
            "(no read-only [[external]] memory). Use --weights internal or auto, or a board file that "
            "declares one, e.g. stm32f746g-disco (its 16 MB QSPI flash)"
        )


def weights_flash(board: Board, mode: str = "auto") -> tuple[int, str]:
    """(bytes, what): the flash that may hold weights under --weights `mode`: the internal flash, plus the
    external tier where auto or external may place weights there (--dsp-weights auto weighs the widened
    weights against it, edgexf/passes/select_kernels.py)."""
    tier = board.weights_tier
    if tier is None or mode == "internal":
        return board.flash.size, f"the {board.flash.size:,} B flash"
    total = board.flash.size + tier.region.size
    return total, f"the {total:,} B of flash that may hold weights (flash + external '{tier.name}')"


def aligned(nbytes: int) -> int:
    return -(-nbytes // ARRAY_ALIGN) * ARRAY_ALIGN


def place_weights(
    sizes: dict[str, int], board: Board, mode: str = "auto", reserve: int = CODE_RESERVE_BYTES
) -> Placement:
    """sizes: each weight tensor's bytes as weights.c writes it (codegen.generate.weight_bytes). The
    placement is not checked against the capacities here: check_fits_estimate does that, and the linker
    exactly."""
    check_mode(board, mode)
    tier = board.weights_tier
    order = sorted(sizes, key=lambda name: (-sizes[name], name))  # largest first
    if tier is None or mode == "internal":
        moved: list[str] = []
    elif mode == "external":
        moved = order
    else:
        budget = board.flash.size - reserve
        inside = sum(aligned(n) for n in sizes.values())
        moved = []
        for name in order:
            if inside <= budget:
                break
            moved.append(name)
            inside -= aligned(sizes[name])
    outside = sum(aligned(sizes[name]) for name in moved)
    inside_bytes = sum(aligned(n) for n in sizes.values()) - outside
    return Placement(mode, tier, tuple(moved), inside_bytes, outside, reserve)


def check_fits_estimate(
    board: Board, g: Graph, plan: MemoryPlan, placement: Placement, arena: ArenaPlacement | None = None
) -> None:
    """DoesNotFitError when the weights alone overflow the memories they are placed in, or the arena plus
    stack alone the RAM (or the arena alone the external RAM, or QEMU's smaller stand-in for it, with
    --arena external): a sure overflow, found before any code is generated (code, the C library and
    alignment add to these; the linker then checks exactly)."""
    arena = arena or ArenaPlacement("internal", None)
    over = {}
    if placement.internal_bytes > board.flash.size:
        over["FLASH"] = placement.internal_bytes - board.flash.size
    in_ram = 0 if arena.tier is not None else plan.arena_bytes
    if in_ram + board.stack_bytes > board.ram.size:
        over["RAM"] = in_ram + board.stack_bytes - board.ram.size
    over.update(arena_overflows(arena, plan.arena_bytes))
    if placement.tier is not None and placement.external_bytes > placement.tier.region.size:
        over["EXTFLASH"] = placement.external_bytes - placement.tier.region.size
    if over:
        weights = placement.internal_bytes + placement.external_bytes
        raise DoesNotFitError(
            f"{does_not_fit(board, over)}\n{breakdown(weights, plan, g, placement, arena)}\n"
            "  (at least: code and the C library need a little more)"
        )
    check_stand_in(board, arena, plan.arena_bytes)


def breakdown(
    weights_bytes: int, plan: MemoryPlan, g: Graph, placement: Placement, arena: ArenaPlacement | None = None
) -> str:
    """The model's side of a does-not-fit message: its weights and its arena, and where they are."""
    where = f"; {placement.describe()}" if placement.external else " (flash)"
    ram = "RAM" if arena is None or arena.tier is None else f"in {arena.describe()}, --arena external"
    text = (
        f"  model: weights {weights_bytes:,} B{where}; arena {plan.arena_bytes:,} B ({ram}; lower bound "
        f"{plan.lower_bound_bytes:,} B)"
    )
    if g.tensors[g.inputs[0]].dtype == "float32":
        text += (
            "\n  --quantize int8 --calibration FILE.npz stores weights and activations in about a quarter of "
            f"the bytes (here about {weights_bytes // 4:,} B of weights, {plan.arena_bytes // 4:,} B arena)"
        )
    return text

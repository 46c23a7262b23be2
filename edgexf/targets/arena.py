"""Where the arena goes: the internal SRAM, or the board's external RAM (`--arena internal|external`).

    internal  (default) the arena is a static array in .bss, in the internal SRAM
    external  the arena is linked in the board's first read-write [[external]] memory (the F746 Discovery
              kit's 8 MB SDRAM at 0xC0000000), in section .edgexf_extram (NOLOAD: not loaded, not zeroed;
              every byte of it is written before it is read). The RAM then holds the stack, the C
              library's data and, for a recurrent model, its state and sequence buffers, which stay in
              SRAM (they are small, and edgexf_reset zeroes the state on every board alike).

What it costs: SDRAM behind the FMC is slower than the internal SRAM (on the F746 at 216 MHz, SDCLK 108
MHz on a 16-bit bus, with CAS latency and row misses; the D-cache hides part of it) and QEMU cannot tell,
since its stand-in is RAM like any other: the instruction counts of an SRAM and an SDRAM build are the
same. Use it for an arena the SRAM cannot hold.

On the emulator, the tier's stand-in may hold less than the tier (emulator_size): mps2-an500 stands in for
the kit's SDRAM with 3 MB of its SSRAM, so a larger arena builds for the board but is refused here,
before any code is generated, since compile also links and checks the QEMU image.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.errors import BoardError, DoesNotFitError
from edgexf.targets.boards import Board, MemoryTier
from edgexf.targets.tiers import ARENA_INPUT_SECTION, ARENA_SECTION

ARENA_MODES = ("internal", "external")


@dataclass(frozen=True)
class ArenaPlacement:
    mode: str
    tier: MemoryTier | None  # where the arena is; None: the internal SRAM

    @property
    def section(self) -> str | None:
        """The arena's input section in model.c (codegen.generate_c's arena_section), or None for .bss."""
        return None if self.tier is None else f"{ARENA_INPUT_SECTION}.arena"

    def describe(self) -> str:
        """'the internal SRAM' or "external 'sdram' (sdram, 8 MB at 0xc0000000)"."""
        return "the internal SRAM" if self.tier is None else self.tier.describe()

    def to_dict(self) -> dict:
        """report.json's "arena_placement"."""
        return {
            "mode": self.mode,
            "tier": None if self.tier is None else self.tier.name,
            "section": None if self.tier is None else ARENA_SECTION,
            "origin": None if self.tier is None else self.tier.region.origin,
            "not_in_arena": "the stack, the C library's data, a recurrent model's state and sequence buffers",
        }


def check_arena_mode(board: Board, mode: str) -> ArenaPlacement:
    """--arena as the board allows it: BoardError (exit 2) for external on a board without a read-write
    external memory, or whose emulator has nothing to stand in for it."""
    if mode not in ARENA_MODES:
        raise BoardError(f"--arena must be one of {', '.join(ARENA_MODES)}, not {mode!r}")
    if mode == "internal":
        return ArenaPlacement(mode, None)
    tier = board.arena_tier
    if tier is None:
        raise BoardError(
            f"--arena external: board {board.name} ({board.path}) has no external RAM to hold the arena "
            "(no read-write [[external]] memory, such as an SDRAM). Use --arena internal, or a board file "
            "that declares one, e.g. stm32f746g-disco (its 8 MB SDRAM)"
        )
    if board.emulator is not None and tier.emulator_origin is None:
        raise BoardError(
            f"--arena external: board {board.name} ({board.path}): external '{tier.name}' has no "
            "emulator_origin, so QEMU has nothing to hold the arena; add one (see edgexf/targets/boards.py)"
        )
    return ArenaPlacement(mode, tier)


def arena_overflows(arena: ArenaPlacement, arena_bytes: int) -> dict[str, int]:
    """{linker region: bytes over} for an external arena its tier cannot hold (the arena is alone there,
    from the tier's origin); {} when it fits or is internal."""
    if arena.tier is None or arena_bytes <= arena.tier.region.size:
        return {}
    return {"EXTRAM": arena_bytes - arena.tier.region.size}


def check_stand_in(board: Board, arena: ArenaPlacement, arena_bytes: int) -> None:
    """DoesNotFitError (exit 5) when the board's tier holds the arena but the emulator's stand-in, which
    may be smaller (emulator_size), does not: compile links the QEMU image too."""
    tier = arena.tier
    if tier is None or board.emulator is None:
        return
    held = board.tier_region(tier, emulated=True)
    if arena_bytes > held.size:
        raise DoesNotFitError(
            f"the arena ({arena_bytes:,} B) fits {tier.describe()} on {board.name}, but not QEMU's stand-in "
            f"for it: {board.emulator.machine} holds {held.size:,} B of it at {held.origin:#x} (the board "
            f"file's emulator_size), over by {arena_bytes - held.size:,} B, and compile builds and checks "
            "the emulator's image too. A smaller arena: --quantize int8 for a float32 model, fewer tokens "
            "or narrower layers"
        )

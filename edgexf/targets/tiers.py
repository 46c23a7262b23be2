"""External memories of a board (memory tiers), read from its [[external]] tables (edgexf/targets/boards.py).

The F746 Discovery kit's 16 MB QSPI NOR flash, memory-mapped at 0x90000000, is one: weights that do not
fit the 1 MB internal flash are placed there (edgexf/targets/placement.py). Its SDRAM at 0xC0000000 is
another (read-write): `edgexf compile --arena external` links the arena there (edgexf/targets/arena.py).
QEMU has no such memories, so a tier that the emulator must hold names where the emulator's machine has
memory to stand in for it (emulator_origin), and how much of the tier that memory holds where it is
smaller (emulator_size: mps2-an500 has no 8 MB left for the kit's SDRAM, only 3 MB of its SSRAM).

On the board, such a memory is often unreadable until the firmware sets it up (a QSPI flash must be put
in memory-mapped mode, an SDRAM initialized by the FMC): `setup` names the C file that does it,
firmware/bsp/external/<setup>.c, which edgexf builds into the board's evaluation firmware whenever a
build places weights or the arena there (edgexf/eval/build.py; the driver's bsp_init calls it
through bsp_external_setup, firmware/bsp/bsp.h).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgexf.resources import firmware_dir
from edgexf.targets.board_table import ADDRESS_SPACE, Region, Table

# Kinds of external memory, and whether the core can only read them: memory-mapped NOR flash is
# written by a debugger (or a flash loader), not by the program, so only constants (weights) go there.
MEMORY_KINDS: dict[str, bool] = {"qspi_flash": True, "octospi_flash": True, "sdram": False}
_TIER_NAME = re.compile(r"[a-z][a-z0-9_]*")
# The linker output section of the weights placed in the external flash (weights.c puts each in
# .edgexf_ext.<C name>; codegen_templates/linker.ld.j2 collects them in region EXTFLASH).
EXTERNAL_SECTION = ".edgexf_ext"
# The linker output section of the arena placed in external RAM (--arena external), and model.c's input
# section for it: named .bss.* so that GCC makes it NOBITS (no megabytes of zeros in the object), and
# collected by linker.ld.j2 into region EXTRAM before its .bss rule could take it.
ARENA_SECTION = ".edgexf_extram"
ARENA_INPUT_SECTION = ".bss.edgexf_extram"


@dataclass(frozen=True)
class MemoryTier:
    """A memory outside the chip: where the core sees it, and where the emulator's machine has memory to
    stand in for it (None: the emulator has none)."""

    name: str
    kind: str
    region: Region
    emulator_origin: int | None = None
    setup: str | None = None  # firmware/bsp/external/<setup>.c: makes it readable on the board
    emulator_size: int | None = None  # bytes of it the emulator holds, where less than all (None: all)

    @property
    def read_only(self) -> bool:
        return MEMORY_KINDS[self.kind]

    @property
    def setup_source(self) -> Path | None:
        return None if self.setup is None else setup_dir() / f"{self.setup}.c"

    def describe(self) -> str:
        """ "external 'qspi' (qspi_flash, 16 MB at 0x90000000)"."""
        return f"external '{self.name}' ({self.kind}, {self.region.describe()})"


def read_external(t: Table) -> tuple[MemoryTier, ...]:
    """The board's [[external]] array of tables; each field checked (overlaps: boards.py)."""
    items = t.data.pop("external")
    if not isinstance(items, list):
        raise t.fail("external", "must be an array of tables: write each memory as [[external]]")
    tiers: list[MemoryTier] = []
    for i, item in enumerate(items):
        e = Table(t.path, item, f"external[{i}].")
        name = e.take("name", str)
        if not _TIER_NAME.fullmatch(name) or name in (x.name for x in tiers):
            raise e.fail("name", f"= {name!r} must be a unique lower-case identifier (a-z, 0-9, _)")
        kind = e.choice("kind", list(MEMORY_KINDS))
        region = Region(e.address("origin"), e.positive("size"))
        if region.end > ADDRESS_SPACE:
            raise e.fail("size", f"= {region.size}: the memory would end at {region.end:#x}, beyond 32 bits")
        emulator_origin = e.address("emulator_origin") if "emulator_origin" in e.data else None
        setup = _setup(e) if "setup" in e.data else None
        emulator_size = e.positive("emulator_size") if "emulator_size" in e.data else None
        if emulator_size is not None and (emulator_origin is None or emulator_size > region.size):
            raise e.fail(
                "emulator_size",
                f"= {emulator_size}: needs emulator_origin, and at most the memory's size ({region.size})",
            )
        e.done("name, kind, origin, size, emulator_origin, emulator_size, setup")
        tiers.append(MemoryTier(name, kind, region, emulator_origin, setup, emulator_size))
    return tuple(tiers)


def setup_dir() -> Path:
    """Where the external memories' set-up files are (firmware/bsp/external/)."""
    return firmware_dir() / "bsp" / "external"


def _setup(e: Table) -> str:
    setup = e.take("setup", str)
    available = sorted(p.stem for p in setup_dir().glob("*.c"))
    if setup not in available:
        raise e.fail(
            "setup",
            f"= {setup!r} names no firmware/bsp/external/{setup}.c; available: {', '.join(available)}",
        )
    return setup

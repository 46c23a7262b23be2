"""Flash and RAM a linked image uses, read from its ELF (pyelftools), against the board's capacity.

Counted the way the linker checks its regions: bytes from the region's start to the end of the
last section placed there, alignment padding included, so a figure over capacity here is exactly
the linker's "region overflowed by N bytes".
  flash: vector table, code, read-only data, and the load image of .data;
  RAM:   .data, .bss and the stack reserved at the top (codegen_templates/linker.ld.j2);
  each external memory: the weights placed there (edgexf/targets/placement.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from edgexf.errors import EdgexfError
from edgexf.targets.boards import Board, Region


@dataclass(frozen=True)
class TierUse:
    """One memory of the board and what the image puts there (report.json's "memory_tiers")."""

    name: str  # flash, ram, or an [[external]] memory's name
    kind: str  # "internal flash", "internal sram", or the external memory's kind
    origin: int  # the board's address (also for an emulated image)
    size: int
    used_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MemoryUse:
    board: str
    flash_bytes: int
    ram_bytes: int
    flash_capacity: int
    ram_capacity: int
    stack_bytes: int
    emulated: bool
    sections: dict[str, int] = field(default_factory=dict)  # allocated sections: name -> size in bytes
    tiers: tuple[TierUse, ...] = ()  # internal flash, RAM, then each external memory

    def summary(self) -> str:
        """Two lines: 'flash 123,456 / 1,048,576 B (11.8%)' and the same for RAM."""
        return "\n".join(
            f"{name:<5} {used:,} / {capacity:,} B ({100 * used / capacity:.1f}%){note}"
            for name, used, capacity, note in (
                ("flash", self.flash_bytes, self.flash_capacity, ""),
                ("RAM", self.ram_bytes, self.ram_capacity, f", of which stack {self.stack_bytes:,} B"),
            )
        )


def elf_sizes(elf: Path, board: Board) -> MemoryUse:
    with open(elf, "rb") as f:
        image = ELFFile(f)
        allocated = [s for s in image.iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]]
        vectors = image.get_section_by_name(".isr_vector")
        if vectors is None:
            raise EdgexfError(f"{elf} has no .isr_vector section: not an edgexf firmware image")
        # The vector table sits at the start of flash: its address says which memory map was linked.
        emulated = board.emulator is not None and vectors["sh_addr"] == board.emulator.flash_origin
        flash, ram = board.link_regions(emulated)
        stored = [(_load_address(image, s), s["sh_size"]) for s in allocated if s["sh_type"] != "SHT_NOBITS"]
        placed = [(s["sh_addr"], s["sh_size"]) for s in allocated]

        def used(region: Region, spans: list[tuple[int, int]]) -> int:
            ends = [start + size for start, size in spans if region.origin <= start < region.end]
            return max(ends, default=region.origin) - region.origin

        tiers = [
            TierUse("flash", "internal flash", board.flash.origin, board.flash.size, used(flash, stored)),
            TierUse("ram", "internal sram", board.ram.origin, board.ram.size, used(ram, placed)),
        ]
        for tier in board.external:
            lacking = emulated and tier.emulator_origin is None  # the emulator has none: nothing is there
            in_use = 0 if lacking else used(board.tier_region(tier, emulated), placed)
            tiers.append(TierUse(tier.name, tier.kind, tier.region.origin, tier.region.size, in_use))
        return MemoryUse(
            board=board.name,
            flash_bytes=tiers[0].used_bytes,
            ram_bytes=tiers[1].used_bytes,
            flash_capacity=board.flash.size,
            ram_capacity=board.ram.size,
            stack_bytes=board.stack_bytes,
            emulated=emulated,
            sections={s.name: s["sh_size"] for s in allocated},
            tiers=tuple(tiers),
        )


def _load_address(image: ELFFile, section) -> int:  # noqa: ANN001 (pyelftools has no type hints)
    """Where a section's bytes are stored (LMA): for .data, its copy in flash."""
    for segment in image.iter_segments():
        if segment["p_type"] == "PT_LOAD" and segment.section_in_segment(section):
            return segment["p_paddr"] + section["sh_addr"] - segment["p_vaddr"]
    return section["sh_addr"]

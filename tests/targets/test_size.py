"""Memory use read from the ELF, in the form the report prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgexf.targets.boards import Board
from edgexf.targets.size import MemoryUse, elf_sizes
from edgexf.targets.toolchain import build_firmware


def test_summary_reads_like_the_report() -> None:
    use = MemoryUse("stm32f746", 123_456, 20_000, 1_048_576, 327_680, 8192, emulated=True)
    assert use.summary() == (
        "flash 123,456 / 1,048,576 B (11.8%)\nRAM   20,000 / 327,680 B (6.1%), of which stack 8,192 B"
    )


@pytest.mark.qemu
def test_emulated_image_is_measured_at_the_emulator_addresses(
    arm_toolchain: None, stm32f746: Board, data_dir: Path, tmp_path: Path
) -> None:
    fw = build_firmware(stm32f746, data_dir / "tiny_model", tmp_path, emulated=True)
    use = elf_sizes(fw.elf, stm32f746)
    assert use.emulated and use.flash_capacity == 1 << 20 and use.ram_capacity == 327_680
    assert use.flash_bytes == len(fw.bin.read_bytes())  # the .bin starts at the flash origin
    flash_sections = (".isr_vector", ".text", ".rodata")
    assert use.flash_bytes >= sum(use.sections.get(s, 0) for s in flash_sections)
    # .bss holds the 40-byte arena; the stack is reserved after it
    assert 8192 + 40 <= use.ram_bytes < 8192 + 1024

"""External memories in board files ([[external]]): the F746 Discovery's QSPI flash and SDRAM load, and a
bad memory is refused naming the file, the field and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgexf.errors import BoardError
from edgexf.resources import boards_dir
from edgexf.targets.arena import check_arena_mode
from edgexf.targets.boards import Region, load_board
from edgexf.targets.toolchain import render_linker_script


def test_the_discovery_kit_has_its_qspi_flash_and_sdram() -> None:
    board = load_board("stm32f746g-disco")
    assert (board.flash, board.ram) == (Region(0x08000000, 1 << 20), Region(0x20000000, 320 << 10))
    qspi, sdram = board.external
    assert (qspi.name, qspi.kind, qspi.region, qspi.read_only) == (
        "qspi", "qspi_flash", Region(0x90000000, 16 << 20), True
    )  # fmt: skip
    assert (sdram.name, sdram.kind, sdram.region, sdram.read_only) == (
        "sdram", "sdram", Region(0xC0000000, 8 << 20), False
    )  # fmt: skip
    assert board.weights_tier == qspi  # the read-only one takes the weights
    assert board.arena_tier == sdram  # the read-write one takes the arena (--arena external)
    assert sdram.setup == "stm32f7_sdram" and sdram.setup_source.is_file()  # its FMC set-up on the board
    # QEMU holds 3 MB of it, in mps2-an500's SSRAM above the 320 KB the image uses
    assert board.tier_region(sdram, emulated=True) == Region(0x20100000, 3 << 20)
    assert board.tier_region(qspi, emulated=False) == Region(0x90000000, 16 << 20)
    assert board.tier_region(qspi, emulated=True) == Region(0x60000000, 16 << 20)  # mps2-an500's RAM there
    assert qspi.setup == "stm32f7_qspi" and qspi.setup_source.is_file()  # its QUADSPI set-up on the board
    # the same chip as stm32f746: its build flags and BSP; openocd gets the kit's board script, which
    # declares the QSPI flash bank
    f746 = load_board("stm32f746")
    assert (board.cflags(), board.bsp) == (f746.cflags(), f746.bsp)
    assert dict(board.probes) == {**dict(f746.probes), "openocd": "board/stm32f746g-disco.cfg"}
    assert load_board("stm32f746").weights_tier is None


def test_linker_script_places_the_external_section_in_the_qspi_flash() -> None:
    board = load_board("stm32f746g-disco")
    own, emulated = (render_linker_script(board, emulated=e) for e in (False, True))
    assert "EXTFLASH (r) : ORIGIN = 0x90000000, LENGTH = 16777216" in own
    assert "EXTFLASH (r) : ORIGIN = 0x60000000, LENGTH = 16777216" in emulated
    for script in (own, emulated):
        assert "*(.edgexf_ext .edgexf_ext.*)\n    } > EXTFLASH" in script
    assert "EXTFLASH" not in render_linker_script(load_board("stm32f746"), emulated=False)


def test_linker_script_places_the_arena_section_in_the_sdram_or_its_stand_in() -> None:
    board = load_board("stm32f746g-disco")
    own, emulated = (render_linker_script(board, emulated=e) for e in (False, True))
    assert "EXTRAM (rw) : ORIGIN = 0xc0000000, LENGTH = 8388608" in own
    assert "EXTRAM (rw) : ORIGIN = 0x20100000, LENGTH = 3145728" in emulated
    for script in (own, emulated):
        # NOLOAD, and before .bss, whose *(.bss.*) would otherwise take model.c's .bss.edgexf_extram.arena
        section = ".edgexf_extram (NOLOAD) : ALIGN(16)\n    {\n        *(.bss.edgexf_extram.*)\n    } > "
        section += "EXTRAM"
        assert section in script
        assert script.index("> EXTRAM") < script.index(".bss (NOLOAD)")
    assert "EXTRAM" not in render_linker_script(load_board("stm32f746"), emulated=False)


QSPI = """[[external]]
name = "qspi"
kind = "qspi_flash"
origin = 0x90000000
size = 16_777_216
emulator_origin = 0x60000000
setup = "stm32f7_qspi"
"""


def _disco(tmp_path: Path, old: str, new: str) -> Path:
    """stm32f746g-disco.toml with its first occurrence of `old` replaced, as tmp_path/variant.toml."""
    text = (boards_dir() / "stm32f746g-disco.toml").read_text()
    assert old in text, old
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1))
    return path


BAD_TIERS = [  # (text in stm32f746g-disco.toml, replaced by, what the error must say)
    ("size = 16_777_216", "size = 0", r"field 'external\[0\].size' = 0 must be positive"),
    (
        'kind = "qspi_flash"',
        'kind = "floppy"',
        r"'external\[0\].kind' = 'floppy' is not allowed; allowed: qspi_",
    ),
    (
        "origin = 0x90000000",
        "origin = 0x08080000",
        r"regions 'flash' and external 'qspi' overlap: 'flash' is 1 MB",
    ),
    ("origin = 0xC0000000", "origin = 0x90800000", r"regions external 'qspi' and external 'sdram' overlap"),
    ('name = "sdram"', 'name = "qspi"', r"'external\[1\].name' = 'qspi' must be a unique lower-case"),
    ("emulator_origin = 0x60000000", "", r"external 'qspi' takes the weights .* add emulator_origin"),
    (
        "emulator_origin = 0x60000000",
        "emulator_origin = 0x61000000",
        r"'qspi' emulator_origin = 0x61000000: its 16,777,216 bytes do not lie in mps2-an500's memory \("
        r"4 MB at 0x0, 4 MB at 0x20000000, 16 MB at 0x60000000\)",
    ),
    (
        QSPI,
        QSPI.replace("16_777_216", "1_048_576").replace("0x60000000", "0x00080000"),  # in its code memory
        r"regions 'flash' and external 'qspi' overlap on the emulator \(mps2-an500\): 'flash' is 1 MB at 0x0",
    ),
    (
        "emulator_origin = 0x60000000",
        "emulator = 1",
        r"unknown field\(s\) 'external\[0\].emulator'; allowed: name",
    ),
    ("size = 16_777_216", "size = 1_879_048_193", r"'external\[0\].size' = 1879048193: .* beyond 32 bits"),
    (
        'setup = "stm32f7_qspi"',
        'setup = "stm32f7_octospi"',
        r"'external\[0\].setup' = 'stm32f7_octospi' names no firmware/bsp/external/stm32f7_octospi.c; "
        r"available: stm32f7_qspi, stm32f7_sdram",
    ),
    (
        "emulator_size = 3_145_728",
        "emulator_size = 16_777_216",
        r"'external\[1\].emulator_size' = 16777216: needs emulator_origin, and at most the memory's size",
    ),
    (  # 4 MB from 0x20100000 runs past the end of mps2-an500's SSRAM
        "emulator_size = 3_145_728",
        "emulator_size = 4_194_304",
        r"'sdram' emulator_origin = 0x20100000: its 4,194,304 bytes do not lie in mps2-an500's memory",
    ),
    (
        "emulator_origin = 0x20100000",
        "emulator_origin = 0x20040000",
        r"regions 'ram' and external 'sdram' overlap on the emulator \(mps2-an500\)",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_TIERS)
def test_a_bad_external_memory_is_refused_with_the_field_and_the_fix(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _disco(tmp_path, old, new)
    with pytest.raises(BoardError, match=message) as caught:
        load_board(path)
    assert str(path) in str(caught.value)


def test_an_sdram_without_emulator_origin_is_fine_until_the_arena_goes_there(tmp_path: Path) -> None:
    """Only the memory that takes weights must be emulated: an SDRAM without a stand-in loads, and
    --arena external on it is refused (QEMU would have nowhere to put the arena)."""
    text = _disco(tmp_path, QSPI, "").read_text()  # no flash outside: the SDRAM is the only one
    path = tmp_path / "sdram_only.toml"
    path.write_text(text.replace("emulator_origin = 0x20100000\nemulator_size = 3_145_728\n", ""))
    board = load_board(path)
    assert [t.name for t in board.external] == ["sdram"] and board.weights_tier is None
    with pytest.raises(BoardError, match="'sdram' has no emulator_origin"):
        board.tier_region(board.external[0], emulated=True)
    with pytest.raises(BoardError, match="'sdram' has no emulator_origin, so QEMU has nothing to hold"):
        check_arena_mode(board, "external")

"""Board files: the shipped ones load, and every kind of mistake is named with file, field and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgexf.errors import BoardError
from edgexf.resources import boards_dir
from edgexf.targets.boards import Region, list_boards, load_board


def test_shipped_boards_load() -> None:
    assert {"stm32f746", "mps2-an500"} <= set(list_boards())
    for name in list_boards():
        assert load_board(name).name == name


def test_stm32f746_is_held_to_its_own_sizes_on_the_emulator() -> None:
    board = load_board("stm32f746")
    assert board.cflags() == ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"]
    assert board.link_regions(emulated=False) == (Region(0x08000000, 1 << 20), Region(0x20000000, 327680))
    assert board.link_regions(emulated=True) == (Region(0, 1 << 20), Region(0x20000000, 327680))
    assert board.emulator is not None and board.emulator.machine == "mps2-an500"
    assert board.stack_bytes == 8192


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(BoardError, match="unknown board 'esp32-c3'; known boards: .*mps2-an500.*stm32f746"):
        load_board("esp32-c3")  # nothing close: no "did you mean"
    with pytest.raises(BoardError, match="unknown board 'stm32f764'; did you mean stm32f746"):
        load_board("stm32f764")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """stm32f746.toml with one line changed, written as tmp_path/variant.toml."""
    text = (boards_dir() / "stm32f746.toml").read_text()
    assert old in text, old
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_board_file_can_be_given_by_path(tmp_path: Path) -> None:
    board = load_board(_variant(tmp_path, "stack_bytes = 8192", "stack_bytes = 16384"))
    assert (board.name, board.stack_bytes) == ("variant", 16384)


def test_stack_size_defaults_to_8_kb(tmp_path: Path) -> None:
    assert load_board(_variant(tmp_path, "stack_bytes = 8192", "")).stack_bytes == 8192


M7_FPUS = "fpv5-sp-d16, fpv5-d16, none"
MISTAKES = [  # (line in stm32f746.toml, replaced by, what the error must say)
    (
        'fpu = "fpv5-sp-d16"',
        'fpu = "fpv4-sp-d16"',
        rf"field 'fpu' = 'fpv4-sp-d16' is not allowed for core cortex-m7; allowed: {M7_FPUS}",
    ),
    (
        'core = "cortex-m7"',
        'core = "cortex-m9"',
        r"field 'core' = 'cortex-m9' is not allowed; allowed: cortex-m0,",
    ),
    ('float_abi = "hard"', 'float_abi = "soft"', r"field 'float_abi' = 'soft' .* allowed: hard, softfp"),
    ("clock_hz = 216_000_000", 'clock_hz = "fast"', r"field 'clock_hz' = 'fast' must be an integer"),
    ("clock_hz = 216_000_000", "", r"field 'clock_hz' is missing"),
    ("size = 327_680", "size = 0", r"field 'ram.size' = 0 must be positive"),
    ("origin = 0x08000000", "origin = 0x1_0000_0000", r"field 'flash.origin' = 0x100000000 is not a 32-bit"),
    ("origin = 0x08000000", "origin = 0x20000000", r"regions 'flash' and 'ram' overlap"),
    ("stack_bytes = 8192", "stack_bytes = 400000", r"field 'stack_bytes' = 400000 must be .* below ram.size"),
    ("stack_bytes = 8192", "stak_bytes = 8192", r"unknown field\(s\) 'stak_bytes'; allowed: description,"),
    (
        'machine = "mps2-an500"',
        'machine = "mps2-an386"',
        r"'emulator.machine' = 'mps2-an386' has a cortex-m4",
    ),
    ('machine = "mps2-an500"', 'machine = "lm3s6965evb"', r"'emulator.machine' .* allowed: mps2-an500,"),
    (
        "size = 1_048_576",
        "size = 8_388_608",
        r"'emulator.flash_origin' = 0x0: 8388608 bytes there do not lie",
    ),
    ("cpu_clock_hz = 25_000_000", "cpu_clock_hz = 2_000_000_000", r"'emulator.cpu_clock_hz' .* at most 1e9"),
    ("[ram]", "[ram", r"not valid TOML"),
    (
        'openocd = "target/stm32f7x.cfg"',
        'openocd = "stm32f7x.cfg"',
        r"field 'probes.openocd' = 'stm32f7x.cfg' must be one of openocd's scripts: target/<chip>.cfg",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), MISTAKES)
def test_mistakes_name_the_file_the_field_and_the_choices(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(BoardError, match=message) as caught:
        load_board(path)
    assert str(path) in str(caught.value)

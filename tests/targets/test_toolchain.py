"""Builds: missing tools and compile errors say what to do; firmware is linked where the board wants it;
a model too big for the board's flash or RAM is refused with the linker's exact byte count."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgexf.errors import DoesNotFitError, ToolchainError
from edgexf.resources import boards_dir
from edgexf.targets.boards import Board, load_board
from edgexf.targets.size import elf_sizes
from edgexf.targets.toolchain import build_firmware, build_host, find_tool, render_linker_script


def test_missing_toolchain_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolchainError) as caught:
        find_tool("arm-none-eabi-gcc")
    assert "arm-none-eabi-gcc was not found on PATH" in str(caught.value)
    assert (
        "apt-get install -y --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
        in str(caught.value)
    )
    host_install = r"gcc was not found on PATH.*\n.*apt-get install .* gcc libc6-dev"
    with pytest.raises(ToolchainError, match=host_install):
        build_host(data_dir / "tiny_model", tmp_path)
    with pytest.raises(ToolchainError, match="qemu-system-arm was not found"):
        find_tool("qemu-system-arm")


def test_compile_error_carries_the_compiler_message(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "broken"
    shutil.copytree(data_dir / "tiny_model", model)
    (model / "model.c").write_text((model / "model.c").read_text().replace("return 0;\n}", "return 0\n}"))
    compiler_says = r"(?s)gcc building .* failed:\n.*model\.c:\d+:\d+: error: expected ';'"
    with pytest.raises(ToolchainError, match=compiler_says):
        build_host(model, tmp_path / "out")


def test_linker_script_prints_the_chosen_memory_map(stm32f746: Board) -> None:
    own = render_linker_script(stm32f746, emulated=False)
    assert "FLASH (rx)  : ORIGIN = 0x08000000, LENGTH = 1048576" in own
    assert "RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 327680" in own
    emulated = render_linker_script(stm32f746, emulated=True)
    assert "FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 1048576" in emulated
    assert "__stack_top__ = 0x20050000;" in emulated
    assert ". = . + 8192;" in emulated


@pytest.mark.qemu
def test_firmware_for_the_board_itself(
    arm_toolchain: None, stm32f746: Board, data_dir: Path, tmp_path: Path
) -> None:
    fw = build_firmware(stm32f746, data_dir / "tiny_model", tmp_path, emulated=False)
    use = elf_sizes(fw.elf, stm32f746)
    assert not use.emulated
    # objcopy -O binary spans the flash image from its first byte to its last, as flash_bytes does
    assert use.flash_bytes == len(fw.bin.read_bytes())
    assert fw.hex.read_text().startswith(":020000040800")  # Intel hex: upper address 0x0800
    assert use.sections[".stack"] == 8192 and use.ram_bytes >= 8192
    assert "flash" in use.summary() and f"/ {1 << 20:,} B" in use.summary()


def _roomier(tmp_path: Path, old: str, new: str) -> Board:
    """stm32f746 with more flash or RAM: the same layout, so it shows what the model needs."""
    path = tmp_path / "roomier.toml"
    path.write_text((boards_dir() / "stm32f746.toml").read_text().replace(old, new, 1))
    return load_board(path)


@pytest.mark.qemu
@pytest.mark.parametrize(
    ("model", "memory", "old", "new"),
    [
        ("big_flash_model", "flash", "size = 1_048_576", "size = 4_194_304"),
        ("big_ram_model", "ram", "size = 327_680", "size = 4_194_304"),
    ],
)
def test_too_big_for_the_board(
    arm_toolchain: None,
    stm32f746: Board,
    data_dir: Path,
    tmp_path: Path,
    model: str,
    memory: str,
    old: str,
    new: str,
) -> None:
    roomier = _roomier(tmp_path, old, new)
    fits = build_firmware(roomier, data_dir / model, tmp_path / "roomier", emulated=True)
    use = elf_sizes(fits.elf, roomier)
    needed = use.flash_bytes if memory == "flash" else use.ram_bytes
    capacity = stm32f746.flash.size if memory == "flash" else stm32f746.ram.size

    with pytest.raises(DoesNotFitError) as caught:
        build_firmware(stm32f746, data_dir / model, tmp_path / "f746", emulated=True)
    assert caught.value.overflows == {memory: needed - capacity}  # type: ignore[attr-defined]
    message = str(caught.value)
    label = "flash" if memory == "flash" else "RAM"
    assert f"{label}: needs {needed:,} B" in message
    assert f"the board has {capacity:,} B: over by {needed - capacity:,} B" in message
    assert "smaller model" in message and "large enough: mps2-an500" in message
    assert ("--lowrank FRACTION" in message and "edgexf fit" in message) == (memory == "flash")
    assert "planned" not in message  # int8 is there: the advice names the options that exist

"""The arena in the STM32F746G-DISCO's SDRAM (`edgexf compile --arena external`), checked where a user would
check it: the arena symbol's address in the linked ELFs (the board's 0xC0000000, QEMU's stand-in at
0x20100000), QEMU's outputs bit-exact, the report against the ELF, the SDRAM set-up called from the
board's start-up (arm-none-eabi-objdump), and the errors. No board is attached: the set-up has never run."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from edgexf.cli import main
from edgexf.errors import DoesNotFitError
from edgexf.resources import firmware_dir
from edgexf.run.build_dir import read_report
from edgexf.targets.arena import ArenaPlacement, arena_overflows, check_arena_mode, check_stand_in
from edgexf.targets.boards import load_board
from edgexf.targets.does_not_fit import does_not_fit
from edgexf.targets.toolchain import COMMON_CFLAGS

SDRAM, SDRAM_ON_QEMU = (0xC0000000, 8 << 20), (0x20100000, 3 << 20)
QSPI = (0x90000000, 16 << 20)
# What external/stm32f7_sdram.c must write (RM0385's FMC SDTR and the Armv7-M MPU's RASR):
SDTR = (2 - 1) | (8 - 1) << 4 | (5 - 1) << 8 | (7 - 1) << 12 | (2 - 1) << 16 | (2 - 1) << 20 | (2 - 1) << 24
MPU_SDRAM = 1 << 28 | 3 << 24 | 1 << 17 | 1 << 16 | (23 - 1) << 1 | 1  # XN, read-write, normal WB, 8 MB
MPU_REFUSED = 1 << 28 | (23 - 1) << 1 | 1  # XN, no access, strongly ordered: the set-up failed


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small MLP (16 -> 32 -> 10) for stm32f746g-disco with the arena in the SDRAM and the weights in
    the QSPI flash (both set-ups in one firmware), and compile's summary."""
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objdump"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    import torch

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 10)).eval()
    root = tmp_path_factory.mktemp("sdram")
    torch.export.save(torch.export.export(mlp, (torch.randn(1, 16),)), root / "mlp.pt2")
    out, summary = root / "b", io.StringIO()
    args = ["compile", str(root / "mlp.pt2"), "--board", "stm32f746g-disco", "-o", str(out)]
    with contextlib.redirect_stdout(summary):
        assert main([*args, "--arena", "external", "--weights", "external"]) == 0
    return out, summary.getvalue()


def _symbol(elf: Path, name: str) -> tuple[int, int]:
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(table, SymbolTableSection)
        (symbol,) = table.get_symbol_by_name(name)
        return symbol["st_value"], symbol["st_size"]


def _inside(address: int, size: int, memory: tuple[int, int]) -> bool:
    return memory[0] <= address and address + size <= memory[0] + memory[1]


def test_the_arena_is_linked_in_the_sdram_and_in_qemus_stand_in(build: tuple[Path, str]) -> None:
    out, summary = build
    report = read_report(out)
    arena_bytes = report["arena_bytes"]
    for elf, memory in (
        (out / "firmware" / "app.elf", SDRAM),
        (out / "eval" / "board" / "app.elf", SDRAM),
        (out / "emulator" / "app.elf", SDRAM_ON_QEMU),
        (out / "eval" / "emulator" / "app.elf", SDRAM_ON_QEMU),
    ):
        address, size = _symbol(elf, "arena")
        assert address == memory[0] and size == arena_bytes and _inside(address, size, memory), elf
        with open(elf, "rb") as f:
            section = ELFFile(f).get_section_by_name(".edgexf_extram")
            assert section["sh_type"] == "SHT_NOBITS"  # not loaded, not in app.bin or app.hex
    # the report's memory_tiers, from the board's ELF: the arena in the SDRAM, not in the SRAM
    tiers = {t["name"]: t for t in report["memory_tiers"]}
    assert (tiers["sdram"]["used_bytes"], tiers["sdram"]["size"]) == (arena_bytes, SDRAM[1])
    assert tiers["ram"]["used_bytes"] == report["ram_bytes"] < 9000  # the 8 KB stack and the runtime
    assert report["arena_placement"]["tier"] == "sdram"
    assert f"{arena_bytes:,} B / 8,388,608 B" in summary and "sdram at 0xc0000000" in summary
    assert "in 'sdram' (--arena external)" in summary
    assert "(8,192 B stack + runtime)" in summary  # the RAM line no longer counts the arena


@pytest.mark.qemu
def test_a_build_with_its_arena_in_the_stand_in_runs_bit_exact_in_qemu(build: tuple[Path, str]) -> None:
    assert main(["run", str(build[0]), "--emulate", "--check"]) == 0


def _disassembly(elf: Path) -> dict[str, str]:
    cmd = ["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf)]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {m[1]: m[2] for m in re.finditer(r"^[0-9a-f]+ <([^>]+)>:\n(.*?)(?=\n\n|\Z)", text, re.S | re.M)}


def test_the_board_firmware_sets_up_the_sdram_and_the_qspi_from_its_start_up(build: tuple[Path, str]) -> None:
    out, _ = build
    functions = _disassembly(out / "eval" / "board" / "app.elf")
    assert "<bsp_external_setup>" in functions["bsp_init"]
    calls = re.findall(r"\sbl?\s+[0-9a-f]+ <(\w+)>", functions["bsp_external_setup"])
    assert calls == ["stm32f7_qspi_setup", "stm32f7_sdram_setup"]  # the board file's order, both run
    words = {int(w, 16) for w in re.findall(r"\.word\s+0x([0-9a-f]+)", functions["stm32f7_sdram_setup"])}
    assert {SDTR, MPU_SDRAM, MPU_REFUSED} <= words
    # QEMU's image sets nothing up: its SSRAM holds the arena from the start
    assert "bsp_external_setup" not in _disassembly(out / "eval" / "emulator" / "app.elf")


def test_the_sdram_setup_compiles_without_warnings() -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    board = load_board("stm32f746g-disco")
    assert board.bsp is not None
    fw = firmware_dir()
    cmd = ["arm-none-eabi-gcc", *board.cflags(), *COMMON_CFLAGS, "-Werror", *board.bsp.cflags()]
    source = fw / "bsp" / "external" / "stm32f7_sdram.c"
    cmd += [f"-I{fw / 'bsp'}", f"-I{fw / 'startup'}", "-c", str(source), "-o", "/dev/null"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_arena_external_on_a_board_without_external_ram_is_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "never_read.pt2"  # refused before the model is read
    args = ["compile", str(missing), "--board", "stm32f746", "--arena", "external", "-o", str(tmp_path / "b")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--arena external: board stm32f746" in err and "has no external RAM to hold the arena" in err
    assert "stm32f746g-disco (its 8 MB SDRAM)" in err and not (tmp_path / "b").exists()


def test_an_arena_over_the_sdram_or_its_stand_in_does_not_fit() -> None:
    board = load_board("stm32f746g-disco")
    arena = check_arena_mode(board, "external")
    assert arena_overflows(arena, 8 << 20) == {} and arena_overflows(arena, (8 << 20) + 16) == {"EXTRAM": 16}
    assert arena_overflows(ArenaPlacement("internal", None), 9 << 20) == {}
    check_stand_in(board, arena, 3 << 20)  # exactly what QEMU holds
    with pytest.raises(DoesNotFitError, match=r"holds 3,145,728 B of it at 0x20100000 .* over by 16 B"):
        check_stand_in(board, arena, (3 << 20) + 16)
    message = str(does_not_fit(board, {"EXTRAM": 16}))
    assert "external 'sdram' (sdram, 8 MB at 0xc0000000): needs 8,388,624 B" in message
    message = str(does_not_fit(board, {"RAM": 16}))
    assert "--arena external puts the arena in external 'sdram'" in message

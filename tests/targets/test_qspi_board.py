"""The STM32F746G-DISCO's QSPI flash on the board side: the evaluation firmware of a build with weights
in it is linked across the three memories and sets the QUADSPI up from its start-up path; a build with
none there never touches it. Checked in the linked ELFs (section headers, symbols, the disassembly of
arm-none-eabi-objdump), as a reviewer would. No board is attached: none of this code has run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from shared_builds import disco_builds

from edgexf.errors import EdgexfError
from edgexf.eval.build import build_eval_builds, build_eval_firmware
from edgexf.eval.model_info import model_info_from_report
from edgexf.resources import boards_dir, firmware_dir
from edgexf.run.build_dir import read_report
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import COMMON_CFLAGS

FLASH, QSPI, RAM = (0x08000000, 1 << 20), (0x90000000, 16 << 20), (0x20000000, 320 << 10)

# What external/stm32f7_qspi.c must write, from the field layouts of RM0385's QUADSPI and the Armv7-M MPU:
QUADSPI_BASE = 0xA0001000
DCR = (24 - 1) << 16 | (6 - 1) << 8  # FSIZE: 2^24 bytes; CSHT: nCS high 6 cycles
MAPPED_CCR = (  # memory-mapped QUAD I/O FAST READ
    3 << 26  # FMODE: memory-mapped
    | 3 << 24  # DMODE: data on 4 lines
    | 10 << 18  # DCYC: 10 dummy cycles
    | 2 << 12  # ADSIZE: 24-bit addresses
    | 3 << 10  # ADMODE: address on 4 lines
    | 1 << 8  # IMODE: instruction on 1 line
    | 0xEB  # the instruction
)
MPU_WINDOW = 1 << 28 | 0 << 24 | (28 - 1) << 1 | 1  # XN, no access, strongly ordered, 256 MB, enabled
MPU_FLASH = 1 << 28 | 6 << 24 | 1 << 17 | (24 - 1) << 1 | 1  # XN, read-only, normal WT, 16 MB, enabled


@pytest.fixture(scope="module")
def disco(tmp_path_factory) -> Path:
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objdump"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return disco_builds(tmp_path_factory)


def _sections(elf: Path) -> dict[str, tuple[int, int]]:
    """Allocated sections: name -> (address, size)."""
    with open(elf, "rb") as f:
        return {
            s.name: (s["sh_addr"], s["sh_size"])
            for s in ELFFile(f).iter_sections()
            if s["sh_flags"] & 0x2 and s["sh_size"] > 0  # SHF_ALLOC
        }


def _functions(elf: Path) -> set[str]:
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(table, SymbolTableSection)
        return {s.name for s in table.iter_symbols() if s["st_info"]["type"] == "STT_FUNC"}


def _objects(map_file: Path) -> dict[str, str]:
    """Each function linked in -> the object file it came from, from the linker's map (.text.<name>)."""
    pattern = r"^ \.text\.(\S+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(\S+\.o)$"
    return {m[1]: Path(m[2]).name for m in re.finditer(pattern, map_file.read_text(), re.MULTILINE)}


def _disassembly(elf: Path) -> dict[str, list[str]]:
    """arm-none-eabi-objdump -d: each function's lines, its literal pool included."""
    text = subprocess.run(
        ["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    functions: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in text.splitlines():
        head = re.match(r"[0-9a-f]+ <([^>]+)>:$", line)
        if head:
            lines = functions.setdefault(head[1], [])
        else:
            lines.append(line)
    return functions


def _calls(lines: list[str]) -> set[str]:
    """The functions a function calls or tail-calls (bl, b.w and b to another function's start)."""
    return {m[1] for line in lines if (m := re.search(r"\sb(?:l|\.w|\.n)?\s+[0-9a-f]+ <([^>+]+)>", line))}


def _reachable(functions: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for callee in _calls(functions.get(todo.pop(), [])) - seen:
            seen.add(callee)
            todo.append(callee)
    return seen


def _words(lines: list[str]) -> set[int]:
    """The literal pool's 32-bit constants."""
    return {int(m[1], 16) for line in lines if (m := re.search(r"\.word\s+0x([0-9a-f]+)", line))}


def _inside(section: tuple[int, int], memory: tuple[int, int]) -> bool:
    (address, size), (origin, capacity) = section, memory
    return origin <= address and address + size <= origin + capacity


def test_the_board_image_spans_internal_flash_qspi_flash_and_ram(disco: Path) -> None:
    build = disco / "external"
    report = read_report(build)
    assert report["eval"] == {"board_build": True, "why_not": None}
    elf = build / report["files"]["eval_elf"]
    sections = _sections(elf)
    assert sections[".isr_vector"][0] == FLASH[0]
    for name in (".isr_vector", ".text", ".rodata"):
        assert _inside(sections[name], FLASH), name
    assert sections[".edgexf_ext"][0] == QSPI[0] and _inside(sections[".edgexf_ext"], QSPI)
    for name in (".data", ".bss", ".stack"):
        assert _inside(sections[name], RAM), name
    # the external flash's own image, as edgexf flash writes it at 0x90000000
    ext_bin = build / report["files"]["eval_ext_bin"]
    assert ext_bin == build / "eval" / "board" / "app_ext.bin"
    assert ext_bin.stat().st_size == sections[".edgexf_ext"][1]
    with open(elf, "rb") as f:
        assert ELFFile(f).get_section_by_name(".edgexf_ext").data() == ext_bin.read_bytes()
    assert (build / report["files"]["eval_bin"]).stat().st_size < FLASH[1]  # the internal flash only


def test_the_qspi_setup_is_called_from_reset_and_maps_the_flash(disco: Path) -> None:
    report = read_report(disco / "external")
    elf = disco / "external" / report["files"]["eval_elf"]
    functions = _disassembly(elf)
    # Reset_Handler -> main -> bsp_init (the F7 driver) -> bsp_external_setup (written by compile) ->
    # stm32f7_qspi_setup (the QSPI set-up), and not the SDRAM's: the arena stays in the SRAM
    assert "bsp_init" in _calls(functions["main"]) and "main" in _calls(functions["Reset_Handler"])
    assert "bsp_external_setup" in _calls(functions["bsp_init"])
    assert "stm32f7_qspi_setup" in _reachable(functions, "Reset_Handler")
    assert "stm32f7_sdram_setup" not in _functions(elf)
    files = _objects(elf.with_suffix(".map"))
    assert (files["bsp_init"], files["bsp_external_setup"], files["stm32f7_qspi_setup"]) == (
        "stm32f7.o", "external_setup.o", "stm32f7_qspi.o"
    )  # fmt: skip
    # it programs the QUADSPI: its base, 16 MB with 6-cycle nCS, memory-mapped quad I/O reads; the MPU
    setup = [
        line for name, lines in functions.items() if files.get(name) == "stm32f7_qspi.o" for line in lines
    ]
    assert {QUADSPI_BASE, DCR, MAPPED_CCR, MPU_WINDOW, MPU_FLASH} <= _words(setup)
    # QEMU's image has no QSPI to set up: its RAM at 0x60000000 holds the weights from the start
    emulated = disco / "external" / report["files"]["eval_emulator_elf"]
    assert "bsp_external_setup" not in _functions(emulated)


def test_a_build_without_external_weights_never_touches_the_qspi(disco: Path) -> None:
    report = read_report(disco / "internal")
    assert report["weights_placement"]["external_tensors"] == [] and report["files"]["eval_ext_bin"] is None
    elf = disco / "internal" / report["files"]["eval_elf"]
    assert ".edgexf_ext" not in _sections(elf)
    assert not {"bsp_external_setup", "give_up"} & _functions(elf)
    assert not (disco / "internal" / "eval" / "board" / "app_ext.bin").exists()


def _bsp_compile(board_name: str, source: Path, *extra: str) -> subprocess.CompletedProcess:
    board = load_board(board_name)
    assert board.bsp is not None
    fw = firmware_dir()
    cmd = ["arm-none-eabi-gcc", *board.cflags(), *COMMON_CFLAGS, "-Werror", *board.bsp.cflags(), *extra]
    cmd += [f"-I{fw / 'bsp'}", f"-I{fw / 'startup'}", "-c", str(source), "-o", "/dev/null"]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_the_bsp_with_its_qspi_setup_compiles_without_warnings(disco: Path) -> None:
    fw = firmware_dir() / "bsp"
    for source in (fw / "stm32f7.c", fw / "external" / "stm32f7_qspi.c"):
        done = _bsp_compile("stm32f746g-disco", source, "-DBSP_EXTERNAL_SETUP")
        assert done.returncode == 0, done.stderr
    # a driver that never calls the set-up refuses it, rather than leave the weights unreadable
    done = _bsp_compile("stm32f405", fw / "stm32f4.c", "-DBSP_EXTERNAL_SETUP")
    assert done.returncode != 0 and "the stm32f4 driver sets up no external memory" in done.stderr


def test_a_board_whose_external_flash_has_no_setup_gets_no_board_firmware(
    disco: Path, tmp_path: Path
) -> None:
    build = disco / "external"
    report = read_report(build)
    text = (boards_dir() / "stm32f746g-disco.toml").read_text()
    variant = tmp_path / "no-setup.toml"
    variant.write_text(text.replace('setup = "stm32f7_qspi"\n', "", 1))
    board, info = load_board(variant), model_info_from_report(report)
    evals = build_eval_builds(board, build / "model", tmp_path / "eval", info, external_weights=True)
    assert evals.board is None and evals.emulator is not None  # QEMU needs no set-up
    assert "names no set-up that makes it readable on the board" in evals.why_not
    # and a caller that forgets to say the weights are outside gets an error, not a firmware that faults
    disco_board = load_board("stm32f746g-disco")
    with pytest.raises(EdgexfError, match="built without its set-up"):
        build_eval_firmware(disco_board, build / "model", tmp_path / "forgot", False, info)

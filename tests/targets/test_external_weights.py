"""Weights in the board's external flash (`edgexf compile --weights`), checked where a user would check
them: the addresses in the linked ELFs (pyelftools, not the report), QEMU's outputs against the reference,
the report's figures against the ELF, and the errors."""

from __future__ import annotations

import json
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
import torch
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from edgexf.cli import main
from edgexf.errors import DoesNotFitError
from edgexf.resources import boards_dir
from edgexf.targets.boards import load_board
from edgexf.targets.placement import CODE_RESERVE_BYTES
from edgexf.targets.toolchain import build_firmware

QSPI, QSPI_ON_QEMU, QSPI_SIZE = 0x90000000, 0x60000000, 16 << 20


def _mlp(path: Path, *widths: int) -> str:
    """A float32 MLP (Linear, ReLU, ..., Linear) saved with torch.export, as a user would compile it."""
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).eval()
    torch.export.save(torch.export.export(model, (torch.randn(1, widths[0]),)), path)
    return str(path)


def _weights(elf: Path) -> dict[str, tuple[int, int]]:
    """weights.c's arrays in the image: C name -> (address, bytes)."""
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        return {
            s.name: (s["st_value"], s["st_size"])
            for s in symtab.iter_symbols()
            if s.name.startswith("W_") and s["st_info"]["type"] == "STT_OBJECT"
        }


def _section(elf: Path, name: str) -> tuple[int, int] | None:
    with open(elf, "rb") as f:
        s = ELFFile(f).get_section_by_name(name)
        return None if s is None else (s["sh_addr"], s["sh_size"])


def _inside(address: int, origin: int, size: int = QSPI_SIZE) -> bool:
    return origin <= address < origin + size


@pytest.mark.qemu
def test_all_weights_external_run_in_qemu_bit_exact(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = _mlp(tmp_path / "mlp.pt2", 16, 32, 10)
    build = tmp_path / "b"
    args = ["compile", model, "--board", "stm32f746g-disco", "--weights", "external", "-o", str(build)]
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert "qspi" in summary and f"/ {QSPI_SIZE:,} B" in summary and "qspi_flash at 0x90000000" in summary

    board_elf, emulator_elf = build / "firmware" / "app.elf", build / "emulator" / "app.elf"
    weights = _weights(board_elf)
    assert len(weights) == 4  # two layers' weight and bias
    assert all(_inside(address, QSPI) for address, _ in weights.values())  # the board's QSPI flash
    assert all(_inside(address, QSPI_ON_QEMU) for address, _ in _weights(emulator_elf).values())
    eval_board, eval_emulator = build / "eval" / "board" / "app.elf", build / "eval" / "emulator" / "app.elf"
    for elf, origin in (
        (board_elf, QSPI),
        (emulator_elf, QSPI_ON_QEMU),
        (eval_board, QSPI),
        (eval_emulator, QSPI_ON_QEMU),
    ):
        address, size = _section(elf, ".edgexf_ext")  # the evaluation firmware links the same way
        assert address == origin and size >= sum(n for _, n in weights.values())
    # the internal flash image stops at the internal flash; the external one is its own file
    _, ext_size = _section(board_elf, ".edgexf_ext")
    assert (build / "firmware" / "app_ext.bin").stat().st_size == ext_size
    assert (build / "firmware" / "app.bin").stat().st_size < 1 << 20

    assert main(["run", str(build), "--emulate", "--check"]) == 0  # QEMU, the weights at 0x60000000
    assert "check passed" in capsys.readouterr().out

    # the linker holds the weights to the external flash's size too, and the error names it
    tiny = tmp_path / "tiny-qspi.toml"
    tiny.write_text((boards_dir() / "stm32f746g-disco.toml").read_text().replace("16_777_216", "1024", 1))
    with pytest.raises(DoesNotFitError) as caught:
        build_firmware(load_board(tiny), build / "model", tmp_path / "tiny", emulated=True)
    assert caught.value.overflows == {"qspi": ext_size - 1024}  # type: ignore[attr-defined]
    assert f"external 'qspi' (qspi_flash, 1,024 B at 0x90000000): needs {ext_size:,} B" in str(caught.value)


def test_auto_moves_the_largest_weights_out_and_reports_what_the_elf_says(tmp_path: Path, capsys) -> None:
    """A disco board with 192 KB of internal flash: 128 KB for weights after the code reserve, and a model
    with 251 KB of them."""
    board = tmp_path / "small-flash.toml"
    board.write_text((boards_dir() / "stm32f746g-disco.toml").read_text().replace("1_048_576", "196_608", 1))
    model = _mlp(tmp_path / "mlp.pt2", 32, 768, 48, 10)
    build = tmp_path / "b"
    assert main(["compile", model, "--board", str(board), "-o", str(build)]) == 0  # --weights auto
    capsys.readouterr()

    elf = build / "firmware" / "app.elf"
    weights = _weights(elf)
    outside = {name: size for name, (address, size) in weights.items() if _inside(address, QSPI)}
    inside = {
        name: size for name, (address, size) in weights.items() if _inside(address, 0x08000000, 196_608)
    }
    assert outside and inside and len(outside) + len(inside) == len(weights)
    assert min(outside.values()) >= max(inside.values())  # the largest moved
    assert sum(inside.values()) <= 196_608 - CODE_RESERVE_BYTES  # the rest fit, code reserve left
    # moving one tensor fewer would not have fit: the fewest moved
    smallest_moved = min(outside.values())
    assert sum(inside.values()) + smallest_moved > 196_608 - CODE_RESERVE_BYTES

    report = json.loads((build / "report.json").read_text())
    tiers = {t["name"]: t for t in report["memory_tiers"]}
    assert set(tiers) == {"flash", "ram", "qspi", "sdram"}
    assert all(t["used_bytes"] <= t["size"] for t in tiers.values())
    address, size = _section(elf, ".edgexf_ext")
    assert (tiers["qspi"]["origin"], tiers["qspi"]["used_bytes"]) == (QSPI, address + size - QSPI)
    assert (
        tiers["flash"]["used_bytes"]
        == (build / "firmware" / "app.bin").stat().st_size
        == report["flash_bytes"]
    )
    assert tiers["sdram"]["used_bytes"] == 0
    placed = report["weights_placement"]
    assert placed["mode"] == "auto" and len(placed["external_tensors"]) == len(outside)


def test_external_on_a_board_without_external_flash(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = _mlp(tmp_path / "mlp.pt2", 16, 10)
    args = ["compile", model, "--board", "stm32f746", "--weights", "external", "-o", str(tmp_path / "b")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--weights external: board stm32f746" in err and "has no external flash" in err
    assert "stm32f746g-disco" in err  # a board that has one
    assert not (tmp_path / "b").exists()  # refused before any work


def test_an_external_flash_too_small_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    board = tmp_path / "tiny-qspi.toml"
    board.write_text((boards_dir() / "stm32f746g-disco.toml").read_text().replace("16_777_216", "4096", 1))
    model = _mlp(tmp_path / "mlp.pt2", 64, 32, 10)  # 8,320 + 1,320 B of float32 weights
    args = ["compile", model, "--board", str(board), "--weights", "external", "-o", str(tmp_path / "b")]
    assert main(args) == 5
    err = capsys.readouterr().err
    needed = 8192 + 128 + 1280 + 48  # each array padded to 16 bytes
    assert f"external 'qspi' (qspi_flash, 4,096 B at 0x90000000): needs {needed:,} B" in err
    assert f"over by {needed - 4096:,} B" in err


@pytest.mark.qemu
def test_scaled_down_mcuformer_takes_the_two_tier_path_in_qemu(tmp_path: Path) -> None:
    """examples/mcuformer.py:small (60 px RGB, embedding 224, depth 2): int8 weights of 1.7 MB, more than
    the F746's 1 MB, split by --weights auto between the internal flash and the QSPI flash; the image
    for QEMU has them at 0x60000000 and runs bit-exact with the reference."""
    example = Path(__file__).resolve().parents[2] / "examples" / "mcuformer.py"
    data = tmp_path / "data"
    spec = spec_from_file_location("mcuformer_example", example)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    calib, test = module.write_data(data, module.SMALL, calib=16, test=2)
    out = tmp_path / "build"
    args = ["compile", f"{example}:small", "--board", "stm32f746g-disco", "-o", str(out)]
    assert main([*args, "--quantize", "int8", "--calibration", str(calib), "--test-data", str(test)]) == 0
    r = json.loads((out / "report.json").read_text())
    tiers = {t["name"]: t for t in r["memory_tiers"]}
    assert tiers["qspi"]["used_bytes"] > 0 and tiers["flash"]["used_bytes"] <= tiers["flash"]["size"]
    board_w, emu_w = _weights(out / "firmware" / "app.elf"), _weights(out / "emulator" / "app.elf")
    outside = {n for n, (a, _) in board_w.items() if _inside(a, QSPI)}
    assert outside and outside == {n for n, (a, _) in emu_w.items() if _inside(a, QSPI_ON_QEMU)}
    assert sum(board_w[n][1] for n in outside) == tiers["qspi"]["used_bytes"]
    assert main(["run", str(out), "--emulate", "--check"]) == 0

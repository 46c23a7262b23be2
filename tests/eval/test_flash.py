"""`edgexf flash`: the command each probe's tool gets, and each way it fails, with the real tools.

No board is attached here, so openocd and st-flash are run for real and must end in the "found no
board" error; a tool that is not installed must name the command that installs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from edgexf.cli import main
from edgexf.errors import EdgexfError, ToolchainError
from edgexf.eval.flash import EvalImages, flash_command, pick_probe
from edgexf.pipeline import MemoryOptions, compile_model
from edgexf.targets.boards import load_board

FAST = MemoryOptions(exact_time_s=0.2)


def compile_tiny(tmp: Path, board: str) -> Path:
    model = tmp / "tiny.pt2"
    if not model.exists():
        module = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU()).eval()
        torch.export.save(torch.export.export(module, (torch.randn(1, 8),)), model)
    out = tmp / board
    compile_model(model, board, out, log=lambda s: None, memory=FAST)
    return out


def _images(board: str | Path, tmp: Path) -> EvalImages:
    """A board's images by name only: for what is decided before any file is read."""
    return EvalImages(load_board(board), tmp / "app.elf", tmp / "app.bin")


@pytest.fixture(scope="module")
def f746_build(tmp_path_factory) -> Path:
    return compile_tiny(tmp_path_factory.mktemp("flash"), "stm32f746")


@pytest.mark.parametrize(
    "probe, expected",
    [
        ("stlink", ["st-flash", "--reset", "write", "eval/board/app.bin", "0x08000000"]),
        (
            "openocd",
            [
                "openocd",
                "-f interface/stlink.cfg",
                "-f target/stm32f7x.cfg",
                "eval/board/app.elf} verify reset exit",  # braced: one Tcl word, spaces and all
            ],
        ),
        ("pyocd", ["pyocd flash --target stm32f746xg", "eval/board/app.elf"]),
    ],
)
def test_dry_run_prints_each_tools_command(f746_build, capsys, probe, expected):
    assert main(["flash", str(f746_build), "--probe", probe, "--dry-run"]) == 0
    command = capsys.readouterr().out.strip()
    for part in expected:
        assert part in command
    if probe != "stlink":  # the ELF carries its addresses; st-flash writes the .bin at flash.origin
        assert "app.bin" not in command


def test_board_image_is_linked_at_the_boards_flash(f746_build):
    from elftools.elf.elffile import ELFFile

    with open(f746_build / "eval" / "board" / "app.elf", "rb") as f:
        assert ELFFile(f).get_section_by_name(".isr_vector")["sh_addr"] == 0x08000000


@pytest.mark.parametrize("probe, tool", [("stlink", "st-flash"), ("openocd", "openocd")])
def test_real_tool_with_no_board_attached_says_what_to_check(f746_build, capsys, probe, tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")
    assert main(["flash", str(f746_build), "--probe", probe, "--timeout", "60"]) == 8
    err = capsys.readouterr().err
    assert f"{tool} found no board" in err and "ST-LINK USB port" in err
    assert "command: " in err and tool in err  # the command that was run, to try by hand


def test_missing_tool_names_its_install_command(f746_build, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no tool at all
    assert main(["flash", str(f746_build), "--probe", "pyocd"]) == 4
    err = capsys.readouterr().err
    assert "pyocd was not found on PATH" in err and "pip install pyocd" in err


def test_no_tool_installed_lists_every_probe_the_board_has(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError) as e:
        pick_probe(_images("stm32f746", tmp_path), None)
    message = str(e.value)
    assert "stlink-tools" in message and "apt-get install -y --no-install-recommends openocd" in message
    assert "pip install pyocd" in message


def test_default_probe_is_the_first_installed(monkeypatch, tmp_path):
    st_flash = tmp_path / "st-flash"  # an executable by that name on an otherwise empty PATH
    st_flash.write_text("#!/bin/sh\nexit 0\n")
    st_flash.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pick_probe(_images("stm32f746", tmp_path), None) == "stlink"


def test_probe_the_board_does_not_list(tmp_path):
    text = (Path(load_board("stm32f746").path)).read_text()
    board_file = tmp_path / "myboard.toml"
    board_file.write_text(text.split("[probes]")[0] + '[probes]\nopenocd = "target/stm32f7x.cfg"\n')
    with pytest.raises(EdgexfError, match=r"no 'pyocd' entry in the \[probes\] table .*myboard.toml"):
        flash_command(_images(board_file, tmp_path), "pyocd")


def test_board_without_probes_cannot_be_flashed(tmp_path, capsys):
    build = compile_tiny(tmp_path, "mps2-an500")  # an FPGA board QEMU stands in for: nothing to flash with
    assert main(["flash", str(build)]) == 1
    assert "lists no debug probe" in capsys.readouterr().err


def test_board_without_eval_driver_has_nothing_to_flash(tmp_path, capsys):
    build = compile_tiny(tmp_path, "stm32h743")  # no [bsp]: no board evaluation firmware is built
    assert main(["flash", str(build), "--probe", "stlink"]) == 1
    assert "nothing to flash for stm32h743" in capsys.readouterr().err


def test_not_a_build_directory(tmp_path, capsys):
    assert main(["flash", str(tmp_path)]) == 1
    assert "not an edgexf build directory" in capsys.readouterr().err

"""`edgexf flash` for a build with weights in the STM32F746G-DISCO's QSPI flash: openocd writes each
memory from its own image at its own address through the kit's board script; st-flash and pyocd, which
cannot write the QSPI flash, are refused naming openocd. openocd is run for real (no board is attached
here, so it must end in the "found no board" error); nothing has written a real board."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from shared_builds import disco_builds

from edgexf.cli import main
from edgexf.targets.boards import load_board


@pytest.fixture(scope="module")
def disco(tmp_path_factory) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    return disco_builds(tmp_path_factory)


def _image(build: Path, name: str) -> str:
    return str((build / "eval" / "board" / name).resolve())


def _ocd(build: Path, name: str) -> str:
    """As the openocd command names it: braced, one Tcl word whatever the path holds."""
    return "{" + _image(build, name) + "}"


def test_openocd_writes_the_internal_and_the_qspi_flash_each_at_its_origin(disco: Path, capsys) -> None:
    build = disco / "external"
    assert main(["flash", str(build), "--probe", "openocd", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert shlex.split(out) == [
        "openocd",
        "-f",
        "board/stm32f746g-disco.cfg",  # the kit's script: its ST-LINK, the chip and the QSPI flash bank
        "-c",
        f"program {_ocd(build, 'app.bin')} 0x08000000 verify",
        "-c",
        f"program {_ocd(build, 'app_ext.bin')} 0x90000000 verify reset exit",
    ]
    assert "app_ext.bin at 0x90000000, in external 'qspi' (qspi_flash, 16 MB at 0x90000000)" in err
    assert "timeout 120 s" in err  # 120 s plus 60 s per MB of external image: a few hundred bytes here


def test_the_default_probe_is_one_that_can_write_the_qspi_flash(
    disco: Path, capsys, monkeypatch, tmp_path
) -> None:
    assert main(["flash", str(disco / "external"), "--dry-run"]) == 0  # openocd is listed first anyway
    assert capsys.readouterr().out.startswith("openocd ")
    st_flash = tmp_path / "st-flash"  # only st-flash installed: it cannot, so openocd is what to install
    st_flash.write_text("#!/bin/sh\nexit 0\n")
    st_flash.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["flash", str(disco / "external"), "--dry-run"]) == 4
    err = capsys.readouterr().err
    assert "install one:\n    openocd: apt-get install" in err and "stlink-tools" not in err


@pytest.mark.parametrize("probe, tool", [("stlink", "st-flash"), ("pyocd", "pyocd")])
def test_st_flash_and_pyocd_are_refused_naming_openocd(disco: Path, capsys, probe: str, tool: str) -> None:
    build = disco / "external"
    assert main(["flash", str(build), "--probe", probe, "--dry-run"]) == 1
    err = capsys.readouterr().err
    size = (build / "eval" / "board" / "app_ext.bin").stat().st_size
    assert f"{tool} cannot write external 'qspi' (qspi_flash, 16 MB at 0x90000000), where this build" in err
    assert f"puts {size:,} B of weights" in err and "Use openocd (--probe openocd)" in err


def test_a_build_without_external_weights_flashes_as_before(disco: Path, capsys) -> None:
    build = disco / "internal"
    assert main(["flash", str(build), "--probe", "openocd", "--dry-run"]) == 0
    elf = _ocd(build, "app.elf")
    assert shlex.split(capsys.readouterr().out) == [
        "openocd", "-f", "board/stm32f746g-disco.cfg", "-c", f"program {elf} verify reset exit"
    ]  # fmt: skip
    assert main(["flash", str(build), "--probe", "stlink", "--dry-run"]) == 0
    assert shlex.split(capsys.readouterr().out) == [
        "st-flash", "--reset", "write", _image(build, "app.bin"), "0x08000000"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def openocd() -> str:
    path = shutil.which("openocd")
    if path is None:
        pytest.skip("openocd is not installed (apt-get install openocd)")
    return path


def test_real_openocd_with_no_board_attached_says_what_to_check(disco: Path, capsys, openocd: str) -> None:
    assert main(["flash", str(disco / "external"), "--probe", "openocd", "--timeout", "60"]) == 8
    err = capsys.readouterr().err
    assert "openocd found no board" in err and "ST-LINK USB port" in err
    assert "app_ext.bin} 0x90000000 verify reset exit" in err  # the command that was run, to try by hand


def test_the_kits_openocd_script_declares_the_qspi_flash_bank(openocd: str) -> None:
    """openocd's configuration stage needs no probe: the board file's script must give its stmqspi
    driver a bank where the board file puts the weights tier."""
    board = load_board("stm32f746g-disco")
    cmd = [openocd, "-f", str(board.probe("openocd")), "-c", "flash banks", "-c", "shutdown"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"(stmqspi) at {board.weights_tier.region.origin:#010x}" in done.stdout + done.stderr


def test_a_build_path_with_spaces_is_one_word_for_openocd(disco: Path, tmp_path: Path, capsys) -> None:
    """openocd reads `program FILE ...` as Tcl: an unbraced path with a space would be two words."""
    import shutil

    build = tmp_path / "my builds" / "disco [v2]"
    shutil.copytree(disco / "internal", build)
    assert main(["flash", str(build), "--probe", "openocd", "--dry-run"]) == 0
    argv = shlex.split(capsys.readouterr().out)
    assert argv[-1] == f"program {_ocd(build, 'app.elf')} verify reset exit"

"""The Cortex-M55 boards (Helium, MVE): mps3-an547 (QEMU's machine) and the STM32N6 memory map load and
are checked against the core table; the kernel choice and the weights on a Helium core."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgexf.errors import BoardError
from edgexf.ir.cores import has_dsp, has_mve
from edgexf.ir.kernel_choice import resolve
from edgexf.resources import boards_dir
from edgexf.targets.boards import Region, load_board


def test_mps3_an547_links_at_the_secure_aliases_of_its_tcms() -> None:
    board = load_board("mps3-an547")
    assert board.cflags() == ["-mcpu=cortex-m55", "-mthumb", "-mfpu=auto", "-mfloat-abi=hard"]
    itcm, dtcm = Region(0x10000000, 512 << 10), Region(0x30000000, 512 << 10)
    assert board.link_regions(emulated=False) == board.link_regions(emulated=True) == (itcm, dtcm)
    assert board.emulator is not None and board.emulator.machine == "mps3-an547"
    bsp = board.eval_bsp(emulated=True)
    assert bsp is not None and bsp.driver == "mps2_uart"
    assert bsp.cflags() == ["-DBSP_UART0_BASE=1496330240", "-DBSP_CLOCK_HZ=32000000"]  # 0x59303000


def test_stm32n6_has_an_m55_and_its_weights_go_to_the_octospi_flash() -> None:
    board = load_board("stm32n6")
    assert board.core == "cortex-m55" and board.emulator is None
    tier = board.weights_tier
    # past the first megabyte, where the boot ROM reads the boot image; 64 MB: the Nucleo's MX25UM51245G
    assert tier is not None and tier.region == Region(0x70100000, (64 << 20) - (1 << 20)) and tier.read_only
    assert board.flash.origin == 0x34180400 and board.ram.origin == 0x34064000


def test_helium_cores_have_the_dsp_extension_and_auto_picks_its_kernels() -> None:
    assert has_mve("cortex-m55") and has_dsp("cortex-m55") and resolve("auto", "cortex-m55") == "dsp"
    assert not has_mve("cortex-m7") and not has_mve("cortex-m4") and not has_mve("nonesuch")


def test_an_m55_board_on_an_m7_machine_is_refused(tmp_path: Path) -> None:
    text = (boards_dir() / "mps3-an547.toml").read_text()
    text = text.replace('machine = "mps3-an547"', 'machine = "mps2-an500"')
    path = tmp_path / "variant.toml"
    path.write_text(text)
    match = r"'emulator.machine' = 'mps2-an500' has a cortex-m7, not the board's cortex-m55"
    with pytest.raises(BoardError, match=match):
        load_board(path)

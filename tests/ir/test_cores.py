"""The one core table (edgexf/ir/cores.py) is what board validation and the kernel choice both read."""

from __future__ import annotations

import pytest

from edgexf.errors import BoardError
from edgexf.ir.cores import CORE_FPUS, CORES
from edgexf.ir.kernel_choice import resolve
from edgexf.targets.boards import QEMU_MACHINES, list_boards, load_board


def test_auto_kernels_follow_the_core_table() -> None:
    for name, core in CORES.items():
        assert resolve("auto", name) == ("dsp" if core.dsp else "portable"), name
    assert resolve("auto", "cortex-m7") == "dsp" and resolve("auto", "cortex-m0plus") == "portable"
    assert resolve("auto", "riscv") == "portable"


def test_every_qemu_machine_has_a_core_of_the_table() -> None:
    for name, machine in QEMU_MACHINES.items():
        assert machine.core in CORE_FPUS, name
        assert set(machine.fpus) <= set(CORE_FPUS[machine.core]) | {"none"}, name


def test_shipped_boards_name_cores_of_the_table() -> None:
    for name in list_boards():
        assert load_board(name).core in CORE_FPUS, name


def test_a_core_no_board_may_name_is_refused_with_the_choices(tmp_path) -> None:
    assert "cortex-m85" in CORES and "cortex-m85" not in CORE_FPUS  # GCC 12 has no -mcpu=cortex-m85
    text = (load_board("stm32f746").path.read_text()).replace('"cortex-m7"', '"cortex-m85"')
    path = tmp_path / "m85.toml"
    path.write_text(text)
    with pytest.raises(BoardError, match="cortex-m7"):
        load_board(str(path))

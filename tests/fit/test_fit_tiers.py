"""`edgexf fit` on a board with external flash: the flash budget counts the internal and the external
flash, each candidate's weights are placed by compile's rule (edgexf/targets/placement.py), each memory
must hold its share, the table and fit.json say where the weights are, and the winner's build puts them
there. The tiny ViT (tests/fit/tiny_vit.py) on a STM32F746G-DISCO shrunk to its size: 48 KB of internal
flash (less than compile's 64 KB code reserve, so every weight goes outside) and 24 KB of QSPI flash.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from edgexf.cli import main
from edgexf.resources import boards_dir

TINY = f"{Path(__file__).with_name('tiny_vit.py')}:build"
QSPI = 0x90000000


@pytest.fixture
def small_disco(tmp_path: Path) -> Path:
    text = (boards_dir() / "stm32f746g-disco.toml").read_text()
    text = text.replace("size = 1_048_576", "size = 49_152", 1).replace("16_777_216", "24_576", 1)
    path = tmp_path / "small-disco.toml"
    path.write_text(text)
    return path


def _fit(board: Path, out: Path, *extra: str) -> int:
    args = ["fit", TINY, "--board", str(board), "--data", "digits", "--fractions", "1,0.75,0.5"]
    return main([*args, "--epochs", "0", "--margin", "0", "--exact-seconds", "0", "-o", str(out), *extra])


def _weights_in_qspi(elf: Path) -> int:
    with open(elf, "rb") as f:
        symbols = ELFFile(f).get_section_by_name(".symtab").iter_symbols()
        return sum(s["st_size"] for s in symbols if s.name.startswith("W_") and s["st_value"] >= QSPI)


def test_the_budget_counts_the_external_flash_and_says_where_weights_go(small_disco, tmp_path, capsys):
    out = tmp_path / "fit"
    assert _fit(small_disco, out, "--top", "1") == 0
    printed = capsys.readouterr().out
    assert "weights in" in printed and "73,728 B [flash 49,152 B + qspi 24,576 B]" in printed
    result = json.loads((out / "fit.json").read_text())
    rows = {c["name"]: c for c in result["candidates"]}
    assert result["budget"]["flash_bytes"] == 49_152 + 24_576
    assert result["external_flash"] == {"tier": "qspi", "capacity_bytes": 24_576}
    for row in rows.values():  # no room inside beside the code reserve: every weight in the QSPI flash
        assert row["weights_in"] == "qspi" and row["sizes"]["internal_weights_bytes"] == 0
        assert row["internal_flash_bytes"] == row["flash_bytes"] - row["sizes"]["external_weights_bytes"]
    # the dense model needs more than the internal flash (the old budget) and fits the two flashes in
    # total, but its weights outgrow the QSPI flash; the largest low-rank one whose weights fit wins
    dense = rows["dense"]
    assert dense["flash_bytes"] > 49_152 and dense["flash_bytes"] < 49_152 + 24_576
    assert dense["sizes"]["external_weights_bytes"] > 24_576 and not dense["fits"]
    assert result["winner"] == "lowrank 0.75" and rows["lowrank 0.75"]["fits"]
    # the winner's build: its weights at the QSPI flash's addresses, as estimated
    report = json.loads((out / "build" / "report.json").read_text())
    qspi = next(t for t in report["memory_tiers"] if t["name"] == "qspi")
    in_elf = _weights_in_qspi(out / "build" / "firmware" / "app.elf")  # arrays, less their alignment
    assert 0 < in_elf <= qspi["used_bytes"] <= 24_576
    assert result["build"]["external_flash_bytes"] == qspi["used_bytes"]
    assert abs(rows["lowrank 0.75"]["sizes"]["external_weights_bytes"] - qspi["used_bytes"]) <= 16 * 40


def test_weights_internal_counts_the_internal_flash_alone(small_disco, tmp_path, capsys):
    assert _fit(small_disco, tmp_path, "--weights", "internal", "--no-build") == 0
    result = json.loads((tmp_path / "fit.json").read_text())
    assert result["budget"]["flash_bytes"] == 49_152 and result["external_flash"] is None
    rows = {c["name"]: c for c in result["candidates"]}
    assert {r["weights_in"] for r in rows.values()} == {"flash"}
    assert not rows["dense"]["fits"] and rows["lowrank 0.5"]["fits"]


def test_the_margin_is_on_the_sum_not_on_the_internal_flash_compile_fills():
    """Compile's --weights auto fills the internal flash up to its code reserve (MCUFormer's dense
    weights: 94% of it, the rest in the QSPI flash), so a margin on the internal flash alone refused
    every model that needed the external one; the margin applies to the total."""
    from edgexf.fit.measure import Overhead, Sizes
    from edgexf.fit.search import Budget, Candidate, judge
    from edgexf.targets.boards import load_board

    board = load_board("stm32f746g-disco")
    budget = Budget(board.flash.size + (16 << 20), board.ram.size, 0.1, board.flash.size, "qspi", 16 << 20)
    internal, external = 983_000 - 34_532, 7_166_208  # MCUFormer dense, less its measured overhead
    sizes = Sizes(
        7_787_476, internal + external, 197_616, 197_616, "greedy", 1.0, internal, external, 39, "qspi"
    )
    cand = Candidate("dense", 1.0, sizes=sizes)
    judge([cand], board, Overhead(34_532, 8, "dense", 0, 0), budget)
    assert cand.internal_flash_bytes > budget.usable(board.flash.size)  # over a 90% margin there
    assert cand.fits

"""`edgexf fit` on a tiny ViT (tests/fit/tiny_vit.py, digits 8x8): the result really fits, budgets are
respected, a budget too small says so clearly, and the table, plot and JSON are written.

Needs the ARM toolchain (the overhead build and the winner's firmware); about 30 s on 2 cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from fit.tiny_vit import CONFIG

from edgexf.cli import main
from edgexf.compress.lowrank import decompose, lowrank_summary
from edgexf.fit.cli_fit import parse_bytes
from edgexf.fit.search import FitError, arch_space, candidates
from edgexf.frontends import from_program, load_model
from edgexf.models.vit import ViT
from edgexf.targets.boards import load_board
from edgexf.targets.size import elf_sizes

TINY = f"{Path(__file__).with_name('tiny_vit.py')}:build"
# The tiny model's estimated flash (int8 weights + about 27.6 KB of code and runtime, the DSP attention,
# LayerNorm (one normalizing loop per output shift) and fast add kernels included): dense about 55.2 KB,
# lowrank 0.75 about 51.2 KB, 0.5 about 47.5 KB.
FLASH_BUDGET = 53_000


def fit(*extra: str) -> int:
    return main(["fit", TINY, "--board", "stm32f746", "--data", "digits", *extra])


def test_fit_result_really_fits_a_budget_that_forces_decomposition(tmp_path, capsys):
    out = tmp_path / "fit"
    code = fit(
        "--fractions", "1,0.75,0.5", "--top", "1", "--budget-flash", str(FLASH_BUDGET), "--margin", "0",
        "--epochs", "1", "--exact-seconds", "0", "-o", str(out),
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "* lowrank 0.75" in printed  # the dense model is over budget; the largest that fits wins
    for column in ("weights int8 B", "arena B", "flash B", "RAM B", "fits", "acc before", "acc after"):
        assert column in printed
    result = json.loads((out / "fit.json").read_text())
    rows = {c["name"]: c for c in result["candidates"]}
    assert not rows["dense"]["fits"] and rows["lowrank 0.75"]["fits"]
    assert result["winner"] == "lowrank 0.75" and rows["lowrank 0.75"]["accuracy_after"] is not None
    assert (out / "fit.png").stat().st_size > 10_000 and (out / "fit_model.pt2").is_file()
    # The compiled firmware's ELF, read again: within the budget and the board.
    board = load_board("stm32f746")
    use = elf_sizes(out / "build" / "firmware" / "app.elf", board)
    assert use.flash_bytes <= FLASH_BUDGET and use.ram_bytes <= board.ram.size
    assert result["build"]["flash_bytes"] == use.flash_bytes
    # The estimate (int8 weights + the overhead measured on the smallest candidate) is within 2% of the
    # real build: the kernels linked, and so the code, differ a little between candidates (660 B on
    # this model since the kernels of issue 23, 1.3%; the winner's real build is checked above)
    assert abs(rows["lowrank 0.75"]["flash_bytes"] - use.flash_bytes) < 0.02 * use.flash_bytes
    report = json.loads((out / "build" / "report.json").read_text())
    assert report["quantization"]["dtype"] == "int8"
    # report.json's "lowrank" entry (which layers, their ranks, the bytes saved), as compile wrote it
    entry = report["lowrank"]
    assert entry == lowrank_summary(load_model(out / "fit_model.pt2").graph)
    assert entry["bytes_saved"]["int8"] == rows["lowrank 0.75"]["lowrank"]["bytes_saved"]["int8"] > 0
    assert entry["factorized"] == len(entry["layers"]) > 0 and all(layer["rank"] for layer in entry["layers"])


def _ram_column(printed: str) -> dict[str, int]:
    """The fit table's RAM B column, by candidate name."""
    rows = [line[2:] for line in printed.splitlines() if "low-rank" in line or line[2:].startswith("dense ")]
    return {r.split("  ")[0]: int(r.split()[-4].replace(",", "")) for r in rows}


def test_sram_budget_respected(tmp_path, capsys):
    """RAM is a constraint like flash: at the candidates' own RAM figure they fit (the most accurate, the
    dense model, wins); one byte below it none does, and the message says by how much. (Here the arena
    no longer shrinks with the rank: the tiny ViT's largest buffer is not a rank-r intermediate.)"""
    results = ("--epochs", "0", "--margin", "0", "-o", str(tmp_path), "--no-build")
    assert fit("--fractions", "1,0.5", *results) == 0
    ram = _ram_column(capsys.readouterr().out)
    need = max(ram.values())
    assert fit("--fractions", "1,0.5", "--budget-sram", str(need), *results) == 0
    assert next(line for line in capsys.readouterr().out.splitlines() if "dense " in line).startswith("* ")
    least = min(ram.values())
    assert (
        fit(
            "--fractions",
            "1,0.5",
            "--epochs",
            "0",
            "--budget-sram",
            str(least - 1),
            "--margin",
            "0",
            *results,
        )
        == 5
    )
    err = capsys.readouterr().err
    assert "no candidate fits" in err and "RAM: over by 1 B" in err
    assert json.loads((tmp_path / "fit.json").read_text())  # the search is kept even when nothing fits


def test_fit_without_o_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as e:
        main(["fit", TINY, "--board", "stm32f746", "--data", "digits"])
    assert e.value.code == 2
    assert "the following arguments are required: -o/--out" in capsys.readouterr().err


def test_too_small_budget_says_by_how_much_and_what_helps(tmp_path, capsys):
    code = fit("--fractions", "1,0.5", "--epochs", "0", "--budget-flash", "20KB", "-o", str(tmp_path))
    err = capsys.readouterr().err
    assert code == 5  # DoesNotFitError
    assert "no candidate fits stm32f746" in err
    assert "the nearest, lowrank 0.5" in err and "flash: over by" in err
    assert "What would help" in err and "--fractions" in err
    assert json.loads((tmp_path / "fit.json").read_text())["winner"] is None  # written all the same


def test_arch_space_on_a_tiny_vit():
    with pytest.raises(FitError, match="edgexf.models.vit.ViT"):
        candidates(torch.nn.Linear(2, 2), (1.0,), search_arch=True)

    space = arch_space(CONFIG, widths=(16, 32))
    assert {"patch_size": 2, "embed_dim": 16} in space and {"patch_size": 4, "embed_dim": 32} not in space
    assert all(CONFIG.image_size % a["patch_size"] == 0 for a in space)
    with pytest.raises(FitError, match="divide the image"):
        arch_space(CONFIG, patches=(3,))


def test_search_arch_measures_and_trains_other_shapes(tmp_path, capsys):
    # D 16 halves the weights: only the narrow candidates (35.7 KB) fit 40 KB; one is trained from scratch.
    code = fit(
        "--search-arch", "--arch-patches", "2,4", "--arch-widths", "16,32", "--fractions", "1",
        "--arch-epochs", "1", "--epochs", "0", "--top", "1", "--exact-seconds", "0",
        "--budget-flash", "40000", "--margin", "0", "-o", str(tmp_path), "--no-build",
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    rows = {line[2:].split("  ")[0]: line for line in printed.splitlines() if line[2:4] in ("P2", "P4", "de")}
    assert set(rows) == {"dense", "P2 D16 dense", "P2 D32 dense", "P4 D16 dense"}
    assert " no " in rows["dense"] and " no " in rows["P2 D32 dense"]
    assert rows["P2 D16 dense"].startswith("* ") and rows["P2 D16 dense"].rstrip().endswith("%")


def test_parse_bytes():
    assert (
        parse_bytes("1MB") == 1 << 20 and parse_bytes("320KB") == 327_680 and parse_bytes("900000") == 900_000
    )
    with pytest.raises(Exception, match="not a size"):
        parse_bytes("1 GBx")


def test_lowrank_summary_for_report_json():
    torch.manual_seed(0)
    model = ViT(CONFIG).eval()
    small, plan = decompose(model, budget_fraction=0.5)
    ep = torch.export.export(small, (torch.zeros(1, 1, 8, 8),))
    entry = lowrank_summary(from_program(ep, "m", "m").graph)
    ranks = {layer["name"]: layer["rank"] for layer in plan["layers"] if layer["rank"] is not None}
    assert {layer["name"]: layer["rank"] for layer in entry["layers"]} == ranks
    assert entry["bytes_saved"]["int8"] == plan["bytes_saved"]["int8"]
    assert (
        lowrank_summary(from_program(torch.export.export(model, (torch.zeros(1, 1, 8, 8),)), "m", "m").graph)
        is None
    )

"""What `edgexf fit` does once its arguments are parsed (edgexf/fit/cli_fit.py parses them; this
module imports torch, so the parser stays light for `edgexf --help`)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from edgexf.compress.finetune import training_data
from edgexf.datasets import save_npz
from edgexf.errors import DoesNotFitError
from edgexf.fit.measure import MEASURE_EXACT_TIME_S, lower, measure_graph, measure_overhead
from edgexf.fit.plot import write_plot
from edgexf.fit.report import nothing_fits, table, write_json
from edgexf.fit.search import (
    Budget,
    FitError,
    accuracy_as_is,
    candidates,
    chosen,
    finetune_chosen,
    judge,
    measure_all,
    vit_config,
    winner,
)
from edgexf.targets.boards import Board, load_board
from edgexf.targets.placement import check_mode, weights_flash
from edgexf.targets.toolchain import find_tool


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_module(spec: str) -> tuple[torch.nn.Module, torch.Tensor]:
    from edgexf.frontends import call_builder

    if ".py:" not in spec:
        raise FitError(
            f"{spec}: fit decomposes and fine-tunes a PyTorch module, so it needs FILE.py:FUNCTION returning "
            "(nn.Module, example_input), not an exported program"
        )
    path, func = spec.rsplit(":", 1)
    module, example = call_builder(Path(path), func)
    example = example[0] if isinstance(example, (tuple, list)) else example
    return module.eval(), torch.as_tensor(example)


def cmd_fit(args: argparse.Namespace) -> int:
    if args.exact_seconds is None:
        args.exact_seconds = MEASURE_EXACT_TIME_S
    board = load_board(args.board)
    find_tool("arm-none-eabi-gcc")  # the overhead build, before any work
    if not 0 <= args.margin < 1 or args.top < 1 or args.epochs < 0:
        raise FitError("--margin must be in [0, 1), --top at least 1, --epochs at least 0")
    check_mode(board, args.weights)  # --weights external on a board without external flash: exit 2
    budget = make_budget(board, args)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    _log(f"loading {args.model}")
    model, example = load_module(args.model)
    split = training_data(args.data)
    x_calib = split.x_train[: args.calibration_samples]
    cands = candidates(model, args.fractions, args.search_arch, args.arch_patches, args.arch_widths)

    _log(f"measuring {len(cands)} candidates (int8, fused, planned as compile does)")
    modules = measure_all(cands, model, example, x_calib, board, _log, args.exact_seconds, args.weights)
    accuracy_as_is(cands, modules, split)
    smallest = min(cands, key=lambda c: c.sizes.weights_bytes)
    _log(f"measuring code and runtime overhead on a real build of {smallest.name}")
    work = args.out / "overhead_build"
    overhead = _overhead(modules[smallest.name], example, x_calib, board, smallest.name, work)
    _log(f"  overhead: flash {overhead.flash_bytes:,} B, RAM {overhead.ram_bytes:,} B beyond arena and stack")
    judge(cands, board, overhead, budget)
    if not any(c.fits for c in cands):
        _write(args, cands, board, budget, overhead, None, {})
        raise nothing_fits(cands, budget, board, args.search_arch)

    picks = chosen(cands, args.top)
    base_cfg = vit_config(model) if args.search_arch else None

    def remeasure(cand, module):
        graph = lower(module, example, cand.name)
        cand.sizes = measure_graph(
            graph, x_calib, board, exact_time_s=args.exact_seconds, weights=args.weights
        )
        judge([cand], board, overhead, budget)

    finetune_chosen(
        picks, modules, split, epochs=args.epochs, arch_epochs=args.arch_epochs, lr=args.lr,
        device=args.device, log=_log, remeasure=remeasure, base_cfg=base_cfg,
    )  # fmt: skip
    win = winner(picks)
    print(f"\n{table(cands, budget, win)}")
    print(f"winner: {win.name} ({win.ranks_summary()}), held-out top-1 {win.accuracy_after:.2%}")
    if args.no_build:
        _write(args, cands, board, budget, overhead, win, {})
        print(
            f"wrote {args.out}/ (fit.json, fit.png); without --no-build the winner is exported and compiled"
        )
        return 0
    build = _compile(args, modules[win.name], example, split, board)
    verdict = _check_build(build, budget, board)
    print(verdict["text"])
    _write(args, cands, board, budget, overhead, win, {"build": verdict | {"dir": str(args.out / "build")}})
    print(f"wrote {args.out}/ (fit.json, fit.png, fit_model.pt2, build/)")
    return 0


def make_budget(board: Board, args: argparse.Namespace) -> Budget:
    """--budget-flash (default: all the flash that may hold weights, the internal flash plus a board's
    external flash under --weights auto or external) and --budget-sram (default: the board's RAM)."""
    total, _ = weights_flash(board, args.weights)
    ram = args.budget_sram or board.ram.size
    tier = board.weights_tier if total > board.flash.size else None
    if tier is None:
        return Budget(args.budget_flash or total, ram, args.margin)
    return Budget(args.budget_flash or total, ram, args.margin, board.flash.size, tier.name, tier.region.size)


def _overhead(module, example, x_calib, board, name: str, work: Path | None):
    import tempfile

    if work is not None:
        return measure_overhead(lower(module, example, name), x_calib, board, work, name)
    with tempfile.TemporaryDirectory(prefix="edgexf_fit_") as tmp:
        return measure_overhead(lower(module, example, name), x_calib, board, Path(tmp), name)


def _write(args, cands, board, budget, overhead, win, extra: dict) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    extra = {
        "command": "edgexf " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "model": args.model,
    } | extra
    _log(f"wrote {write_json(args.out / 'fit.json', cands, board, budget, overhead, win, extra)}")
    _log(f"wrote {write_plot(args.out / 'fit.png', cands, board, budget, win)}")


def _compile(args, module, example, split, board) -> dict:
    from edgexf.pipeline import MemoryOptions, QuantOptions, compile_model

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "fit_model.pt2"
    torch.export.save(torch.export.export(module.eval(), (example,)), model_path)
    calib = save_npz(out / "calibration.npz", split.x_train[: args.calibration_samples])
    test = save_npz(out / "test.npz", split.x_test, split.y_test)
    _log(f"compiling the winner ({model_path}) int8 for {board.name}")
    return compile_model(
        model_path, args.board, out / "build",
        test_data=test, max_vectors=args.test_vectors, command=f"edgexf fit {args.model}", log=_log,
        quant=QuantOptions(calib), memory=MemoryOptions(exact_time_s=args.exact_seconds),
        dsp_weights="int8",  # as the candidates were measured: the budget was chosen against int8 weights
        weights=args.weights,
    )  # fmt: skip


def _check_build(report: dict, budget: Budget, board) -> dict:
    """The real ELF's flash and RAM against the board and the budget: how much room is left. Flash
    against the budget is all of it, the external tier's weights included (report.json memory_tiers)."""
    flash, ram = report["flash_bytes"], report["ram_bytes"]
    tiers = {t["name"]: t for t in report.get("memory_tiers", [])}
    external = tiers[budget.tier]["used_bytes"] if budget.tier in tiers else 0
    room = {
        "flash_bytes": flash,
        "external_flash_bytes": external,
        "ram_bytes": ram,
        "flash_room_board": board.flash.size - flash,
        "ram_room_board": board.ram.size - ram,
        "flash_room_budget": budget.flash_bytes - flash - external,
        "ram_room_budget": budget.ram_bytes - ram,
        "within_margin": flash + external <= budget.usable_flash and ram <= budget.usable_ram,
    }
    text = (
        f"build ({board.name}, int8): flash {flash:,} B of {board.flash.size:,} "
        f"({room['flash_room_board']:,} B "
        f"free), RAM {ram:,} B of {board.ram.size:,} ({room['ram_room_board']:,} B free, stack included)"
    )
    capacity = board.flash.size + budget.tier_bytes  # all the flash that may hold the model
    if budget.tier is not None:
        text += f"; external '{budget.tier}' {external:,} B of {budget.tier_bytes:,}"
    if (budget.flash_bytes, budget.ram_bytes) != (capacity, board.ram.size):
        text += (
            f"\n  against the budget: flash {room['flash_room_budget']:,} B free of "
            f"{budget.describe_flash()}, RAM {room['ram_room_budget']:,} B free of {budget.ram_bytes:,}"
        )
    if room["flash_room_budget"] < 0 or room["ram_room_budget"] < 0:
        raise DoesNotFitError(
            f"{text}\nthe real build exceeds the budget: the overhead estimate was low; raise --margin"
        )
    if not room["within_margin"]:
        text += f"\n  note: within the budget but not its {budget.margin:.0%} margin"
    return room | {"text": text}

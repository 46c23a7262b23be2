"""What `edgexf fit` prints and writes: the candidate table, fit.json, and the error when nothing fits."""

from __future__ import annotations

import json
from pathlib import Path

from edgexf.errors import DoesNotFitError
from edgexf.fit.measure import Overhead
from edgexf.fit.search import Budget, Candidate
from edgexf.targets.boards import Board
from edgexf.targets.does_not_fit import boards_with

COLUMNS = (
    "candidate",
    "ranks",
    "params",
    "weights int8 B",
    "arena B",
    "flash B",
    "weights in",
    "RAM B",
    "fits",
    "acc before",
    "acc after",
)


class NothingFitsError(DoesNotFitError):
    """No candidate of the search fits the budget."""


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"


def table(cands: list[Candidate], budget: Budget, winner: Candidate | None = None) -> str:
    """One row per candidate; the winner marked with '*'. Flash and RAM are estimates (weights or
    arena plus the measured overhead) against the budget less the margin."""
    rows = [COLUMNS]
    for c in cands:
        s = c.sizes
        rows.append(
            (
                ("* " if c is winner else "  ") + c.name,
                c.ranks_summary(),
                f"{c.params:,}",
                f"{s.weights_bytes:,}",
                f"{s.arena_bytes:,}",
                f"{c.flash_bytes:,}",
                s.weights_in(),
                f"{c.ram_bytes:,}",
                "yes" if c.fits else "no",
                _pct(c.accuracy_before),
                _pct(c.accuracy_after),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(
        f"budget: flash {budget.usable_flash:,} B, RAM {budget.usable_ram:,} B "
        f"({budget.describe_flash()} and {budget.ram_bytes:,} B less a {budget.margin:.0%} margin)"
    )
    return "\n".join(lines)


def nothing_fits(cands: list[Candidate], budget: Budget, board: Board, search_arch: bool) -> NothingFitsError:
    """The error naming the smallest candidate, by how much it misses, and what would help."""

    def miss(c: Candidate) -> tuple[int, int]:
        over = c.flash_bytes - budget.usable_flash
        if budget.tier is not None:  # each flash must hold its share too
            over = max(over, c.internal_flash_bytes - budget.internal_flash_bytes)
            over = max(over, c.sizes.external_weights_bytes - budget.tier_bytes)
        return max(0, over), max(0, c.ram_bytes - budget.usable_ram)

    best = min(cands, key=lambda c: sum(miss(c)))
    over_flash, over_ram = miss(best)
    lines = [
        f"no candidate fits {board.name} within flash {budget.usable_flash:,} B and RAM "
        f"{budget.usable_ram:,} B (the budget less a {budget.margin:.0%} margin).",
        f"  the nearest, {best.name} ({best.ranks_summary()}): flash {best.flash_bytes:,} B "
        f"(int8 weights {best.sizes.weights_bytes:,} B in {best.sizes.weights_in()} + runtime), RAM "
        f"{best.ram_bytes:,} B (arena {best.sizes.arena_bytes:,} B + stack + runtime)",
    ]
    if over_flash:
        lines.append(f"  flash: over by {over_flash:,} B")
    if over_ram:
        lines.append(f"  RAM: over by {over_ram:,} B")
    helps = []
    if over_flash:
        helps.append("smaller low-rank budgets (--fractions 0.2,0.15,0.1: fewer weights, less accuracy)")
    if over_ram and not search_arch:
        helps.append("--search-arch for a ViT (larger patches and narrower widths shrink the arena)")
    if over_ram:
        helps.append("a narrower or shorter-sequence model: low-rank budgets barely change the arena")
    helps.append(f"a smaller --margin (now {budget.margin:g})")
    others = [
        b for b in boards_with(best.flash_bytes * 100 // 90, best.ram_bytes * 100 // 90) if b != board.name
    ]
    if others:
        helps.append(f"a larger board ({', '.join(others)})")
    lines.append("What would help: " + "; ".join(helps) + ".")
    return NothingFitsError("\n".join(lines))


def write_json(
    path: Path,
    cands: list[Candidate],
    board: Board,
    budget: Budget,
    overhead: Overhead,
    winner: Candidate | None,
    extra: dict,
) -> Path:
    data = {
        "board": board.name,
        "flash_capacity_bytes": board.flash.size,
        "external_flash": {"tier": budget.tier, "capacity_bytes": budget.tier_bytes} if budget.tier else None,
        "ram_capacity_bytes": board.ram.size,
        "stack_bytes": board.stack_bytes,
        "budget": budget.to_dict(),
        "overhead": overhead.to_dict(),
        "winner": winner.name if winner else None,
        "candidates": [c.to_dict() for c in cands],
        **extra,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path

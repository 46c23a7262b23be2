"""fit.png: accuracy against flash and against RAM for every candidate, with the board's limits drawn."""

from __future__ import annotations

from pathlib import Path

from edgexf.fit.search import Budget, Candidate
from edgexf.targets.boards import Board


def write_plot(
    path: Path, cands: list[Candidate], board: Board, budget: Budget, winner: Candidate | None = None
) -> Path:
    """Two panels (flash, RAM; KB on x, held-out top-1 on y). Hollow: before fine-tuning, filled: after;
    candidates never evaluated (untrained architectures not chosen) sit on the x axis as crosses.
    Solid red line: the board's capacity; dashed: the budget less the margin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    flash = "flash" if budget.tier is None else f"flash + {budget.tier}"  # all the flash weights may use
    flash_size = board.flash.size + budget.tier_bytes
    panels = (
        (flash, lambda c: c.flash_bytes, flash_size, budget.flash_bytes, budget.usable_flash),
        ("RAM", lambda c: c.ram_bytes, board.ram.size, budget.ram_bytes, budget.usable_ram),
    )
    for ax, (what, size, capacity, given, usable) in zip(axes, panels):
        for c in cands:
            x = size(c) / 1024
            colour = "tab:green" if c.fits else "tab:grey"
            if c.accuracy_before is None and c.accuracy_after is None:
                ax.plot(x, 0, "x", color=colour)
            if c.accuracy_before is not None:
                ax.plot(x, 100 * c.accuracy_before, "o", mfc="none", color=colour)
            if c.accuracy_after is not None:
                ax.plot(x, 100 * c.accuracy_after, "o", color="tab:blue" if c is winner else colour)
                ax.annotate(
                    c.name, (x, 100 * c.accuracy_after), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
        ax.axvline(capacity / 1024, color="tab:red", label=f"{board.name} {what} {capacity / 1024:,.0f} KB")
        if given != capacity:
            ax.axvline(given / 1024, color="tab:orange", label=f"budget {given / 1024:,.0f} KB")
        ax.axvline(usable / 1024, color="tab:red", ls="--", label=f"less {budget.margin:.0%} margin")
        ax.set_xlabel(
            f"{what} (KB, estimated: {'int8 weights' if what == flash else 'arena + stack'} + runtime)"
        )
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out top-1 (%): hollow before fine-tuning, filled after")
    fig.suptitle(f"edgexf fit for {board.name}: green fits, grey does not; blue is the winner", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

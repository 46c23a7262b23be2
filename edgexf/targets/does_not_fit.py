"""The error for a model that does not fit its board: which memory, by how much, and what would help,
with the known boards large enough for it."""

from __future__ import annotations

from edgexf.errors import BoardError, DoesNotFitError
from edgexf.targets.boards import Board, list_boards, load_board


def does_not_fit(board: Board, overflows: dict[str, int]) -> DoesNotFitError:
    """The error for a linker region overflow: which memory, by how much, and what would help.

    `overflows` maps the linker's region name (FLASH, RAM, EXTFLASH, EXTRAM) to its "overflowed by N
    bytes" (EXTRAM's capacity is the board's, though an emulated image's stand-in may be smaller: compile
    checks the arena against that first, edgexf/targets/arena.py);
    the error carries it as .overflows, keyed 'flash', 'ram' and the external tier's name.
    """
    tier = board.weights_tier
    capacity = {"FLASH": board.flash.size, "RAM": board.ram.size}
    label = {"FLASH": "flash", "RAM": "RAM"}
    key = {"FLASH": "flash", "RAM": "ram"}
    if tier is not None:
        capacity["EXTFLASH"], label["EXTFLASH"], key["EXTFLASH"] = (
            tier.region.size,
            tier.describe(),
            tier.name,
        )
    ram_tier = board.arena_tier
    if ram_tier is not None:
        capacity["EXTRAM"], label["EXTRAM"], key["EXTRAM"] = (
            ram_tier.region.size,
            ram_tier.describe(),
            ram_tier.name,
        )
    lines = [f"the model does not fit {board.name}:"]
    for region, over in overflows.items():
        stack = f" (including the {board.stack_bytes:,} B reserved for the stack)" if region == "RAM" else ""
        lines.append(
            f"  {label[region]}: needs {capacity[region] + over:,} B{stack}, "
            f"the board has {capacity[region]:,} B: over by {over:,} B"
        )
    # what the weights and code need in all: the internal flash, and the external one where it is short
    needed_flash = capacity["FLASH"] + overflows.get("FLASH", 0)
    if "EXTFLASH" in overflows:
        needed_flash += capacity["EXTFLASH"] + overflows["EXTFLASH"]
    fits = boards_with(needed_flash, capacity["RAM"] + overflows.get("RAM", 0))
    hints = []
    if "FLASH" in overflows and tier is not None:
        hints.append(f"--weights external puts all the weights in {tier.describe()}")
    if overflows.keys() & {"FLASH", "EXTFLASH"}:
        hints.append(
            "fewer weight bytes: --lowrank FRACTION factorizes the linear layers (edgexf fit searches the "
            "ranks for a flash budget), --quantize int8 stores a float32 model's weights in a quarter"
        )
    if "RAM" in overflows and ram_tier is not None:
        hints.append(f"--arena external puts the arena in {ram_tier.describe()}")
    if overflows.keys() & {"RAM", "EXTRAM"}:
        hints.append("a smaller arena: --quantize int8 for a float32 model, fewer tokens or narrower layers")
    short = " and ".join(
        dict.fromkeys({"EXTFLASH": "flash", "EXTRAM": "RAM"}.get(r, label[r]) for r in overflows)
    )
    hints.append(f"a smaller model, or a board with more {short}")
    lines.append(
        "To make it fit: " + "; ".join(hints) + (f" (large enough: {', '.join(fits)})." if fits else ".")
    )
    error = DoesNotFitError("\n".join(lines))
    error.overflows = {key[r]: n for r, n in overflows.items()}  # type: ignore[attr-defined]
    return error


def boards_with(needed_flash: int, needed_ram: int) -> list[str]:
    """Boards with that much flash, counting an external flash for weights, and RAM. Code size differs
    a little between cores and FPUs, and weights fill an external flash only in whole tensors: a hint,
    not a promise."""
    fits = []
    for name in list_boards():
        try:
            other = load_board(name)
        except BoardError:
            continue
        tier = other.weights_tier
        flash = other.flash.size + (tier.region.size if tier is not None else 0)
        if flash >= needed_flash and other.ram.size >= needed_ram:
            fits.append(name)
    return fits

"""Buffers pinned to another (Buffer.anchor): an input's rest beside the output that took it over.

A rest must sit exactly `rel` bytes from its buffer (edgexf/memory/lifetimes.py), so the planners place
a buffer and its rests as one unit: the parts move together, and an offset is taken only where every
part is free. Units of one buffer (nearly all) keep each planner's own placement rule.
"""

from __future__ import annotations

from edgexf.memory.lifetimes import Buffer

Unit = list[tuple[Buffer, int]]  # (buffer, bytes from the unit's first buffer), the first at 0


def units(bufs: list[Buffer]) -> dict[str, Unit]:
    """Buffer name -> its unit, for every buffer that is not pinned to another."""
    out: dict[str, Unit] = {b.name: [(b, 0)] for b in bufs if b.anchor is None}
    for b in bufs:
        if b.anchor is not None:
            root, rel = b.anchor
            if root not in out:
                raise ValueError(f"buffer {b.name} is pinned to {root!r}, which is not a free buffer")
            out[root].append((b, rel))
    return out


def lowest_fit(unit: Unit, placed: list[Buffer], offsets: dict[str, int], alignment: int) -> int:
    """The lowest aligned offset for the unit's first buffer at which no part overlaps a placed buffer
    live at the same time, and no part goes below 0. The candidates are 0 and each part just above each
    placed buffer; the highest of them puts every part above every conflict, so one always fits.
    O((parts x placed)^2)."""
    clashes = [(o, b, rel) for b, rel in unit for o in placed if o.overlaps_in_time(b)]
    low = -min(rel for _, rel in unit)
    tops = {offsets[o.name] + o.size - rel for o, _, rel in clashes}  # a part just above o
    candidates = {low} | {-(-top // alignment) * alignment for top in tops}
    for x in sorted(c for c in candidates if c >= low):
        clear = (
            x + rel >= offsets[o.name] + o.size or offsets[o.name] >= x + rel + b.size
            for o, b, rel in clashes
        )
        if all(clear):
            return x
    raise AssertionError("unreachable: the highest candidate clears every conflict")


def place(unit: Unit, x: int, offsets: dict[str, int], placed: list[Buffer]) -> None:
    for b, rel in unit:
        offsets[b.name] = x + rel
        placed.append(b)

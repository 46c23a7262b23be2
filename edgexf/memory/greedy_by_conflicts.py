"""Greedy-by-conflicts arena planner: a second heuristic, most constrained buffer first.

1. For each buffer, its pressure: its own bytes plus the bytes of every buffer whose lifetime intersects
   it (all the bytes it must coexist with at some step).
2. Sort by pressure, highest first (ties: larger size, earlier start, then name, so plans are
   reproducible).
3. For each buffer, walk the already placed buffers that conflict with it in offset order and collect
   the (aligned) gaps between them large enough to hold it; take the smallest such gap (best fit, the
   lowest one on ties), else go above them all.
4. The arena is the highest end, rounded up to the alignment.
A buffer with rests pinned to it (edgexf/memory/pinned.py) is placed with them, ranked by its parts'
highest pressure, at the lowest offset where every part fits.
O(n^2) in the number of buffers, like greedy_by_size; it wins on some graphs and loses on others, so
the planners module runs both and keeps the smaller arena.
"""

from __future__ import annotations

from edgexf.memory.greedy_by_size import align_up
from edgexf.memory.lifetimes import Buffer
from edgexf.memory.pinned import lowest_fit, place, units


def conflicts(bufs: list[Buffer]) -> dict[str, list[Buffer]]:
    """Buffer name -> the other buffers whose lifetimes intersect it (in the order of bufs)."""
    out: dict[str, list[Buffer]] = {b.name: [] for b in bufs}
    for i, a in enumerate(bufs):
        for b in bufs[i + 1 :]:
            if a.overlaps_in_time(b):
                out[a.name].append(b)
                out[b.name].append(a)
    return out


def plan_greedy_by_conflicts(bufs: list[Buffer], alignment: int = 16) -> dict[str, int]:
    neighbours = conflicts(bufs)
    pressure = {b.name: b.size + sum(o.size for o in neighbours[b.name]) for b in bufs}
    groups = units(bufs)
    rank = {n: max((pressure[b.name], b.size) for b, _ in unit) for n, unit in groups.items()}
    offsets: dict[str, int] = {}
    heads = (unit[0][0] for unit in groups.values())
    for buf in sorted(heads, key=lambda b: (-rank[b.name][0], -rank[b.name][1], b.start, b.name)):
        if len(groups[buf.name]) > 1:  # with its rests: every buffer placed so far is in the way
            done = [b for b in bufs if b.name in offsets]
            place(groups[buf.name], lowest_fit(groups[buf.name], done, offsets, alignment), offsets, done)
            continue
        placed = sorted(
            ((offsets[o.name], o.size) for o in neighbours[buf.name] if o.name in offsets),
        )
        best: tuple[int, int] | None = None  # (gap bytes, offset)
        cursor = 0
        for off, size in placed:
            gap = off - cursor
            if gap >= buf.size and (best is None or gap < best[0]):
                best = (gap, cursor)
            cursor = max(cursor, align_up(off + size, alignment))
        offsets[buf.name] = cursor if best is None else best[1]
    return offsets

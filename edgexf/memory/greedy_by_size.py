"""Greedy-by-size arena planner (the algorithm of TFLM's greedy_memory_planner, not optimal).

1. Sort buffers by size, largest first (ties: earlier start, then name, so plans are reproducible).
2. For each buffer, collect the already placed buffers whose lifetimes intersect it, by offset.
3. Walk them in offset order and take the first gap (aligned) large enough; else go above them all.
4. The arena is the highest end, rounded up to the alignment.
A buffer with rests pinned to it (edgexf/memory/pinned.py) is placed with them, sorted by its largest
part, at the lowest offset where every part fits.
O(n^2) in the number of buffers; fine for the few hundred a model has.
"""

from __future__ import annotations

from edgexf.memory.lifetimes import Buffer
from edgexf.memory.pinned import lowest_fit, place, units


def align_up(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def plan_greedy_by_size(bufs: list[Buffer], alignment: int = 16) -> dict[str, int]:
    offsets: dict[str, int] = {}
    placed: list[Buffer] = []
    groups = units(bufs)
    size = {name: max(b.size for b, _ in unit) for name, unit in groups.items()}
    for buf in sorted((u[0][0] for u in groups.values()), key=lambda b: (-size[b.name], b.start, b.name)):
        if len(groups[buf.name]) > 1:
            place(groups[buf.name], lowest_fit(groups[buf.name], placed, offsets, alignment), offsets, placed)
            continue
        offset = 0
        for other in sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: offsets[p.name]):
            if offset + buf.size <= offsets[other.name]:
                break
            offset = max(offset, align_up(offsets[other.name] + other.size, alignment))
        offsets[buf.name] = offset
        placed.append(buf)
    return offsets

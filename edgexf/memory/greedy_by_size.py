"""Greedy-by-size arena planner (the algorithm of TFLM's greedy_memory_planner, not optimal).

1. Sort buffers by size, largest first (ties: earlier start, then name, so plans are reproducible).
2. For each buffer, collect the already placed buffers whose lifetimes intersect it, by offset.
3. Walk them in offset order and take the first gap (aligned) large enough; else go above them all.
4. The arena is the highest end, rounded up to the alignment.
O(n^2) in the number of buffers; fine for the few hundred a model has.
"""

from __future__ import annotations

from edgexf.memory.lifetimes import Buffer


def align_up(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def plan_greedy_by_size(bufs: list[Buffer], alignment: int = 16) -> dict[str, int]:
    offsets: dict[str, int] = {}
    placed: list[Buffer] = []
    for buf in sorted(bufs, key=lambda b: (-b.size, b.start, b.name)):
        offset = 0
        for other in sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: offsets[p.name]):
            if offset + buf.size <= offsets[other.name]:
                break
            offset = max(offset, align_up(offsets[other.name] + other.size, alignment))
        offsets[buf.name] = offset
        placed.append(buf)
    return offsets

"""The plan verifier: proves that no two live buffers share a byte. Every planner's plan passes it
(planners.py), and plan_memory checks the winner again."""

from __future__ import annotations

from edgexf.memory.lifetimes import Buffer


class PlanError(AssertionError):
    """A plan puts two live buffers on the same bytes, or outside the arena: a planner bug."""


def verify_plan(
    bufs: list[Buffer] | tuple[Buffer, ...], offsets: dict[str, int], arena_bytes: int, alignment: int
) -> None:
    """No two buffers whose lifetimes intersect share a byte; all lie inside the arena, aligned; every
    rest at its place beside its buffer."""
    for b in bufs:
        off = offsets[b.name]
        if off % alignment or off < 0 or off + b.size > arena_bytes:
            raise PlanError(
                f"buffer {b.name} at [{off}, {off + b.size}) is misaligned or outside the "
                f"{arena_bytes}-byte arena"
            )
        if b.anchor is not None and off != offsets[b.anchor[0]] + b.anchor[1]:
            raise PlanError(f"buffer {b.name} at {off} is not {b.anchor[1]} bytes from {b.anchor[0]}")
    ordered = sorted(bufs, key=lambda b: b.start)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            if a.overlaps_in_time(b):
                oa, ob = offsets[a.name], offsets[b.name]
                if oa < ob + b.size and ob < oa + a.size:
                    raise PlanError(
                        f"buffers {a.name} (live [{a.start},{a.end}), bytes [{oa},{oa + a.size})) and "
                        f"{b.name} (live [{b.start},{b.end}), bytes [{ob},{ob + b.size})) overlap"
                    )

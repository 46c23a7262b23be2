"""Every arena planner, and the best of their plans: each one verified, the smallest arena wins.

The greedy planners run first; the exact planner (CP-SAT, when ortools is installed and the graph is
small enough) starts from the best greedy plan and can only improve on it. A plan that fails
verify_plan raises PlanError: a planner bug is never hidden by another planner's valid plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edgexf.memory import exact
from edgexf.memory.exact import plan_exact
from edgexf.memory.greedy_by_conflicts import plan_greedy_by_conflicts
from edgexf.memory.greedy_by_size import align_up, plan_greedy_by_size
from edgexf.memory.lifetimes import Buffer
from edgexf.memory.verify import verify_plan

PLANNERS: dict[str, Callable[..., object]] = {
    "greedy_by_size": plan_greedy_by_size,
    "greedy_by_conflicts": plan_greedy_by_conflicts,
    "exact": plan_exact,
}


def best_plan(
    bufs: list[Buffer],
    alignment: int = 16,
    exact_time_s: float = 10.0,
    planners: list[str] | tuple[str, ...] | None = None,
) -> tuple[str, dict[str, int], dict[str, dict]]:
    """(winning planner, its offsets, results): results[name] is {"arena_bytes", "seconds", ...}.

    planners: names from PLANNERS to run (default all), always in PLANNERS' order; exact gets the
    best plan so far as its hint and upper bound, and adds "optimal" and "status" to its results, or
    is {"skipped": reason} when it returns None. The smallest arena wins; ties go to the earlier planner.
    """
    names = list(PLANNERS) if planners is None else [n for n in PLANNERS if n in planners]
    unknown = set(planners or ()) - set(PLANNERS)
    if unknown or not names:
        raise ValueError(f"unknown planners {sorted(unknown)} (known: {list(PLANNERS)})")
    results: dict[str, dict] = {}
    best: tuple[str, dict[str, int], int] | None = None
    for name in names:
        t0 = time.perf_counter()
        if name == "exact":
            hint = best[1] if best else None
            res = plan_exact(bufs, alignment, hint=hint, max_time_s=exact_time_s)
            if res is None:
                results[name] = {"skipped": _why_exact_skipped(bufs)}
                continue
            offsets, extra = res.offsets, {"optimal": res.optimal, "status": res.status}
        else:
            offsets, extra = PLANNERS[name](bufs, alignment), {}
        seconds = time.perf_counter() - t0
        arena = align_up(max((offsets[b.name] + b.size for b in bufs), default=0), alignment)
        verify_plan(bufs, offsets, arena, alignment)
        results[name] = {"arena_bytes": arena, "seconds": seconds, **extra}
        if best is None or arena < best[2]:
            best = (name, offsets, arena)
    if best is None:
        raise ValueError(f"no planner produced a plan: {results}")
    return best[0], best[1], results


def _why_exact_skipped(bufs: list[Buffer]) -> str:
    if len(bufs) > exact.MAX_EXACT_BUFFERS:
        return f"{len(bufs)} buffers > MAX_EXACT_BUFFERS ({exact.MAX_EXACT_BUFFERS})"
    return "ortools is not installed"

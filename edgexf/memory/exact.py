"""Exact arena planner: the smallest arena for a given op order, found (or approached) by OR-Tools CP-SAT.

Model, in units of the alignment a: buffer i takes u_i = ceil(size_i / a) units at offset a * k_i
(k_i an integer), and with offsets on a-byte boundaries [a k_i, a k_i + size_i) and [a k_j, a k_j + size_j)
are disjoint exactly when [k_i, k_i + u_i) and [k_j, k_j + u_j) are. Lifetimes are intervals, so two
buffers conflict exactly when both are live at some step, and it suffices to post one NoOverlap over the
units of the buffers live at each step whose live set is maximal (at most one per start step). The
arena is a * top with k_i + u_i <= top for all i; minimize top. A rest pinned r bytes from buffer j
(Buffer.anchor) has k_i = k_j + r / a. Its domain is [lb, ub]: lb is the most
units live at one step (>= lifetimes.lower_bound, aligned up; no plan beats it), ub the hint's arena
(greedy's unless given) or upper_bound if smaller, and the hint seeds the search, so the answer is never
worse than greedy and the solver stops as soon as it meets lb.

Encodings measured (ortools 9.15) on random sets of 200-300 densely overlapping buffers, where greedy
misses lb and the limit stops the search: this one and NoOverlap2D (time x offset rectangles, time sides
fixed) reach about the same arenas per deterministic second (mean gap to lb 1.69% against 1.75% over 4
sets x 3 seeds), this one in less wall time; one Boolean per conflicting pair (ordering disjunctions)
never improved on the hint there and took 2-5x the wall time per deterministic second. Model-like graphs
(mostly short lifetimes) of up to 2000 buffers solve to optimality in under 2 s; vit_mnist in ~25 ms.

Reproducibility: one search worker, a fixed random seed, and a *deterministic* time limit (CP-SAT's
max_deterministic_time, a weighted count of operations), never a wall-clock one, so the stopping point
and so the plan do not depend on machine load. max_time_s is mapped to it by DTIME_PER_SECOND: on the
development machine (2 shared AMD EPYC cores, ortools 9.15) one deterministic unit took 7-15 s of wall
time (about 10 on average) on the dense sets above, so max_time_s=10 is 1.0 deterministic unit and takes
about 10 s there when the limit is reached at all; a faster machine spends fewer seconds on the same plan.
Plans are only reproducible for the same ortools version.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.memory.greedy_by_conflicts import plan_greedy_by_conflicts
from edgexf.memory.greedy_by_size import align_up, plan_greedy_by_size
from edgexf.memory.lifetimes import Buffer

# Beyond this many buffers plan_exact returns None (greedy only). Measured: model-like graphs of 1000
# buffers build and solve to optimality in ~0.3 s (2000: 0.8-1.6 s); dense sets of 1000 buffers stop at
# the deterministic limit after ~1.2-1.5x max_time_s of wall time here, without improving on greedy.
MAX_EXACT_BUFFERS = 1000
DTIME_PER_SECOND = 0.1  # CP-SAT deterministic time units per wall-clock second, measured (see above)
RANDOM_SEED = 0


@dataclass(frozen=True)
class ExactResult:
    offsets: dict[str, int]  # buffer name -> byte offset
    arena_bytes: int
    optimal: bool  # proven: no plan of this op order (and alignment) has a smaller arena
    status: str  # CP-SAT's status name first (OPTIMAL, FEASIBLE, INFEASIBLE, ...), then a remark


def _arena(bufs: list[Buffer], offsets: dict[str, int], alignment: int) -> int:
    return align_up(max((offsets[b.name] + b.size for b in bufs), default=0), alignment)


def maximal_live_sets(bufs: list[Buffer]) -> list[list[Buffer]]:
    """The maximal sets of buffers live at one step (the maximal cliques of the conflict graph).

    The live set at a start step t is maximal unless every buffer in it outlives the next start step
    (then the next start's live set holds it). Sets come in step order, buffers in (start, name) order.
    """
    ordered = sorted(bufs, key=lambda b: (b.start, b.name))
    starts = sorted({b.start for b in ordered})
    out, live, j = [], [], 0
    for i, t in enumerate(starts):
        live = [b for b in live if b.end > t]
        while j < len(ordered) and ordered[j].start == t:
            live.append(ordered[j])
            j += 1
        if i + 1 == len(starts) or min(b.end for b in live) <= starts[i + 1]:
            out.append(live)
    return out


def plan_exact(
    bufs: list[Buffer],
    alignment: int = 16,
    *,
    hint: dict[str, int] | None = None,
    upper_bound: int | None = None,
    max_time_s: float = 10.0,
) -> ExactResult | None:
    """The smallest arena CP-SAT finds within max_time_s (deterministic; see the module docstring).

    hint: a valid plan to start from and never do worse than (default: the better greedy plan).
    upper_bound: only look for arenas of at most this many bytes.
    Returns None when ortools is not installed or there are more than MAX_EXACT_BUFFERS buffers. When
    the solver finds nothing smaller than the hint, the hint comes back (optimal only if proven so).
    """
    if len(bufs) > MAX_EXACT_BUFFERS:
        return None
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        return None
    if not bufs:
        return ExactResult({}, 0, True, "OPTIMAL (no buffers)")
    if hint is None:
        hint = min(
            (plan_greedy_by_size(bufs, alignment), plan_greedy_by_conflicts(bufs, alignment)),
            key=lambda offsets: _arena(bufs, offsets, alignment),
        )
    hint_arena = _arena(bufs, hint, alignment)
    units = {b.name: -(-b.size // alignment) for b in bufs}
    cliques = maximal_live_sets(bufs)
    _check_hint(cliques, hint, units, alignment)
    lb = max(sum(units[b.name] for b in clique) for clique in cliques)
    ub = hint_arena // alignment
    if upper_bound is not None:
        ub = min(ub, upper_bound // alignment)
    if hint_arena // alignment <= lb:
        return ExactResult(dict(hint), hint_arena, True, "OPTIMAL (the hint meets the lower bound)")
    if ub < lb:
        remark = f"upper_bound {upper_bound} is below the lower bound {lb * alignment}"
        return ExactResult(dict(hint), hint_arena, False, f"INFEASIBLE ({remark})")

    model = cp_model.CpModel()
    ordered = sorted(bufs, key=lambda b: (b.start, b.name))  # the model does not depend on input order
    top = model.new_int_var(lb, ub, "top")
    k, box = {}, {}
    for b in ordered:
        k[b.name] = model.new_int_var(0, max(ub - units[b.name], 0), f"k_{b.name}")
        box[b.name] = model.new_fixed_size_interval_var(k[b.name], units[b.name], f"box_{b.name}")
        model.add(k[b.name] + units[b.name] <= top)
        model.add_hint(k[b.name], hint[b.name] // alignment)
    model.add_hint(top, hint_arena // alignment)
    for b in ordered:  # a rest sits at its fixed distance from its buffer (edgexf/memory/pinned.py)
        if b.anchor is not None:
            model.add(k[b.name] == k[b.anchor[0]] + b.anchor[1] // alignment)
    for clique in cliques:
        if len(clique) > 1:
            model.add_no_overlap([box[b.name] for b in clique])
    model.minimize(top)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.max_deterministic_time = max(max_time_s, 0.0) * DTIME_PER_SECOND
    status = solver.solve(model)
    name = solver.status_name(status)
    bound = round(solver.best_objective_bound) * alignment
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(dict(hint), hint_arena, False, f"{name} (no plan within the limits; the hint)")
    arena = round(solver.objective_value) * alignment
    optimal = status == cp_model.OPTIMAL
    if arena >= hint_arena:
        remark = "the hint is optimal" if optimal else f"no improvement on the hint; bound {bound}"
        return ExactResult(dict(hint), hint_arena, optimal, f"{name} ({remark})")
    offsets = {b.name: solver.value(k[b.name]) * alignment for b in bufs}
    remark = f"{hint_arena - arena} bytes below the hint" + ("" if optimal else f"; bound {bound}")
    return ExactResult(offsets, _arena(bufs, offsets, alignment), optimal, f"{name} ({remark})")


def _check_hint(
    cliques: list[list[Buffer]], hint: dict[str, int], units: dict[str, int], alignment: int
) -> None:
    """A hint must be a plan: aligned, and no two buffers live at one step on the same units."""
    for clique in cliques:
        for b in clique:
            if hint[b.name] % alignment or hint[b.name] < 0:
                raise ValueError(f"hint offset {hint[b.name]} of {b.name} is negative or misaligned")
        boxes = sorted((hint[b.name] // alignment, units[b.name], b.name) for b in clique if units[b.name])
        for (k1, u1, n1), (k2, _, n2) in zip(boxes, boxes[1:]):
            if k1 + u1 > k2:
                raise ValueError(f"hint puts live buffers {n1} and {n2} on the same bytes")

"""The arena planners side by side: every plan valid, exact never worse than greedy, and optimal where
an optimum is known (a construction that meets the lower bound, or brute force on tiny sets)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memory.test_planner import lifetimes, paint_check

from edgexf.memory import exact
from edgexf.memory.exact import MAX_EXACT_BUFFERS, maximal_live_sets, plan_exact
from edgexf.memory.greedy_by_conflicts import plan_greedy_by_conflicts
from edgexf.memory.greedy_by_size import align_up, plan_greedy_by_size
from edgexf.memory.lifetimes import Buffer, lower_bound
from edgexf.memory.plan import ALIGNMENT
from edgexf.memory.planners import PLANNERS, best_plan
from edgexf.memory.verify import verify_plan

EXACT_S = 1.0  # small deterministic budgets keep the file fast; the hard random sets stop at the limit


def arena_of(bufs: list[Buffer], offsets: dict[str, int], alignment: int = ALIGNMENT) -> int:
    return align_up(max((offsets[b.name] + b.size for b in bufs), default=0), alignment)


def aligned_lower_bound(bufs: list[Buffer], alignment: int = ALIGNMENT) -> int:
    """The most aligned-up bytes live at one step: every live buffer starts on a boundary."""
    steps = max(b.end for b in bufs)
    return max(sum(align_up(b.size, alignment) for b in bufs if b.start <= t < b.end) for t in range(steps))


def brute_force_arena(bufs: list[Buffer], alignment: int = ALIGNMENT) -> int:
    """The optimum by exhaustive search. Pushed down as far as it goes, every buffer of a plan rests on
    0 or on the (aligned) top of a conflicting buffer below it, so placing buffers in order of offset,
    each at 0 or on top of one already placed, reaches every such plan."""
    best = sum(align_up(b.size, alignment) for b in bufs)

    def search(left: list[Buffer], placed: list[tuple[int, Buffer]], top: int) -> None:
        nonlocal best
        if top >= best:
            return
        if not left:
            best = top
            return
        for i, b in enumerate(left):
            live = [(o, p) for o, p in placed if p.overlaps_in_time(b)]
            for off in sorted({0} | {align_up(o + p.size, alignment) for o, p in live}):
                if all(off + b.size <= o or o + p.size <= off for o, p in live):
                    search(
                        left[:i] + left[i + 1 :],
                        [*placed, (off, b)],
                        max(top, align_up(off + b.size, alignment)),
                    )

    search(list(bufs), [], 0)
    return best


def stacked(bufs: list[Buffer], alignment: int = ALIGNMENT) -> dict[str, int]:
    """The naive plan, every buffer in its own place: valid, and a poor hint that makes the solver work."""
    offsets, top = {}, 0
    for b in bufs:
        offsets[b.name], top = top, top + align_up(b.size, alignment)
    return offsets


def check(bufs: list[Buffer], offsets: dict[str, int], alignment: int = ALIGNMENT) -> int:
    arena = arena_of(bufs, offsets, alignment)
    verify_plan(bufs, offsets, arena, alignment)
    paint_check(bufs, offsets, arena)
    assert all(o % alignment == 0 for o in offsets.values())
    assert align_up(lower_bound(bufs), alignment) <= aligned_lower_bound(bufs, alignment) <= arena
    assert arena <= sum(align_up(b.size, alignment) for b in bufs)  # never above the naive stacking
    return arena


@st.composite
def chains(draw):
    """A sequential model: buffer i is live over [i, i+2), so only neighbours conflict. Alternating
    buffers flush with the bottom and flush with the top of the arena meets the lower bound."""
    sizes = draw(st.lists(st.integers(1, 300), min_size=1, max_size=30))
    return [Buffer(f"c{i}", (f"c{i}",), ALIGNMENT * s, i, i + 2) for i, s in enumerate(sizes)]


@st.composite
def nested_or_disjoint(draw):
    """Nested lifetimes (all conflict: the arena is the sum) next to disjoint ones (one slot each)."""
    nested = draw(st.lists(st.integers(1, 300), min_size=1, max_size=10))
    disjoint = draw(st.lists(st.integers(1, 300), max_size=10))
    bufs = [Buffer(f"n{i}", (f"n{i}",), ALIGNMENT * s, i, 2 * len(nested) - i) for i, s in enumerate(nested)]
    t = 2 * len(nested)
    bufs += [Buffer(f"d{i}", (f"d{i}",), ALIGNMENT * s, t + i, t + i + 1) for i, s in enumerate(disjoint)]
    return bufs


@settings(max_examples=200, deadline=None)
@given(lifetimes())
def test_every_planner_valid_and_exact_never_worse(bufs):
    greedy = [
        check(bufs, PLANNERS[name](bufs, ALIGNMENT)) for name in ("greedy_by_size", "greedy_by_conflicts")
    ]
    res = plan_exact(bufs, ALIGNMENT, max_time_s=EXACT_S)
    assert res is not None
    assert check(bufs, res.offsets) == res.arena_bytes <= min(greedy)
    if res.optimal:
        assert res.status.startswith("OPTIMAL")
    if res.arena_bytes == aligned_lower_bound(bufs):
        assert res.optimal  # meeting the bound is a proof


@settings(max_examples=150, deadline=None)
@given(st.one_of(chains(), nested_or_disjoint()))
def test_exact_meets_the_lower_bound_when_a_construction_does(bufs):
    for hint in (None, stacked(bufs)):
        res = plan_exact(bufs, ALIGNMENT, hint=hint, max_time_s=EXACT_S)
        assert check(bufs, res.offsets) == res.arena_bytes == lower_bound(bufs)
        assert res.optimal


@st.composite
def tiny(draw):
    bufs = []
    for i in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, 5))
        bufs.append(
            Buffer(f"t{i}", (f"t{i}",), draw(st.integers(1, 100)), start, draw(st.integers(start + 1, 6)))
        )
    return bufs


@settings(max_examples=200, deadline=None)
@given(tiny())
def test_exact_matches_brute_force_on_tiny_sets(bufs):
    optimum = brute_force_arena(bufs)
    for hint in (None, stacked(bufs)):  # greedy's plan, often already optimal, and a poor one
        res = plan_exact(bufs, ALIGNMENT, hint=hint, max_time_s=EXACT_S)
        assert res.optimal
        assert check(bufs, res.offsets) == res.arena_bytes == optimum


@settings(max_examples=100, deadline=None)
@given(lifetimes())
def test_best_plan_picks_the_smallest_verified_arena(bufs):
    name, offsets, results = best_plan(bufs, ALIGNMENT, exact_time_s=EXACT_S)
    assert list(results) == list(PLANNERS)
    arenas = {n: r["arena_bytes"] for n, r in results.items()}
    assert check(bufs, offsets) == arenas[name] == min(arenas.values())
    assert name == next(n for n in PLANNERS if arenas[n] == arenas[name])  # ties: the earlier planner
    assert all(r["seconds"] >= 0 for r in results.values())
    assert isinstance(results["exact"]["optimal"], bool) and results["exact"]["status"]


def test_greedy_by_size_loses_where_exact_finds_the_optimum():
    # a at 0 and d on it are forced on greedy by size (largest first, then earlier start); b must then
    # clear both c and d. Optimal: d at 0, b on it at 16, a and c at 16.
    u = ALIGNMENT
    bufs = [
        Buffer("a", ("a",), 2 * u, 1, 3),
        Buffer("b", ("b",), u, 3, 5),
        Buffer("c", ("c",), 2 * u, 4, 5),
        Buffer("d", ("d",), u, 1, 4),
    ]
    assert arena_of(bufs, plan_greedy_by_size(bufs)) == 4 * u
    assert arena_of(bufs, plan_greedy_by_conflicts(bufs)) == 4 * u
    assert brute_force_arena(bufs) == lower_bound(bufs) == 3 * u
    res = plan_exact(bufs)
    assert res.optimal and res.status.startswith("OPTIMAL")
    assert check(bufs, res.offsets) == res.arena_bytes == 3 * u
    name, offsets, results = best_plan(bufs)
    assert name == "exact" and offsets == res.offsets
    assert results["greedy_by_size"]["arena_bytes"] == 4 * u and results["exact"]["optimal"]


def test_exact_returns_the_hint_when_it_cannot_improve():
    bufs = [Buffer("a", ("a",), 100, 0, 2), Buffer("b", ("b",), 50, 1, 3)]
    hint = {"a": 0, "b": 112}
    res = plan_exact(bufs, hint=hint)
    assert res.offsets == hint and res.arena_bytes == 176 and res.optimal  # the bound proves it
    with pytest.raises(ValueError, match="same bytes"):
        plan_exact(bufs, hint={"a": 0, "b": 96})
    loose = {"a": 0, "b": 128}  # 192 bytes
    better = plan_exact(bufs, hint=loose)
    assert better.arena_bytes == 176 and better.optimal and check(bufs, better.offsets) == 176
    low = plan_exact(bufs, hint=loose, upper_bound=160)  # below the bound: nothing to find
    assert low.offsets == loose and low.arena_bytes == 192 and not low.optimal
    assert low.status.startswith("INFEASIBLE")


def test_exact_skips_above_max_buffers_and_without_ortools(monkeypatch):
    many = [Buffer(f"b{i}", (f"b{i}",), 16, i, i + 1) for i in range(MAX_EXACT_BUFFERS + 1)]
    assert plan_exact(many) is None
    few = many[:6]
    monkeypatch.setattr(exact, "MAX_EXACT_BUFFERS", 5)
    name, offsets, results = best_plan(few)
    assert name == "greedy_by_size" and "MAX_EXACT_BUFFERS" in results["exact"]["skipped"]
    monkeypatch.setattr(exact, "MAX_EXACT_BUFFERS", 100)
    monkeypatch.setitem(sys.modules, "ortools.sat.python", None)  # import fails as if not installed
    assert plan_exact(few) is None
    assert best_plan(few)[2]["exact"] == {"skipped": "ortools is not installed"}


def test_best_plan_raises_on_a_planner_bug(monkeypatch):
    from edgexf.memory import planners
    from edgexf.memory.verify import PlanError

    bufs = [Buffer("a", ("a",), 100, 0, 2), Buffer("b", ("b",), 50, 1, 3)]
    monkeypatch.setitem(planners.PLANNERS, "greedy_by_conflicts", lambda bufs, alignment: {"a": 0, "b": 0})
    with pytest.raises(PlanError, match="overlap"):
        best_plan(bufs)  # greedy_by_size's valid plan does not hide the bad one


def test_maximal_live_sets_cover_exactly_the_conflicts():
    import random

    rng = random.Random(0)
    for _ in range(50):
        bufs = []
        for i in range(rng.randint(1, 30)):
            s = rng.randint(0, 20)
            bufs.append(Buffer(f"b{i}", (f"b{i}",), 1, s, rng.randint(s + 1, 22)))
        sets = maximal_live_sets(bufs)
        pairs = {frozenset((a.name, b.name)) for s in sets for a in s for b in s if a is not b}
        assert pairs == {
            frozenset((a.name, b.name)) for a in bufs for b in bufs if a is not b and a.overlaps_in_time(b)
        }
        names = [frozenset(b.name for b in s) for s in sets]
        assert not any(x < y for x in names for y in names)  # none inside another


DENSE = [
    Buffer(f"b{i}", (f"b{i}",), 1 + (i * 7919) % 5000, (i * 13) % 40, (i * 13) % 40 + 5 + i % 17)
    for i in range(150)
]


def test_exact_is_deterministic_even_when_stopped_by_the_limit():
    runs = [plan_exact(DENSE, max_time_s=0.5) for _ in range(2)]
    assert not runs[0].optimal  # the limit stopped it: the case a wall-clock limit would make vary
    assert runs[0] == runs[1]
    code = (
        "import json, sys; from edgexf.memory.exact import plan_exact; "
        "from edgexf.memory.lifetimes import Buffer; "
        "bufs = [Buffer(n, (n,), s, a, b) for n, s, a, b in json.load(sys.stdin)]; "
        "print(json.dumps(plan_exact(bufs, max_time_s=0.5).offsets))"
    )
    stdin = json.dumps([[b.name, b.size, b.start, b.end] for b in DENSE])
    out = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == runs[0].offsets  # and in a fresh process

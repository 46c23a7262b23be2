"""Rests pinned beside their buffer (lifetimes.py, pinned.py): every planner keeps each rest at its
distance, no live bytes are shared, the exact planner is never worse, and the verifier refuses a plan
that moves a rest. The take-over itself: an input larger than its in-place output leaves a rest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memory.test_planner import paint_check

from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.memory.exact import plan_exact
from edgexf.memory.greedy_by_size import align_up
from edgexf.memory.lifetimes import Buffer, buffers
from edgexf.memory.plan import ALIGNMENT
from edgexf.memory.planners import PLANNERS
from edgexf.memory.verify import PlanError, verify_plan


@st.composite
def with_rests(draw):
    """Random buffers, some with a rest above (or below) them that dies earlier, as a take-over leaves."""
    bufs = []
    for i in range(draw(st.integers(1, 25))):
        start = draw(st.integers(0, 20))
        end = draw(st.integers(start + 1, 22))
        size = ALIGNMENT * draw(st.integers(1, 100))
        bufs.append(Buffer(f"b{i}", (f"b{i}",), size, start, end))
        if end > start + 1 and draw(st.booleans()):
            rest = ALIGNMENT * draw(st.integers(1, 100))
            rel = size if draw(st.booleans()) else -rest
            until = draw(st.integers(start + 1, end - 1))
            bufs.append(Buffer(f"b{i}.rest", (), rest, start, until, anchor=(f"b{i}", rel)))
    return bufs


def _arena(bufs, offsets) -> int:
    return align_up(max(offsets[b.name] + b.size for b in bufs), ALIGNMENT)


@settings(max_examples=150, deadline=None)
@given(with_rests())
def test_every_planner_keeps_rests_in_place(bufs):
    arenas = []
    for name in ("greedy_by_size", "greedy_by_conflicts"):
        offsets = PLANNERS[name](bufs, ALIGNMENT)
        verify_plan(bufs, offsets, _arena(bufs, offsets), ALIGNMENT)  # pins, alignment, no overlap
        paint_check(bufs, offsets, _arena(bufs, offsets))
        arenas.append(_arena(bufs, offsets))
    res = plan_exact(bufs, ALIGNMENT, max_time_s=0.5)
    verify_plan(bufs, res.offsets, res.arena_bytes, ALIGNMENT)
    assert res.arena_bytes <= min(arenas)


def test_verifier_refuses_a_moved_rest():
    a = Buffer("a", ("a",), 32, 0, 4)
    rest = Buffer("a.rest", (), 64, 0, 2, anchor=("a", 32))
    verify_plan([a, rest], {"a": 0, "a.rest": 32}, 96, ALIGNMENT)
    with pytest.raises(PlanError, match="not 32 bytes from a"):
        verify_plan([a, rest], {"a": 0, "a.rest": 48}, 112, ALIGNMENT)


def test_a_smaller_output_takes_over_its_input_and_leaves_a_rest():
    """int16 (4, 8) -> int8 (4, 8) requantized in place: the output keeps 32 of the input's 64 bytes;
    the other 32 are free once the op has run. The next int8 op writes over the output, no rest."""
    t = {n: Tensor(n, (4, 8), "int16" if n == "x" else "int8") for n in "xyz"}
    attrs = dict(in_zp=0, mult=1 << 30, shift=31, out_zp=0, dtype="int8")
    ops = [Op("q_requant", "r", ["x"], ["y"], attrs), Op("q_requant", "s", ["y"], ["z"], dict(attrs))]
    bufs = buffers(Graph("g", t, ops, ["x"], ["z"]).verify())
    assert bufs == [
        Buffer("x", ("x", "y", "z"), 32, 0, 2),
        Buffer("x.rest", (), 32, 0, 1, anchor=("x", 32)),
    ]

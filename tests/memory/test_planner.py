"""The arena planner: random lifetimes never share bytes; the verifier catches plans that do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import to_graph

from edgexf.memory.greedy_by_size import plan_greedy_by_size
from edgexf.memory.lifetimes import Buffer, buffers, lower_bound
from edgexf.memory.plan import ALIGNMENT, plan_memory
from edgexf.memory.verify import PlanError, verify_plan
from edgexf.models.vit import ViT, ViTConfig


@st.composite
def lifetimes(draw):
    n = draw(st.integers(1, 40))
    bufs = []
    for i in range(n):
        start = draw(st.integers(0, 30))
        end = draw(st.integers(start + 1, 32))
        bufs.append(Buffer(f"b{i}", (f"b{i}",), draw(st.integers(1, 5000)), start, end))
    return bufs


def paint_check(bufs: list[Buffer], offsets: dict[str, int], arena: int) -> None:
    """Independent of verify_plan: paint each step's live buffers into a byte map; no byte twice."""
    for t in range(max(b.end for b in bufs)):
        owner = np.full(arena, -1)
        for i, b in enumerate(bufs):
            if b.start <= t < b.end:
                region = owner[offsets[b.name] : offsets[b.name] + b.size]
                assert len(region) == b.size, f"{b.name} runs past the arena"
                assert (region == -1).all(), f"step {t}: {b.name} overwrites a live buffer"
                region[:] = i


@settings(max_examples=150, deadline=None)
@given(lifetimes())
def test_random_lifetimes_never_overlap(bufs):
    offsets = plan_greedy_by_size(bufs, ALIGNMENT)
    arena = max(offsets[b.name] + b.size for b in bufs)
    verify_plan(bufs, offsets, arena, ALIGNMENT)
    paint_check(bufs, offsets, arena)
    assert all(o % ALIGNMENT == 0 for o in offsets.values())
    assert lower_bound(bufs) <= arena <= sum(b.size + ALIGNMENT for b in bufs)


def test_half_open_lifetimes_may_share_bytes():
    # a dies as b is born ([0,2) and [2,4) do not intersect): one slot suffices
    a, b = Buffer("a", ("a",), 100, 0, 2), Buffer("b", ("b",), 100, 2, 4)
    offsets = plan_greedy_by_size([a, b])
    assert offsets == {"a": 0, "b": 0}


def test_verifier_rejects_overlap_and_out_of_arena():
    a, b = Buffer("a", ("a",), 100, 0, 3), Buffer("b", ("b",), 100, 2, 4)
    with pytest.raises(PlanError, match="overlap"):
        verify_plan([a, b], {"a": 0, "b": 64}, 1000, 16)
    verify_plan([a, b], {"a": 0, "b": 112}, 1000, 16)
    with pytest.raises(PlanError, match="outside"):
        verify_plan([a, b], {"a": 0, "b": 912}, 1000, 16)
    with pytest.raises(PlanError, match="misaligned"):
        verify_plan([a, b], {"a": 0, "b": 120}, 1000, 16)


def test_vit_plan_lifetimes_and_bounds():
    torch.manual_seed(0)
    cfg = ViTConfig(depth=2)
    g = to_graph(ViT(cfg), torch.rand(1, 1, 8, 8))
    plan = plan_memory(g)
    bufs = list(plan.buffers)
    paint_check(bufs, plan.offsets, plan.arena_bytes)
    # the input image is live from step 0; the logits to the end of the run
    assert plan.buffer_of("x").start == 0
    assert plan.buffer_of(g.outputs[0]).end == len(g.ops)
    # reshapes share their input's bytes: flatten and its input conv2d live at one offset
    assert plan.offset_of("flatten") == plan.offset_of("conv2d")
    # the bound and the sum bracket the arena; reuse makes it far smaller than the sum
    assert plan.lower_bound_bytes <= plan.arena_bytes < plan.naive_bytes / 4
    assert plan.naive_bytes == sum(b.size for b in buffers(g, inplace=False))  # no token overwriting
    # the largest live set holds at least the qkv projection (17 tokens x 3*64 floats) and its input
    assert plan.lower_bound_bytes >= 17 * 192 * 4 + 17 * 64 * 4

"""Pictures of a memory plan: the terminal timeline, live bytes per step, and the PNG."""

from __future__ import annotations

import re

import pytest
import torch
from model_helpers import to_graph

from edgexf.ir.graph import Graph, Op
from edgexf.memory.lifetimes import Buffer, lower_bound
from edgexf.memory.plan import MemoryPlan, plan_memory
from edgexf.memory.show import buffer_chars, live_bytes, timeline_text, write_plan_picture
from edgexf.models.vit import ViT, ViTConfig

PNG = b"\x89PNG\r\n\x1a\n"


def hand_plan() -> tuple[MemoryPlan, Graph]:
    # a [0,2) and c [2,4) share bytes [0,160); b [1,3) sits above them at 160; 480-byte arena
    bufs = (
        Buffer("a", ("a",), 160, 0, 2),
        Buffer("b", ("b", "b_view"), 320, 1, 3),
        Buffer("c", ("c",), 160, 2, 4),
    )
    plan = MemoryPlan(bufs, {"a": 0, "b": 160, "c": 0}, 480, lower_bound(list(bufs)), 640, "hand")
    ops = [Op("relu", f"op_{i}", [], []) for i in range(4)]
    return plan, Graph("hand", {}, ops, [], [])


def step_lines(text: str) -> dict[int, str]:
    """Step -> its line of the timeline (the part before the legend)."""
    steps = text.split("\nlegend")[0]
    return {int(m[1]): m[0] for m in re.finditer(r"^\s*(\d+) .*\|.*$", steps, re.M)}


def bars(text: str) -> dict[int, str]:
    """Step -> the arena bar of that step's line."""
    return {t: line.split("|")[1] for t, line in step_lines(text).items()}


def brute_live(plan: MemoryPlan, steps: int) -> list[int]:
    return [sum(b.size for b in plan.buffers if b.start <= t < b.end) for t in range(steps)]


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    g = to_graph(ViT(ViTConfig(depth=2)), torch.rand(1, 1, 8, 8))
    return plan_memory(g), g


def test_hand_plan_bars_show_buffers_at_their_offsets():
    plan, g = hand_plan()
    text = timeline_text(plan, g, width=48)  # 480 bytes / 48 columns: 1 column = 10 bytes
    assert "1 column = 10 bytes" in text
    ch = buffer_chars(plan)
    assert len({ch["a"], ch["b"]}) == 2 and len({ch["b"], ch["c"]}) == 2  # live together: distinct
    bar = bars(text)
    assert sorted(bar) == [0, 1, 2, 3] and all(len(b) == 48 for b in bar.values())
    # step 0: a is written; step 1: a live, b written (uppercase) at columns 16..47
    assert bar[0] == ch["a"].upper() * 16 + "." * 32
    assert bar[1] == ch["a"] * 16 + ch["b"].upper() * 32
    assert bar[2] == ch["c"].upper() * 16 + ch["b"] * 32
    assert bar[3] == ch["c"] * 16 + "." * 32
    for i in range(4):
        assert f"op_{i}" in text
    # the peak steps (320 + 160 bytes live) are marked
    rows = step_lines(text)
    peaks = [t for t, line in rows.items() if "*|" in line]
    assert len(rows) == 4 and peaks == [1, 2]
    legend = text[text.index("\nlegend") :]
    for b in plan.buffers:
        off = plan.offsets[b.name]
        assert re.search(rf"{ch[b.name]}: {b.name}\s.*\[{off:,}, {off + b.size:,}\)", legend)
    assert "also holds: b_view" in legend


def test_live_bytes_is_the_sum_of_live_buffers():
    plan, _ = hand_plan()
    assert live_bytes(plan) == brute_live(plan, 4) == [160, 480, 480, 160]
    assert max(live_bytes(plan)) == plan.lower_bound_bytes


def test_vit_timeline_lists_every_op_and_buffer(vit):
    plan, g = vit
    live = live_bytes(plan)
    assert live == brute_live(plan, len(g.ops))
    assert max(live) == plan.lower_bound_bytes
    text = timeline_text(plan, g, legend=len(plan.buffers))
    bar = bars(text)
    assert sorted(bar) == list(range(len(g.ops)))
    lines = step_lines(text)
    for t, op in enumerate(g.ops):
        assert op.type[:10] in lines[t] and op.name[:20] in lines[t]
        assert f"{live[t] / 1024:.1f}" in lines[t]
    # wherever a column shows '.', no live buffer touches those bytes
    scale = int(re.search(r"1 column = ([\d,]+) bytes", text)[1].replace(",", ""))
    for t, row in bar.items():
        for b in plan.buffers:
            if b.start <= t < b.end and b.size:
                lo, hi = plan.offsets[b.name] // scale, -(-(plan.offsets[b.name] + b.size) // scale)
                assert "." not in row[lo:hi], (t, b.name)
    legend = text[text.index("\nlegend") :]
    for b in plan.buffers:
        assert f"{b.name} " in legend and f"[{plan.offsets[b.name]:,}, " in legend
    assert f"arena {plan.arena_bytes:,} B" in text and f"lower bound {plan.lower_bound_bytes:,} B" in text


def test_color_only_adds_escape_codes():
    plan, g = hand_plan()
    plain = timeline_text(plan, g, width=48)
    colored = timeline_text(plan, g, width=48, color=True)
    assert "\x1b[" not in plain and "\x1b[" in colored
    assert re.sub(r"\x1b\[[\d;]*m", "", colored) == plain


def test_png(tmp_path, vit):
    plan, g = vit
    path = write_plan_picture(plan, g, tmp_path / "sub" / "plan.png")
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000


def test_degenerate_plans(tmp_path):
    one = MemoryPlan((Buffer("x", ("x",), 64, 0, 1),), {"x": 0}, 64, 64, 64, "hand")
    g1 = Graph("one", {}, [Op("relu", "only", [], [])], [], [])
    assert bars(timeline_text(one, g1)) == {0: "A" * 64}
    empty = MemoryPlan((), {}, 0, 0, 0, "hand")
    g2 = Graph("empty", {}, [Op("relu", "r0", [], []), Op("relu", "r1", [], [])], [], [])
    assert live_bytes(empty) == []
    text = timeline_text(empty, g2)
    assert "r0" in text and "r1" in text
    assert timeline_text(empty, None)
    for i, (plan, g) in enumerate([(one, g1), (empty, None)]):
        assert write_plan_picture(plan, g, tmp_path / f"{i}.png").read_bytes().startswith(PNG)

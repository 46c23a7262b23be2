"""The memory plan: where every activation buffer lives in the one arena, verified when made."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgexf.ir.graph import Graph
from edgexf.memory.greedy_by_size import align_up
from edgexf.memory.lifetimes import Buffer, buffers, lower_bound, scratch_name
from edgexf.memory.planners import best_plan
from edgexf.memory.state_region import StateRegion, plan_states
from edgexf.memory.verify import verify_plan

ALIGNMENT = 16  # bytes; every buffer starts on a 16-byte boundary (SIMD loads, cache lines)
EXACT_TIME_S = 5.0  # the exact planner's budget (deterministic time, see edgexf/memory/exact.py)


@dataclass(frozen=True)
class MemoryPlan:
    buffers: tuple[Buffer, ...]
    offsets: dict[str, int]  # buffer name -> byte offset in the arena
    arena_bytes: int
    lower_bound_bytes: int  # most bytes live at once: no plan of this op order does better
    naive_bytes: int  # every activation in its own place
    planner: str
    alignment: int = ALIGNMENT
    results: dict[str, dict] = field(default_factory=dict)  # every planner's arena (or why it was skipped)
    states: StateRegion = StateRegion()  # a streaming model's persistent states, outside the arena

    def buffer_of(self, tensor: str) -> Buffer:
        for b in self.buffers:
            if tensor in b.tensors:
                return b
        raise KeyError(f"tensor {tensor!r} has no buffer in the plan")

    def offset_of(self, tensor: str) -> int:
        """The tensor's byte offset in the arena (its buffer's, plus its place inside the buffer)."""
        buf = self.buffer_of(tensor)
        return self.offsets[buf.name] + buf.offset_in(tensor)

    def scratch_offset(self, op_name: str) -> int | None:
        """Where the op's working memory starts in the arena; None if it needs none."""
        return self.offsets.get(scratch_name(op_name))

    def to_dict(self) -> dict:
        return {
            "planner": self.planner,
            "arena_bytes": self.arena_bytes,
            "lower_bound_bytes": self.lower_bound_bytes,
            "naive_bytes": self.naive_bytes,
            "alignment": self.alignment,
            "planners": self.results,
            "state_region": self.states.to_dict(),
            "buffers": [
                {
                    "name": b.name,
                    "tensors": list(b.tensors),
                    "offsets_inside": list(b.offsets) or [0] * len(b.tensors),
                    "bytes": b.size,
                    "offset": self.offsets[b.name],
                    "live": [b.start, b.end],
                }
                | ({"pinned_to": list(b.anchor)} if b.anchor else {})
                for b in self.buffers
            ],
        }


def plan_memory(
    graph: Graph,
    inplace: bool = True,
    planners: tuple[str, ...] | None = None,
    exact_time_s: float = EXACT_TIME_S,
) -> MemoryPlan:
    """Every planner's plan (edgexf/memory/planners.py), each verified; the smallest arena wins."""
    bufs = buffers(graph, inplace)
    if exact_time_s <= 0:
        planners = tuple(p for p in (planners or ("greedy_by_size", "greedy_by_conflicts")) if p != "exact")
    name, offsets, results = best_plan(bufs, ALIGNMENT, exact_time_s, planners)
    arena = align_up(max((offsets[b.name] + b.size for b in bufs), default=0), ALIGNMENT)
    verify_plan(bufs, offsets, arena, ALIGNMENT)
    naive = sum(b.size for b in (buffers(graph, inplace=False) if inplace else bufs))
    states = plan_states(graph)
    return MemoryPlan(
        tuple(bufs), offsets, arena, lower_bound(bufs), naive, name, results=results, states=states
    )

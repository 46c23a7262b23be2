"""Buffers and their lifetimes over the op order.

Op i runs at step i. A buffer is live over the half-open interval [start, end): from the step that
writes it (0 for graph inputs, which are written before the run) to one past the last step that
reads it; graph outputs stay live to the end (the caller reads them after the run). Two buffers
conflict when their intervals intersect: start1 < end2 and start2 < end1. An op's inputs and
outputs therefore always conflict (no in-place execution yet).

A reshape moves no data: its output is the same buffer as its input, and the buffer lives as long
as any of its names.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.ir.graph import Graph


@dataclass(frozen=True)
class Buffer:
    name: str  # the first tensor stored in it
    tensors: tuple[str, ...]  # every tensor name that refers to these bytes
    size: int  # bytes
    start: int
    end: int

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.start < other.end and other.start < self.end


def buffers(graph: Graph) -> list[Buffer]:
    owner: dict[str, str] = {}  # tensor -> the buffer (first tensor) holding it
    members: dict[str, list[str]] = {}
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    for name in graph.inputs:
        owner[name], members[name], start[name], end[name] = name, [name], 0, 1
    for i, op in enumerate(graph.ops):
        for name in op.inputs:
            if name in owner:
                end[owner[name]] = max(end[owner[name]], i + 1)
        if op.type == "reshape":
            buf = owner[op.inputs[0]]
            owner[op.outputs[0]] = buf
            members[buf].append(op.outputs[0])
            continue
        for name in op.outputs:
            owner[name], members[name], start[name], end[name] = name, [name], i, i + 1
    for name in graph.outputs:
        end[owner[name]] = len(graph.ops)
    return [
        Buffer(b, tuple(members[b]), graph.tensors[b].nbytes, start[b], max(end[b], start[b] + 1))
        for b in members
    ]


def lower_bound(bufs: list[Buffer]) -> int:
    """The most bytes live at any one step: no arena can be smaller (given this op order)."""
    steps = max((b.end for b in bufs), default=0)
    return max((sum(b.size for b in bufs if b.start <= t < b.end) for t in range(steps)), default=0)

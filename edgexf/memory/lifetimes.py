"""Buffers and their lifetimes over the op order.

Op i runs at step i. A buffer is live over the half-open interval [start, end): from the step that
writes it (0 for graph inputs, which are written before the run) to one past the last step that
reads it; graph outputs stay live to the end (the caller reads them after the run). Two buffers
conflict when their intervals intersect: start1 < end2 and start2 < end1.

Several tensors can share one buffer, each at its own offset inside it:
- a reshape moves no data: its output is its input's bytes;
- token overwriting (`inplace=True`): an op whose kernel declares that its output may overwrite an
  input (OpDef.alias: elementwise, per token, patch by patch) writes over that input when nothing reads
  the input afterwards; the output sits `delta` bytes below the input (0 for same-size rows, the
  growth for wider rows, e.g. an image under its tokens). The buffer is as big as its members' extent
  and lives as long as any of them.
A fused op's working memory (OpDef.scratch: a row of scores, a hidden vector) is a buffer of its own,
live during that op only, named "<op name>.scratch".
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.ir.graph import Graph
from edgexf.ir.opdef import nbytes
from edgexf.ir.ops import OPS, input_specs

ALIGN = 16  # internal offsets stay multiples of this, so every tensor keeps the arena's alignment


@dataclass(frozen=True)
class Buffer:
    name: str  # the first tensor stored in it (or "<op>.scratch")
    tensors: tuple[str, ...]  # every tensor name that refers to these bytes
    size: int  # bytes
    start: int
    end: int
    offsets: tuple[int, ...] = ()  # each tensor's byte offset inside the buffer (empty: all 0)

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.start < other.end and other.start < self.end

    def offset_in(self, tensor: str) -> int:
        return self.offsets[self.tensors.index(tensor)] if self.offsets else 0

    @property
    def is_scratch(self) -> bool:
        return not self.tensors


def scratch_name(op_name: str) -> str:
    return f"{op_name}.scratch"


class _Group:
    def __init__(self, name: str, start: int):
        self.name, self.start, self.end = name, start, start + 1
        self.members: dict[str, int] = {name: 0}  # tensor -> offset inside the group (may go negative)


def buffers(graph: Graph, inplace: bool = True) -> list[Buffer]:
    n_ops = len(graph.ops)
    last: dict[str, int] = {}  # tensor -> the last step that reads it (n_ops for graph outputs)
    for i, op in enumerate(graph.ops):
        for name in op.inputs:
            last[name] = i
    for name in graph.exit_tensors():  # next states too: copied to the state region after the last op
        last[name] = n_ops
    owner: dict[str, _Group] = {}
    groups: list[_Group] = []
    scratch: list[Buffer] = []

    def new_group(name: str, start: int) -> None:
        owner[name] = _Group(name, start)
        groups.append(owner[name])

    for name in graph.entry_tensors():  # states too: copied in from the state region before op 0
        new_group(name, 0)
    for i, op in enumerate(graph.ops):
        for name in op.inputs:
            if name in owner:
                owner[name].end = max(owner[name].end, i + 1)
        if op.type == "reshape":
            group = owner[op.inputs[0]]
            group.members[op.outputs[0]] = group.members[op.inputs[0]]
            owner[op.outputs[0]] = group
            continue
        target = _overwritable(graph, op, i, owner, last) if inplace else None
        for k, name in enumerate(op.outputs):
            if k == 0 and target is not None:
                group, offset = target
                group.members[name] = offset
                owner[name] = group
            else:
                new_group(name, i)
        op_def = OPS[op.type]
        size = op_def.scratch(op, input_specs(graph, op)) if op_def.scratch is not None else 0
        if size > 0:
            scratch.append(Buffer(scratch_name(op.name), (), _align(size), i, i + 1))
    result, exits = [], set(graph.exit_tensors())
    for g in groups:
        low = min(g.members.values())
        names = tuple(g.members)
        offsets = tuple(g.members[n] - low for n in names)
        size = max(off + graph.tensors[n].nbytes for n, off in zip(names, offsets))
        end = n_ops if any(n in exits for n in names) else g.end
        result.append(
            Buffer(g.name, names, size, g.start, max(end, g.start + 1), offsets if any(offsets) else ())
        )
    return result + scratch


def _overwritable(graph: Graph, op, i: int, owner: dict, last: dict) -> tuple[_Group, int] | None:
    """The buffer output 0 may take over (and the output's offset in it), if the kernel allows it and
    nothing reads that buffer after this op."""
    op_def = OPS[op.type]
    if op_def.alias is None:
        return None
    outs = [(graph.tensors[n].shape, graph.tensors[n].dtype) for n in op.outputs]
    for index, delta in op_def.alias(op, input_specs(graph, op), outs):
        name = op.inputs[index]
        if not name or graph.tensors[name].is_const:
            continue
        group = owner[name]
        if any(last.get(m, -1) > i for m in group.members):
            continue  # still read later (or a graph output)
        offset = group.members[name] - _align(delta)
        low = min(offset, *group.members.values())
        extent = max(off + graph.tensors[m].nbytes for m, off in group.members.items()) - low
        if max(extent, graph.tensors[op.outputs[0]].nbytes + offset - low) > _align(
            outs[0] and nbytes(outs[0])
        ):
            continue  # the shared region would outgrow the output, and keep that size as long as it lives
        return group, offset
    return None


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lower_bound(bufs: list[Buffer]) -> int:
    """The most bytes live at any one step: no arena can be smaller (given this op order)."""
    steps = max((b.end for b in bufs), default=0)
    return max((sum(b.size for b in bufs if b.start <= t < b.end) for t in range(steps)), default=0)

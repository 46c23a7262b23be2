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
- An output smaller than the input it takes over (the int8 tokens of a 240 x 240 RGB image) keeps only
  its own bytes: the input's other bytes form a rest buffer, live until that op, pinned next to the
  buffer (Buffer.anchor: the planners place the two together, verify_plan checks it). Without rests
  the shared region would keep the input's size as long as the output lives.
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
    # (buffer, bytes): a rest's place, that many bytes from that buffer's offset (may be negative); None: free
    anchor: tuple[str, int] | None = None

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.start < other.end and other.start < self.end

    def offset_in(self, tensor: str) -> int:
        return self.offsets[self.tensors.index(tensor)] if self.offsets else 0

    @property
    def is_scratch(self) -> bool:
        return not self.tensors and self.anchor is None


def scratch_name(op_name: str) -> str:
    return f"{op_name}.scratch"


class _Group:
    def __init__(self, name: str, start: int):
        self.name, self.start, self.end = name, start, start + 1
        self.members: dict[str, int] = {name: 0}  # tensor -> offset inside the group (may go negative)
        self.current: list[str] = [name]  # the members since an output last took over a larger extent
        self.epochs: list[tuple[int, int, int]] = []  # (lo, hi, end): the extents left behind, live to end

    def extent(self, graph: Graph) -> tuple[int, int]:
        """[lo, hi) of the current members, in the group's offsets."""
        lo = min(self.members[n] for n in self.current)
        return lo, max(self.members[n] + graph.tensors[n].nbytes for n in self.current)

    def take_over(self, graph: Graph, name: str, offset: int, step: int) -> None:
        """Output `name` at `offset` writes over the group, whose members are all dead after `step`."""
        self.members[name] = offset
        lo, hi = self.extent(graph)
        if lo < offset or hi > offset + _align(graph.tensors[name].nbytes):  # it keeps fewer bytes
            self.epochs.append((lo, _align(hi), step + 1))
            self.current = [name]
        else:
            self.current.append(name)


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
            group.current.append(op.outputs[0])
            owner[op.outputs[0]] = group
            continue
        target = _overwritable(graph, op, i, owner, last) if inplace else None
        for k, name in enumerate(op.outputs):
            if k == 0 and target is not None:
                group, offset = target
                group.take_over(graph, name, offset, i)
                owner[name] = group
            else:
                new_group(name, i)
        op_def = OPS[op.type]
        size = op_def.scratch(op, input_specs(graph, op)) if op_def.scratch is not None else 0
        if size > 0:
            scratch.append(Buffer(scratch_name(op.name), (), _align(size), i, i + 1))
    result, exits = [], set(graph.exit_tensors())
    for g in groups:
        low, high = g.extent(graph)
        if g.epochs:  # rests follow the buffer at aligned distances
            high = low + _align(high - low)
        names = tuple(g.members)
        offsets = tuple(g.members[n] - low for n in names)
        end = n_ops if any(n in exits for n in names) else g.end
        inside = offsets if any(offsets) else ()
        result.append(Buffer(g.name, names, high - low, g.start, max(end, g.start + 1), inside))
        for k, (lo, hi, until) in enumerate(_rests(g.epochs, low, high)):
            name = f"{g.name}.rest{k or ''}"
            result.append(Buffer(name, (), hi - lo, g.start, until, anchor=(g.name, lo - low)))
    return result + scratch


def _rests(epochs: list[tuple[int, int, int]], low: int, high: int) -> list[tuple[int, int, int]]:
    """(lo, hi, end): the bytes of earlier extents outside [low, high), each piece live until the last
    extent that held it ended. O(e^2) in the number of extents (one per take-over: a few)."""
    cuts = sorted({x for lo, hi, _ in epochs for x in (lo, hi)} | {low, high})
    pieces: list[tuple[int, int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        end = max((e for lo, hi, e in epochs if lo <= a and b <= hi), default=None)
        if end is None or (low <= a and b <= high):
            continue
        if pieces and pieces[-1][1] == a and pieces[-1][2] == end:
            pieces[-1] = (pieces[-1][0], b, end)
        else:
            pieces.append((a, b, end))
    return pieces


def _overwritable(graph: Graph, op, i: int, owner: dict, last: dict) -> tuple[_Group, int] | None:
    """The buffer output 0 may take over (and the output's offset in it), if the kernel allows it and
    nothing reads that buffer after this op. An input whose bytes all lie under the output comes first;
    else one that leaves a rest (its bytes beyond the output, free after this op)."""
    op_def = OPS[op.type]
    if op_def.alias is None:
        return None
    outs = [(graph.tensors[n].shape, graph.tensors[n].dtype) for n in op.outputs]
    found = []
    for index, delta in op_def.alias(op, input_specs(graph, op), outs):
        name = op.inputs[index]
        if not name or graph.tensors[name].is_const or _align(delta) >= nbytes(outs[0]):
            continue  # a constant, or an output wholly below the input: nothing shared
        group = owner[name]
        if any(last.get(m, -1) > i for m in group.members):
            continue  # still read later (or a graph output)
        offset = group.members[name] - _align(delta)
        lo, hi = group.extent(graph)
        found.append((lo < offset or hi > offset + _align(nbytes(outs[0])), group, offset))
    if not found:
        return None
    _, group, offset = min(found, key=lambda f: f[0])  # the first that leaves no rest, else the first
    return group, offset


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lower_bound(bufs: list[Buffer]) -> int:
    """The most bytes live at any one step: no arena can be smaller (given this op order)."""
    steps = max((b.end for b in bufs), default=0)
    return max((sum(b.size for b in bufs if b.start <= t < b.end) for t in range(steps)), default=0)

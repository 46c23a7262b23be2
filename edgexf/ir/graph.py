"""The IR: a graph of typed tensors and ops, in execution order.

A Graph is plain data. Passes are functions Graph -> Graph (edgexf/passes/); op semantics (shape
inference and the NumPy reference) live in edgexf/ir/ops.py. `Graph.verify()` checks the invariants
every stage relies on and is run when a graph is made and after every pass.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Container
from dataclasses import dataclass, field

import numpy as np

DTYPES = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32, "uint8": np.uint8}


def unique_name(base: str, *taken: Container[str]) -> str:
    """base, or base_1, base_2, ...: the first in none of `taken` (sets, dicts of names). The one rule
    the passes, the quantizer and the graph builder name new tensors and ops by."""
    name, i = base, 1
    while any(name in t for t in taken):
        name, i = f"{base}_{i}", i + 1
    return name


def source_module(source: str) -> str:
    """The module path in an op's `source` ("module 'blocks.0.attn.proj', node ..."), or ""."""
    m = re.search(r"module '([^']*)'", source)
    return m.group(1) if m else ""


class GraphError(ValueError):
    """A graph breaks an IR invariant: this is a bug in a frontend or a pass, not in the user's model."""


@dataclass(frozen=True)
class QParams:
    """How an integer tensor holds real numbers: real = scale * (q - zero_point).

    `scale` is a float, or for a per-channel weight a tuple of floats along `axis`; weights are
    symmetric (zero_point 0). Kernels never read these: the quantization pass turns them into the
    integer multipliers, shifts and tables that ops carry.
    """

    scale: float | tuple[float, ...]
    zero_point: int = 0
    axis: int | None = None  # the channel axis of a per-channel scale

    def to_dict(self) -> dict:
        return {"scale": self.scale, "zero_point": self.zero_point} | (
            {"axis": self.axis} if self.axis is not None else {}
        )


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None  # set for constants (weights); they go to flash
    quant: QParams | None = None  # set for integer tensors that stand for real numbers
    # a constant whose bytes in flash differ from `data`: a widened weight's int16 pairs
    # (passes/widen_weights.py). weights.c writes it; `data` keeps the values the reference computes with.
    stored: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Its bytes in memory: a constant's in flash, as weights.c writes it."""
        if self.stored is not None:
            return int(self.stored.nbytes)
        return self.numel * np.dtype(DTYPES[self.dtype]).itemsize


@dataclass
class Op:
    type: str  # a key of edgexf.ir.ops.OPS
    name: str  # unique; named after the source node
    inputs: list[str]  # tensor names; "" marks an absent optional input (e.g. no bias)
    outputs: list[str]
    attrs: dict = field(default_factory=dict)
    source: str = ""  # where it came from in the user's model: module path, source op, file:line

    def describe(self) -> str:
        return f"{self.type} '{self.name}'" + (f" (from {self.source})" if self.source else "")


@dataclass
class Graph:
    """A model's forward function; for a recurrent model, one time step of it.

    A recurrent (streaming) graph has `states`: pairs (state, next state). The state tensors are defined
    before the first op, like inputs, and hold what the previous step left (zeros after a reset); the next
    states are computed by ops and become the states of the following step. `steps` is the length of
    one sample's sequence: the whole-sequence run resets the state and runs the graph that many times,
    and its output is the last step's.
    """

    name: str
    tensors: dict[str, Tensor]
    ops: list[Op]
    inputs: list[str]
    outputs: list[str]
    states: list[tuple[str, str]] = field(default_factory=list)
    steps: int | None = None

    @property
    def is_streaming(self) -> bool:
        return bool(self.states)

    def state_inputs(self) -> list[str]:
        return [s for s, _ in self.states]

    def entry_tensors(self) -> list[str]:
        """What holds a value before the first op runs: the inputs and the states."""
        return list(self.inputs) + self.state_inputs()

    def exit_tensors(self) -> list[str]:
        """What must still hold its value after the last op: the outputs and the next states."""
        return list(self.outputs) + [n for _, n in self.states]

    def io_shape(self, name: str) -> tuple[int, ...]:
        """An input's shape as the caller of the whole model sees it: a streaming model's input is the
        whole sequence, its steps one after another: (1, steps, d) for steps of shape (1, d), as PyTorch
        batches sequences; (steps, *shape) otherwise. Either way the same bytes as `steps` step inputs."""
        shape = self.tensors[name].shape
        if not (self.is_streaming and name in self.inputs):
            return shape
        return (1, self.steps, *shape[1:]) if shape[:1] == (1,) else (self.steps, *shape)

    def io_bytes(self, name: str) -> int:
        """Bytes of an input or output as io_shape gives it (a streaming input: all its steps)."""
        t = self.tensors[name]
        return t.nbytes * (self.steps if self.io_shape(name) != t.shape else 1)

    def copy(self) -> Graph:
        """A deep copy of the structure; constant arrays are shared (passes never mutate them)."""
        tensors = {k: copy.copy(t) for k, t in self.tensors.items()}
        return Graph(
            self.name, tensors, copy.deepcopy(self.ops), list(self.inputs), list(self.outputs),
            list(self.states), self.steps,
        )  # fmt: skip

    def fresh_name(self, base: str) -> str:
        """base, or base_1, base_2, ...: the first that names no tensor and no op of the graph (passes
        adding tensors and ops name them with it)."""
        return unique_name(base, set(self.tensors) | {op.name for op in self.ops})

    def producer(self) -> dict[str, Op]:
        return {out: op for op in self.ops for out in op.outputs}

    def consumers(self) -> dict[str, list[Op]]:
        users: dict[str, list[Op]] = {name: [] for name in self.tensors}
        for op in self.ops:
            for name in op.inputs:
                if name:
                    users[name].append(op)
        return users

    def constants(self) -> list[Tensor]:
        return [t for t in self.tensors.values() if t.is_const]

    def activations(self) -> list[Tensor]:
        """Tensors that live in RAM: graph inputs and everything ops produce."""
        return [t for t in self.tensors.values() if not t.is_const]

    def verify(self) -> Graph:
        """Check the IR invariants; returns self so it can end a pass: `return g.verify()`."""
        from edgexf.ir.ops import OPS, infer_output_specs

        defined = set(self.entry_tensors()) | {t.name for t in self.constants()}
        for name in self.entry_tensors():
            if name not in self.tensors or self.tensors[name].is_const:
                raise GraphError(f"graph input or state {name!r} is not a non-constant tensor of the graph")
        for state, nxt in self.states:
            a, b = self.tensors[state], self.tensors.get(nxt)
            if b is None or (a.shape, a.dtype) != (b.shape, b.dtype) or state == nxt:
                raise GraphError(f"state {state!r} and its next value {nxt!r} differ in shape or dtype")
        if self.is_streaming and not (self.steps and self.steps > 0):
            raise GraphError("a graph with states needs `steps`, the length of one sample's sequence")
        names = set()
        for op in self.ops:
            if op.name in names:
                raise GraphError(f"two ops are named {op.name!r}")
            names.add(op.name)
            if op.type not in OPS:
                raise GraphError(f"{op.describe()}: unknown op type")
            for name in op.inputs:
                if name and name not in defined:
                    raise GraphError(f"{op.describe()}: input {name!r} is used before it is defined")
            specs = infer_output_specs(self, op)
            for name, (shape, dtype) in zip(op.outputs, specs, strict=True):
                t = self.tensors.get(name)
                if t is None or t.is_const:
                    raise GraphError(f"{op.describe()}: output {name!r} is missing or constant")
                if name in defined:
                    raise GraphError(f"{op.describe()}: output {name!r} is defined twice")
                if t.shape != shape or t.dtype != dtype:
                    raise GraphError(
                        f"{op.describe()}: output {name!r} is {t.dtype}{list(t.shape)}, "
                        f"shape inference says {dtype}{list(shape)}"
                    )
                defined.add(name)
        for name in self.exit_tensors():
            if name not in defined:
                raise GraphError(f"graph output or next state {name!r} is never produced")
        return self

    def summary(self) -> str:
        lines = [f"graph {self.name}: {len(self.ops)} ops, inputs {self.inputs}, outputs {self.outputs}"]
        if self.states:
            lines.append(f"  {self.steps} steps; states (state -> next): {self.states}")
        for op in self.ops:
            outs = ", ".join(f"{o}{list(self.tensors[o].shape)}" for o in op.outputs)
            lines.append(
                f"  {op.type:<10} {op.name:<24} ({', '.join(i or '-' for i in op.inputs)}) -> {outs}"
            )
        return "\n".join(lines)

"""Build a Graph op by op, with shapes inferred as ops are added (used by frontends and passes)."""

from __future__ import annotations

import re

import numpy as np

from edgexf.ir.graph import Graph, GraphError, Op, Tensor, unique_name
from edgexf.ir.ops import OPS, input_specs


class GraphBuilder:
    def __init__(self, name: str):
        self.name = name
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self._op_names: set[str] = set()

    def unique(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base) or "t"
        return unique_name(base, self.tensors, self._op_names)

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def add_input(self, name: str, shape: tuple[int, ...], dtype: str = "float32") -> str:
        name = self.unique(name)
        self.tensors[name] = Tensor(name, tuple(int(d) for d in shape), dtype)
        self.inputs.append(name)
        return name

    def add_const(self, name: str, value: np.ndarray) -> str:
        value = np.ascontiguousarray(value)
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        dtype = str(value.dtype)
        name = self.unique(name)
        self.tensors[name] = Tensor(name, tuple(value.shape), dtype, value)
        return name

    def add_op(
        self,
        type: str,
        inputs: list[str],
        attrs: dict | None = None,
        name: str = "op",
        source: str = "",
        num_outputs: int = 1,
    ) -> list[str]:
        """Append an op; its output tensors are created with inferred shapes and returned by name."""
        if type not in OPS:
            raise GraphError(f"no IR op {type!r}")
        op_name = self.unique(name)
        self._op_names.add(op_name)
        op = Op(type, op_name, list(inputs), [], dict(attrs or {}), source)
        graph_view = Graph(self.name, self.tensors, self.ops, self.inputs, self.outputs)
        specs = OPS[type].infer(op, input_specs(graph_view, op))
        if len(specs) != num_outputs:
            raise GraphError(f"{op.describe()} has {len(specs)} outputs, {num_outputs} expected")
        for k, (shape, dtype) in enumerate(specs):
            out = op_name if k == 0 and op_name not in self.tensors else self.unique(f"{op_name}.out{k}")
            self.tensors[out] = Tensor(out, tuple(int(d) for d in shape), dtype)
            op.outputs.append(out)
        self.ops.append(op)
        return op.outputs

    def add1(
        self, type: str, inputs: list[str], attrs: dict | None = None, name: str = "op", source: str = ""
    ) -> str:
        return self.add_op(type, inputs, attrs, name, source)[0]

    def build(self, outputs: list[str]) -> Graph:
        return Graph(self.name, self.tensors, self.ops, self.inputs, list(outputs)).verify()

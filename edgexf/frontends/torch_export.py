"""PyTorch frontend: a torch.export ExportedProgram becomes an IR Graph.

Each aten op the compact ViT family uses maps to IR ops in ATEN (one table, edgexf/frontends/aten_ops.py).
Shapes are static,
as exported (MCU inference runs batch 1). Anything not in the table is refused with the op's name,
where it comes from in the user's model, and the list of what is supported.
"""

from __future__ import annotations

import math
import operator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends.aten_ops import ATEN, resolve_shape
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph


class AtenConverter:
    def __init__(self, ep: ExportedProgram, name: str):
        self.ep = ep
        self.b = GraphBuilder(name)
        self.node = None  # the fx node being converted, for names and messages

    # -- helpers used by the handlers --
    def source(self) -> str:
        return node_source(self.node)

    def op(self, type: str, inputs: list[str], attrs: dict | None = None) -> str:
        return self.b.add1(type, inputs, attrs, name=self.node.name, source=self.source())

    def shape(self, name: str) -> tuple[int, ...]:
        return self.b.tensor(name).shape

    def const_value(self, name: str) -> np.ndarray | None:
        return self.b.tensor(name).data

    def scalar(self, value: float) -> str:
        return self.b.add_const(f"{self.node.name}.scalar", np.array(value, dtype=np.float32))

    def refuse(self, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(
            f"unsupported: {self.node.target} with {what}\n  at {self.source()}\n"
            f"  supported aten ops: {', '.join(sorted(ATEN))}"
        )

    def reshape(self, x: str, shape) -> str:
        shape = resolve_shape(list(shape), math.prod(self.shape(x)))
        if tuple(shape) == self.shape(x):
            return x
        if self.const_value(x) is not None:
            return self.b.add_const(self.node.name, self.const_value(x).reshape(shape))
        return self.op("reshape", [x], {"shape": tuple(shape)})

    def transpose(self, x: str, perm: list[int]) -> str:
        if perm == sorted(perm):
            return x
        # permuting around axes of size 1 only moves no data: a reshape
        moved = [p for p in perm if self.shape(x)[p] != 1]
        if moved == sorted(moved):
            return self.reshape(x, [self.shape(x)[p] for p in perm])
        return self.op("transpose", [x], {"perm": list(perm)})


def node_source(node) -> str:
    if node is None:
        return "?"
    stack = node.meta.get("nn_module_stack") or {}
    module = list(stack.values())[-1][0] if stack else ""
    where = ""
    trace = (node.meta.get("stack_trace") or "").strip().splitlines()
    files = [  # the user's frames: not torch's own modules, not edgexf's export wrappers
        line.strip() for line in trace
        if line.strip().startswith("File ") and "/torch/" not in line and "/edgexf/frontends/" not in line
    ]  # fmt: skip
    if files:  # 'File "/abs/path/model.py", line 66, in forward' -> 'model.py:66'
        path, _, rest = files[-1].removeprefix("File ").partition(", line ")
        name = Path(path.strip('"')).name
        where = f"{name}:{rest.split(',')[0]}"
    parts = [
        p for p in (f"module '{module}'" if module else "", f"node {node.name} ({node.target})", where) if p
    ]
    return ", ".join(parts)


def _bind(node, env: dict) -> dict:
    """The node's arguments by schema name, defaults filled in, fx nodes replaced by IR values."""

    def value(v):
        return torch.fx.node.map_arg(v, lambda n: env[n.name])

    schema = node.target._schema
    bound = {}
    for i, arg in enumerate(schema.arguments):
        if i < len(node.args):
            bound[arg.name] = value(node.args[i])
        elif arg.name in node.kwargs:
            bound[arg.name] = value(node.kwargs[arg.name])
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
    return bound


def from_exported_program(ep: ExportedProgram, name: str = "model") -> Graph:
    """Convert an ExportedProgram (as torch.export.export or torch.export.load give it) to a Graph."""
    c = AtenConverter(ep, name)
    sig = ep.graph_signature
    state = {**ep.state_dict, **ep.constants}
    env: dict[str, Any] = {}
    specs = {s.arg.name: s for s in sig.input_specs}
    for node in ep.graph.nodes:
        c.node = node
        if node.op == "placeholder":
            spec = specs[node.name]
            if spec.kind == InputKind.USER_INPUT:
                meta = node.meta.get("val")
                if not isinstance(meta, torch.Tensor):
                    raise ModelLoadError(
                        f"model input {node.name!r} is not a tensor: only tensor inputs are supported"
                    )
                if meta.dtype != torch.float32:
                    raise ModelLoadError(
                        f"model input {node.name!r} is {meta.dtype}; only float32 inputs are supported"
                    )
                env[node.name] = c.b.add_input(node.name, tuple(meta.shape))
            else:
                value = state[spec.target].detach().cpu().numpy()
                env[node.name] = c.b.add_const(
                    spec.target, value.astype(np.float32) if value.dtype == np.float64 else value
                )
        elif node.op == "call_function":
            if node.target is operator.getitem:
                env[node.name] = env[node.args[0].name][node.args[1]]
                continue
            handler = ATEN.get(str(node.target))
            # no handler, or integer arithmetic on constants (position ids): torch evaluates it now
            integer = isinstance(getattr(node.meta.get("val"), "dtype", None), torch.dtype) and not (
                node.meta["val"].dtype.is_floating_point
            )
            folded = _fold_with_torch(c, node, env) if handler is None or integer else None
            if folded is not None:
                env[node.name] = folded
                continue
            if handler is None:
                raise UnsupportedOpError(
                    f"unsupported op {node.target}\n  at {node_source(node)}\n"
                    f"  supported aten ops: {', '.join(sorted(ATEN))}"
                )
            env[node.name] = handler(c, _bind(node, env))
        elif node.op == "output":
            if any(s.kind != OutputKind.USER_OUTPUT for s in sig.output_specs):
                raise UnsupportedOpError(
                    "the model mutates buffers during forward; export it in eval mode without state updates"
                )
            outs = [env[n.name] for n in torch.fx.node.map_arg(node.args[0], lambda n: n) if n is not None]
            outs = [_as_activation(c, o) for o in outs]
            return c.b.build(outs)
    raise ModelLoadError("the exported program has no output node")


# ops that make a tensor from numbers alone, the same every time: evaluated at import (HuggingFace's ViT
# makes its position ids with arange); random ones (rand, randn) and uninitialized ones (empty) are not
FACTORIES = {"arange", "zeros", "ones", "full", "scalar_tensor", "linspace"}


def _fold_with_torch(c: AtenConverter, node, env: dict) -> str | None:
    """An op with only constant tensor inputs (e.g. abs() of a parameter) or a FACTORIES op is evaluated
    now, by torch."""
    names = [n.name for n in node.all_input_nodes]
    values = [env.get(n) for n in names]
    if not names and getattr(node.target, "__name__", "").split(".")[0] not in FACTORIES:
        return None
    if not all(isinstance(v, str) and c.const_value(v) is not None for v in values):
        return None
    consts = {n: torch.from_numpy(np.ascontiguousarray(c.const_value(v))) for n, v in zip(names, values)}
    args = torch.fx.node.map_arg(node.args, lambda n: consts[n.name])
    kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: consts[n.name])
    with torch.no_grad():
        result = node.target(*args, **kwargs)
    if not isinstance(result, torch.Tensor):
        return None
    return c.b.add_const(node.name, result.numpy())


def _as_activation(c: AtenConverter, name: str) -> str:
    if name in c.b.inputs or c.const_value(name) is not None:
        raise UnsupportedOpError(f"model output {name!r} is an input or a constant; nothing to compute")
    return name

"""PyTorch frontend: a torch.export ExportedProgram becomes an IR Graph.

Each aten op the compact ViT family uses maps to IR ops in ATEN (one table). Shapes are static,
as exported (MCU inference runs batch 1). Anything not in the table is refused with the op's name,
where it comes from in the user's model, and the list of what is supported.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends.aten_math import ATEN_MATH
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph


class _Converter:
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
        shape = _resolve_shape(list(shape), math.prod(self.shape(x)))
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


def _resolve_shape(shape: list[int], numel: int) -> list[int]:
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = numel // known
    return [int(d) for d in shape]


def _axis(dim: int, rank: int) -> int:
    """Axes are stored negative so references can run with extra leading (data set) axes."""
    return dim - rank if dim >= 0 else dim


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


# ---- handlers: (converter, bound arguments) -> IR value (tensor name, or list/tuple of them) ------


def _conv2d(c: _Converter, a: dict) -> str:
    x, w, b = a["input"], a["weight"], a.get("bias")
    if len(c.shape(x)) == 3:  # (N, C, L): a 1-D convolution (edgexf/frontends/aten_math.py)
        return ATEN["aten.conv1d.default"](c, a)
    if a.get("transposed"):
        raise c.refuse("transposed=True")
    stride, padding, dilation = (list(a.get(k) or [1]) for k in ("stride", "padding", "dilation"))
    if isinstance(a.get("padding"), str):
        if a["padding"] != "valid":
            raise c.refuse(f"padding='{a['padding']}'")
        padding = [0]
    if a.get("groups", 1) != 1 or any(d != 1 for d in dilation):
        raise c.refuse(f"groups={a.get('groups')}, dilation={dilation} (only groups=1, dilation=1)")
    if len(c.shape(x)) != 4:
        raise c.refuse(f"a {len(c.shape(x))}-D input (only 1-D convolution, NCL, and 2-D, NCHW)")
    stride, padding = (v * 2 if len(v) == 1 else v for v in (stride, padding))
    inputs = [x, w] + ([b] if b else [""])
    return c.op("conv2d", inputs, {"stride": tuple(stride), "padding": tuple(padding)})


def _linear(c: _Converter, a: dict) -> str:
    return c.op("linear", [a["input"], a["weight"], a.get("bias") or ""])


def _matmul(c: _Converter, a: dict) -> str:
    x, y = a.get("self"), a.get("other", a.get("mat2"))
    if len(c.shape(x)) < 2 or len(c.shape(y)) < 2:
        raise c.refuse("a 1-D operand (reshape to 2-D first)")
    w = c.const_value(y)
    if w is not None and w.ndim == 2:  # x @ W with constant W is a linear layer (weight (out, in))
        return c.op("linear", [x, c.b.add_const(f"{c.node.name}.weight", w.T.copy()), ""])
    return c.op("matmul", [x, y])


def _addmm(c: _Converter, a: dict) -> str:
    if a.get("beta", 1) != 1 or a.get("alpha", 1) != 1:
        raise c.refuse("beta or alpha other than 1")
    y = _matmul(c, {"self": a["mat1"], "mat2": a["mat2"]})
    return c.op("add", [y, a["self"]])


def _binary(type: str) -> Callable:
    def handler(c: _Converter, a: dict) -> str:
        x, y = a["self"], a["other"]
        if a.get("rounding_mode"):
            raise c.refuse(f"rounding_mode={a['rounding_mode']!r}")
        names = [v if isinstance(v, str) else c.scalar(float(v)) for v in (x, y)]
        if a.get("alpha", 1) != 1:
            names[1] = c.op("mul", [names[1], c.scalar(float(a["alpha"]))])
        return c.op(type, names)

    return handler


def _layer_norm(c: _Converter, a: dict) -> str:
    x, shape = a["input"], list(a["normalized_shape"])
    if len(shape) != 1 or shape[0] != c.shape(x)[-1]:
        raise c.refuse(f"normalized_shape={shape} (only the last axis)")
    return c.op("layernorm", [x, a.get("weight") or "", a.get("bias") or ""], {"eps": float(a["eps"])})


def _softmax(c: _Converter, a: dict) -> str:
    x = a["self"]
    rank = len(c.shape(x))
    dim = a["dim"] % rank
    if dim == rank - 1:
        return c.op("softmax", [x])
    perm = list(range(rank))
    perm[dim], perm[-1] = perm[-1], perm[dim]
    return c.transpose(c.op("softmax", [c.transpose(x, perm)]), perm)


def _gelu(c: _Converter, a: dict) -> str:
    return c.op("gelu", [a["self"]], {"approximate": a.get("approximate") or "none"})


def _mean(c: _Converter, a: dict) -> str:
    x, dims = a["self"], a.get("dim")
    rank = len(c.shape(x))
    dims = sorted(d % rank for d in (dims if dims else range(rank)))
    if dims != list(range(dims[0], dims[-1] + 1)):
        raise c.refuse(f"dim={dims} (only consecutive axes)")
    shape = c.shape(x)
    merged = list(shape[: dims[0]]) + [math.prod(shape[d] for d in dims)] + list(shape[dims[-1] + 1 :])
    y = c.op("mean", [c.reshape(x, merged)], {"axis": _axis(dims[0], len(merged))})
    if a.get("keepdim"):
        y = c.reshape(y, [1 if i in dims else d for i, d in enumerate(shape)])
    return y


def _flatten(c: _Converter, a: dict) -> str:
    x = a["self"]
    shape = list(c.shape(x))
    s, e = a.get("start_dim", 0) % len(shape), a.get("end_dim", -1) % len(shape)
    return c.reshape(x, shape[:s] + [math.prod(shape[s : e + 1])] + shape[e + 1 :])


def _unsqueeze(c: _Converter, a: dict) -> str:
    shape = list(c.shape(a["self"]))
    dim = a["dim"] % (len(shape) + 1)
    return c.reshape(a["self"], shape[:dim] + [1] + shape[dim:])


def _squeeze(c: _Converter, a: dict) -> str:
    shape = list(c.shape(a["self"]))
    dims = a.get("dim")
    dims = [dims] if isinstance(dims, int) else (dims if dims is not None else range(len(shape)))
    drop = {d % len(shape) for d in dims if shape[d % len(shape)] == 1}
    return c.reshape(a["self"], [d for i, d in enumerate(shape) if i not in drop])


def _expand(c: _Converter, a: dict) -> str:
    x, size = a["self"], list(a["size"])
    shape = c.shape(x)
    target = [s if s != -1 else shape[i - (len(size) - len(shape))] for i, s in enumerate(size)]
    value = c.const_value(x)
    if value is not None:  # expanding a parameter (e.g. the class token): fold it now
        return c.b.add_const(c.node.name, np.broadcast_to(value, target).copy())
    if math.prod(target) == math.prod(shape):
        return c.reshape(x, target)
    raise c.refuse(f"a non-constant input broadcast from {list(shape)} to {target}")


def _transpose(c: _Converter, a: dict) -> str:
    x = a["self"]
    rank = len(c.shape(x))
    perm = list(range(rank))
    if "dims" in a:
        perm = [d % rank for d in a["dims"]]
    else:
        d0, d1 = (a.get("dim0", 0) % rank, a.get("dim1", 1) % rank) if rank else (0, 0)
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return c.transpose(x, perm)


def _cat(c: _Converter, a: dict) -> str:
    xs = [x for x in a["tensors"] if math.prod(c.shape(x)) > 0]
    if len(xs) == 1:
        return xs[0]
    rank = len(c.shape(xs[0]))
    return c.op("concat", xs, {"axis": _axis(a.get("dim", 0) % rank, rank)})


def _slice_of(c: _Converter, x: str, dim: int, start: int, end: int) -> str:
    shape = c.shape(x)
    rank = len(shape)
    dim %= rank
    start, end, _ = slice(start, end).indices(shape[dim])
    if start == 0 and end == shape[dim]:
        return x
    return c.op("slice", [x], {"axis": _axis(dim, rank), "start": start, "end": end})


def _slice(c: _Converter, a: dict) -> str:
    if (a.get("step") or 1) != 1:
        raise c.refuse(f"step={a['step']} (only step 1)")
    return _slice_of(c, a["self"], a.get("dim", 0), a.get("start"), a.get("end"))


def _select(c: _Converter, a: dict) -> str:
    x, dim = a["self"], a["dim"] % len(c.shape(a["self"]))
    index = a["index"] % c.shape(x)[dim]
    y = _slice_of(c, x, dim, index, index + 1)
    return c.reshape(y, [d for i, d in enumerate(c.shape(y)) if i != dim])


def _unbind(c: _Converter, a: dict) -> list[str]:
    x, dim = a["self"], a.get("dim", 0) % len(c.shape(a["self"]))
    return [_select(c, {"self": x, "dim": dim, "index": i}) for i in range(c.shape(x)[dim])]


def _sdpa(c: _Converter, a: dict) -> str:
    if a.get("attn_mask") is not None or a.get("is_causal") or a.get("dropout_p", 0.0) != 0.0:
        raise c.refuse("attn_mask, is_causal or dropout (plain attention only)")
    q, k, v = a["query"], a["key"], a["value"]
    rank = len(c.shape(q))
    scale = a.get("scale") or 1.0 / math.sqrt(c.shape(q)[-1])
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = c.op("mul", [c.op("matmul", [q, c.transpose(k, perm)]), c.scalar(scale)])
    return c.op("matmul", [c.op("softmax", [scores]), v])


def _identity(c: _Converter, a: dict) -> str:
    return a.get("self", a.get("input"))


ATEN: dict[str, Callable[[_Converter, dict], Any]] = {
    "aten.conv2d.default": _conv2d,
    "aten.convolution.default": _conv2d,
    "aten.linear.default": _linear,
    "aten.matmul.default": _matmul,
    "aten.mm.default": _matmul,
    "aten.bmm.default": _matmul,
    "aten.addmm.default": _addmm,
    "aten.add.Tensor": _binary("add"),
    "aten.sub.Tensor": _binary("sub"),
    "aten.mul.Tensor": _binary("mul"),
    "aten.div.Tensor": _binary("div"),
    "aten.layer_norm.default": _layer_norm,
    "aten.native_layer_norm.default": lambda c, a: (_layer_norm(c, a), None, None),
    "aten.softmax.int": _softmax,
    "aten._softmax.default": _softmax,
    "aten.gelu.default": _gelu,
    "aten.relu.default": lambda c, a: c.op("relu", [a["self"]]),
    "aten.mean.dim": _mean,
    "aten.flatten.using_ints": _flatten,
    "aten.view.default": lambda c, a: c.reshape(a["self"], a["size"]),
    "aten.reshape.default": lambda c, a: c.reshape(a["self"], a["shape"]),
    "aten._unsafe_view.default": lambda c, a: c.reshape(a["self"], a["size"]),
    "aten.unsqueeze.default": _unsqueeze,
    "aten.squeeze.dim": _squeeze,
    "aten.squeeze.dims": _squeeze,
    "aten.expand.default": _expand,
    "aten.transpose.int": _transpose,
    "aten.permute.default": _transpose,
    "aten.t.default": _transpose,
    "aten.cat.default": _cat,
    "aten.select.int": _select,
    "aten.slice.Tensor": _slice,
    "aten.unbind.int": _unbind,
    "aten.scaled_dot_product_attention.default": _sdpa,
    "aten.clone.default": _identity,
    "aten.contiguous.default": _identity,
    "aten.alias.default": _identity,
    "aten.detach.default": _identity,
    "aten.dropout.default": _identity,
    "aten.lift_fresh_copy.default": _identity,
    **ATEN_MATH,  # exp, silu, softplus, ..., split, chunk, conv1d: recurrent models (aten_math.py)
}


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
    c = _Converter(ep, name)
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
            folded = _fold_with_torch(c, node, env) if handler is None else None
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


def _fold_with_torch(c: _Converter, node, env: dict) -> str | None:
    """An op with only constant tensor inputs (e.g. abs() of a parameter) is evaluated now, by torch."""
    names = [n.name for n in node.all_input_nodes]
    values = [env.get(n) for n in names]
    if not names or not all(isinstance(v, str) and c.const_value(v) is not None for v in values):
        return None
    consts = {n: torch.from_numpy(np.ascontiguousarray(c.const_value(v))) for n, v in zip(names, values)}
    args = torch.fx.node.map_arg(node.args, lambda n: consts[n.name])
    kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: consts[n.name])
    with torch.no_grad():
        result = node.target(*args, **kwargs)
    if not isinstance(result, torch.Tensor):
        return None
    return c.b.add_const(node.name, result.numpy())


def _as_activation(c: _Converter, name: str) -> str:
    if name in c.b.inputs or c.const_value(name) is not None:
        raise UnsupportedOpError(f"model output {name!r} is an input or a constant; nothing to compute")
    return name

"""What the recognizers (recognize.py, recognize_tflite.py, attention_forms.py) read a graph with: who
makes and who reads each tensor, constants, and the LayerNorm affine tail they share."""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Graph, Op


class Chains:
    def __init__(self, g: Graph):
        self.g = g
        self.producer = g.producer()
        self.users = g.consumers()
        self.exits = set(g.exit_tensors())

    def sole_user(self, t: str, type: str | None = None) -> Op | None:
        """The one op reading t (maybe through several of its inputs), if t is no graph output."""
        ops = {id(op): op for op in self.users.get(t, [])}
        if len(ops) != 1 or t in self.exits:
            return None
        op = next(iter(ops.values()))
        return op if type is None or op.type == type else None

    def made_by(self, t: str, type: str) -> Op | None:
        """The op writing t, if of this type and t is read by one op only."""
        op = self.producer.get(t)
        return op if op is not None and op.type == type and self.sole_user(t) is not None else None

    def scalar(self, t: str) -> float | None:
        v = self.g.tensors[t].data if t else None
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def other(self, op: Op, t: str) -> str | None:
        """The other operand of a binary op that reads t."""
        if len(op.inputs) != 2 or t not in op.inputs:
            return None
        return op.inputs[1] if op.inputs[0] == t else op.inputs[0]

    def is_const(self, t: str, value: float, rtol: float = 1e-6) -> bool:
        v = self.scalar(t)
        return v is not None and abs(v - value) <= rtol * abs(value)

    def shape(self, t: str) -> tuple[int, ...]:
        return self.g.tensors[t].shape


def affine_after(m: Chains, y: str, n: int, chain: list[Op]) -> tuple[str, dict]:
    """A normalized y's optional "* gamma" then "+ beta" (constants of n values): the new end and the
    parameters (gamma of ones when only beta is there); the ops found are appended to chain."""
    params = {}
    for key, type in (("gamma", "mul"), ("beta", "add")):
        op = m.sole_user(y, type)
        p = op and m.other(op, y)
        if op is None or not m.g.tensors[p].is_const or m.shape(op.outputs[0]) != m.shape(y):
            continue
        value = m.g.tensors[p].data
        if value.size != n or value.shape[-1:] != (n,):
            continue
        if key == "beta" and "gamma" not in params:
            params["gamma"] = np.ones(n, np.float32)
        params[key], y = value.reshape(n), op.outputs[0]
        chain.append(op)
    return y, params


def source(chain: list[Op]) -> str:
    return "recognized: " + " + ".join(op.type for op in chain)

"""The one rewrite engine of the passes: a matcher over producer/consumer chains, the chain replacement,
and new names. fuse.py, recognize.py, recognize_tflite.py and attention_forms.py are rules for it.

    rewrite(graph, rules) -> (new graph, verified; how many replacements)

A rule is a function (Chains, op) -> Match | None. It reads the graph through Chains (who writes and who
reads each tensor; single-reader checks; with `squeezed`, reshapes that only add or drop leading 1s are
seen through, as converters write them around BATCH_MATMUL and FULLY_CONNECTED) and never changes it:
new tensors come from `Chains.tensor` and go into the graph only when the match is applied. The engine
applies the first match of the graph's first op any rule matches, rebuilds its view, and repeats until
no rule matches. A match replaces its `chain` of ops by `new` ops at the place of the chain's last op
(or first), and drops the tensors nothing uses any more (graph inputs, outputs and states stay).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from edgexf.ir.graph import Graph, Op, Tensor, source_module, unique_name


@dataclass
class Match:
    chain: list[Op]  # the ops that go
    new: list[Op]  # the ops put where the last of them was (or the first, with `first`)
    first: bool = False  # the new ops' outputs are read before the chain's last op
    renames: dict[str, str] = field(default_factory=dict)  # reads of a tensor that goes -> what they read


class Chains:
    """A graph as rules read it. With squeezed=True, made_by and sole_user look through squeezing
    reshapes (what they passed over is in `skipped`, for `with_skipped`)."""

    def __init__(self, g: Graph, squeezed: bool = False):
        self.g, self.squeezed = g, squeezed
        self.producer = g.producer()
        self.users = g.consumers()
        self.exits = set(g.exit_tensors())
        self.skipped: list[Op] = []  # squeezing reshapes passed over by the current rule
        self.pending: dict[str, Tensor] = {}  # tensors the current rule makes or reshapes
        self.given: set[str] = set()  # names the current rule gave
        self.op_names = {op.name for op in g.ops}

    # ---- reading -------------------------------------------------------------------------------

    def sole_user(self, t: str, types: str | tuple[str, ...] | None = None) -> Op | None:
        """The one op reading t (maybe through several of its inputs), if t is no graph output and the
        op is of `types` (a type or a tuple of them; any when None)."""
        if self.squeezed and not _wants_reshape(types):
            t = self.down(t)
        ops = {id(op): op for op in self.users.get(t, [])}
        if len(ops) != 1 or t in self.exits:
            return None
        op = next(iter(ops.values()))
        return op if types is None or op.type in _tuple(types) else None

    def made_by(self, t: str, types: str | tuple[str, ...]) -> Op | None:
        """The op writing t, if of `types` and t is read by one op only."""
        if self.squeezed and not _wants_reshape(types):
            t = self.up(t)
        op = self.producer.get(t)
        if op is None or op.type not in _tuple(types):
            return None
        return op if self._one_reader(t) is not None else None

    def up(self, t: str) -> str:
        """The tensor t is a squeezed view of (through reshapes that only add or drop leading 1s, each
        the only reader of its input)."""
        while (op := self.producer.get(t)) is not None and op.type == "reshape":
            x = op.inputs[0]
            if not _squeezed(self.shape(x), self.shape(t)) or self._one_reader(x) is None:
                break
            self.skipped.append(op)
            t = x
        return t

    def down(self, t: str) -> str:
        """The last of the squeezing reshapes that are the only readers of t, one after another."""
        while (op := self._one_reader(t)) is not None and op.type == "reshape":
            if not _squeezed(self.shape(t), self.shape(op.outputs[0])):
                break
            self.skipped.append(op)
            t = op.outputs[0]
        return t

    def _one_reader(self, t: str) -> Op | None:
        ops = {id(op): op for op in self.users.get(t, [])}
        return next(iter(ops.values())) if len(ops) == 1 and t not in self.exits else None

    def with_skipped(self, chain: list[Op], keep: Sequence[str]) -> list[Op]:
        """The chain and the squeezing reshapes between its ops that up() and down() passed over (those
        before a tensor in `keep`, which the new op reads, stay)."""
        chain = list(chain)
        skipped = {op.outputs[0]: op for op in self.skipped}
        for op in list(chain):
            for t in op.inputs:
                while t in skipped and t not in keep and all(r is not skipped[t] for r in chain):
                    chain.append(skipped[t])
                    t = skipped[t].inputs[0]
        return chain

    def scalar(self, t: str) -> float | None:
        v = self.g.tensors[t].data if t else None
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def other(self, op: Op, t: str) -> str | None:
        """The other operand of a binary op that reads t."""
        if len(op.inputs) != 2 or t not in op.inputs:
            return None
        return op.inputs[1] if op.inputs[0] == t else op.inputs[0]

    def equals(self, t: str, value: float, rtol: float = 1e-6) -> bool:
        """t is a constant of one value, `value` to within rtol."""
        v = self.scalar(t)
        return v is not None and abs(v - value) <= rtol * abs(value)

    def constant(self, t: str) -> bool:
        """t names a constant (not "", an absent input)."""
        return bool(t) and self.g.tensors[t].is_const

    def shape(self, t: str) -> tuple[int, ...]:
        return self.g.tensors[t].shape

    # ---- what a match adds ---------------------------------------------------------------------

    def tensor(
        self, base: str, shape: tuple[int, ...], data: np.ndarray | None = None, like: str = ""
    ) -> str:
        """A new tensor (a float32 constant when data is given; else an activation of `like`'s dtype
        and parameters, or float32), uniquely named after base; it joins the graph with the match."""
        name = self.name(base)
        if data is not None:
            data = np.ascontiguousarray(data, np.float32)
            self.pending[name] = Tensor(name, tuple(data.shape), "float32", data)
        elif like:
            self.pending[name] = replace(self.g.tensors[like], name=name, shape=tuple(shape))
        else:
            self.pending[name] = Tensor(name, tuple(shape), "float32")
        return name

    def name(self, base: str) -> str:
        """A name for a new op or tensor: base, or base_1, ...: the first no tensor or op of the graph has
        and this match did not give already."""
        name = unique_name(base, self.g.tensors, self.op_names, self.given)
        self.given.add(name)
        return name

    def reshaped(self, t: str, shape: tuple[int, ...]) -> None:
        """t takes another shape when the match is applied (a tensor only reshapes read)."""
        self.pending[t] = replace(self.g.tensors[t], shape=tuple(shape))


Rule = Callable[[Chains, Op], "Match | None"]


def rewrite(graph: Graph, rules: Sequence[Rule], squeezed: bool = False) -> tuple[Graph, int]:
    """Apply the rules until none matches; returns the new graph (verified) and how many matches."""
    g, count = graph.copy(), 0
    while True:
        m = Chains(g, squeezed)
        found = next((r for op in g.ops for rule in rules if (r := _attempt(m, rule, op)) is not None), None)
        if found is None:
            return g.verify(), count
        replace_chain(g, found, m.pending)
        count += 1


def _attempt(m: Chains, rule: Rule, op: Op) -> Match | None:
    m.skipped, m.pending, m.given = [], {}, set()
    return rule(m, op)


def replace_chain(g: Graph, match: Match, tensors: dict[str, Tensor]) -> None:
    """Apply a match to g (a working copy the engine owns): the new tensors, the new ops where the
    chain's last (or first) op was, the renamed reads; then drop the tensors nothing uses any more."""
    g.tensors.update(tensors)
    gone = {id(op) for op in match.chain}
    where = [i for i, op in enumerate(g.ops) if id(op) in gone]
    at = where[0] if match.first else where[-1]
    ops = []
    for i, op in enumerate(g.ops):
        ops += match.new if i == at else [] if id(op) in gone else [op]
    g.ops = ops
    if match.renames:
        g.ops = [replace(op, inputs=[match.renames.get(t, t) for t in op.inputs]) for op in g.ops]
    drop_unused(g)


def drop_unused(g: Graph) -> None:
    """Delete the tensors no op reads or writes, other than inputs, outputs and states."""
    used = set(g.entry_tensors()) | set(g.exit_tensors())
    used |= {n for op in g.ops for n in (*op.inputs, *op.outputs) if n}
    g.tensors = {k: t for k, t in g.tensors.items() if k in used}


def chain_source(what: str, chain: list[Op]) -> str:
    """A replacing op's source: its kind, the ops it stands for, and their modules
    ("fused: q_layernorm + q_linear; modules 'blocks.0.norm1', 'blocks.0.attn.qkv'")."""
    text = f"{what}: " + " + ".join(op.type for op in chain)
    modules = list(dict.fromkeys(m for op in chain if (m := source_module(op.source))))
    if len(modules) == 1:
        return f"{text}; module '{modules[0]}'"
    return text + ("; modules " + ", ".join(f"'{m}'" for m in modules) if modules else "")


def _tuple(types: str | tuple[str, ...]) -> tuple[str, ...]:
    return (types,) if isinstance(types, str) else types


def _wants_reshape(types: str | tuple[str, ...] | None) -> bool:
    return types is not None and "reshape" in _tuple(types)


def _squeezed(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """a and b differ in leading 1s only (the same rows: a reshape between them moves nothing)."""

    def strip(s: tuple[int, ...]) -> tuple[int, ...]:
        return s[next((i for i, d in enumerate(s) if d != 1), len(s)) :]

    return strip(a) == strip(b) and len(a) != len(b)


def affine_after(m: Chains, y: str, n: int, chain: list[Op]) -> tuple[str, dict]:
    """A normalized y's optional "* gamma" then "+ beta" (constants of n values): the new end and the
    parameters (gamma of ones when only beta is there), each the constant's name where it already has
    the shape (n,) (the model's own weight, blocks.0.norm1.weight) or its values; the ops found are
    appended to chain."""
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
        params[key] = p if value.shape == (n,) and value.dtype == np.float32 else value.reshape(n)
        y = op.outputs[0]
        chain.append(op)
    return y, params


def source(chain: list[Op]) -> str:
    return chain_source("recognized", chain)

"""Run a Graph with its NumPy reference: the golden model for tests and per-layer debugging.

Inputs may carry leading axes in front of the declared shapes (a whole data set at once); the
outputs carry the same leading axes. A streaming graph's input carries the time axis just before the
declared shape, (..., steps, *shape): it runs step by step from zero states, as the C whole-sequence
run does, and gives the last step's outputs (every step's value of every tensor with keep_all).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import DTYPES, Graph, GraphError
from edgexf.ir.ops import OPS, input_specs


def run_reference(
    graph: Graph, feeds: dict[str, np.ndarray], keep_all: bool = False
) -> dict[str, np.ndarray]:
    """Outputs by name (every tensor's value with keep_all=True)."""
    if graph.is_streaming:
        return run_steps(graph, feeds, keep_all)
    return _run(graph, feeds, keep_all)


def run_steps(
    graph: Graph,
    feeds: dict[str, np.ndarray],
    keep_all: bool = False,
    states: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """A streaming graph over whole sequences: feeds (..., T, *step shape) with T = graph.steps or any
    other length. Starts from `states` (zeros when None) and leaves the final states in that dict when
    one is given. Returns the last step's outputs, or with keep_all every non-constant tensor's value at
    every step, (..., T, *shape)."""
    xs = {n: _as_steps(graph, n, feeds[n]) for n in graph.inputs if n in feeds}
    if len(xs) != len(graph.inputs):
        raise GraphError(f"no value given for graph input(s) {sorted(set(graph.inputs) - set(xs))}")
    x0 = xs[graph.inputs[0]]
    rank = len(graph.tensors[graph.inputs[0]].shape)
    lead, steps = x0.shape[: x0.ndim - rank - 1], x0.shape[x0.ndim - rank - 1]
    state = states if states is not None else {}
    for s, _ in graph.states:
        t = graph.tensors[s]
        if s not in state:
            state[s] = np.zeros(lead + t.shape, DTYPES[t.dtype])
    history: dict[str, list[np.ndarray]] = {}
    env: dict[str, np.ndarray] = {}
    for k in range(steps):
        step_feeds = {n: np.take(x, k, axis=x.ndim - len(graph.tensors[n].shape) - 1) for n, x in xs.items()}
        env = _run(graph, step_feeds | {s: state[s] for s, _ in graph.states}, keep_all)
        for s, nxt in graph.states:
            state[s] = env[nxt]
        if keep_all:
            for n, v in env.items():
                if not graph.tensors[n].is_const:
                    history.setdefault(n, []).append(v)
    if keep_all:
        return {n: np.stack(v, axis=v[0].ndim - len(graph.tensors[n].shape)) for n, v in history.items()}
    return {n: env[n] for n in graph.outputs}


def _as_steps(graph: Graph, name: str, x) -> np.ndarray:
    """Sequences laid out as graph.io_shape says, any number of steps, as (..., steps, *step shape)."""
    x, shape = np.asarray(x), graph.tensors[name].shape
    batch1 = shape[:1] == (1,)
    tail = shape[1:] if batch1 else shape
    k = len(tail) + 1 + batch1  # trailing axes of one sequence
    if x.ndim < k or x.shape[x.ndim - len(tail) :] != tail or (batch1 and x.shape[x.ndim - k] != 1):
        want = ", ".join((["1", "steps"] if batch1 else ["steps"]) + [str(d) for d in tail])
        raise GraphError(f"input {name!r} must end in shape [{want}], got {list(x.shape)}")
    lead, steps = x.shape[: x.ndim - k], x.shape[x.ndim - len(tail) - 1]
    return x.reshape(lead + (steps, *shape))


def _run(graph: Graph, feeds: dict[str, np.ndarray], keep_all: bool) -> dict[str, np.ndarray]:
    env: dict[str, np.ndarray] = {t.name: t.data for t in graph.constants()}
    for name in graph.entry_tensors():
        t = graph.tensors[name]
        if name not in feeds:
            raise GraphError(f"no value given for graph input {name!r}")
        x = np.asarray(feeds[name])
        if x.shape[x.ndim - len(t.shape) :] != t.shape or x.ndim < len(t.shape):
            raise GraphError(f"input {name!r} must end in shape {list(t.shape)}, got {list(x.shape)}")
        if t.dtype != "float32" and x.dtype.kind == "f":
            raise GraphError(
                f"input {name!r} is {t.dtype}: quantize float samples first (edgexf.compress.qmath)"
            )
        env[name] = x.astype(DTYPES[t.dtype], copy=False)
    users = graph.consumers()
    exits = set(graph.exit_tensors())
    remaining = {name: len(ops) for name, ops in users.items()}
    for op in graph.ops:
        args = [env[n] if n else None for n in op.inputs]
        outs = OPS[op.type].reference(op, args, input_specs(graph, op))
        for name, value in zip(op.outputs, outs, strict=True):
            env[name] = value
        if not keep_all:  # free what no later op reads, so a large data set fits in memory
            for n in op.inputs:
                if n:
                    remaining[n] -= 1
                    if remaining[n] == 0 and n not in exits and not graph.tensors[n].is_const:
                        del env[n]
    if keep_all:
        return env
    return {name: env[name] for name in graph.exit_tensors()}

"""Run a Graph with its NumPy reference: the golden model for tests and per-layer debugging.

Inputs may carry leading axes in front of the declared shapes (a whole data set at once); the
outputs carry the same leading axes.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import DTYPES, Graph, GraphError
from edgexf.ir.ops import OPS, input_specs


def run_reference(
    graph: Graph, feeds: dict[str, np.ndarray], keep_all: bool = False
) -> dict[str, np.ndarray]:
    """Outputs by name (every tensor's value with keep_all=True)."""
    env: dict[str, np.ndarray] = {t.name: t.data for t in graph.constants()}
    for name in graph.inputs:
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
                    if remaining[n] == 0 and n not in graph.outputs and not graph.tensors[n].is_const:
                        del env[n]
    if keep_all:
        return env
    return {name: env[name] for name in graph.outputs}

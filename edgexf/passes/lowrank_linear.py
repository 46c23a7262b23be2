"""Low-rank decomposition of the graph's linear ops, for models that cannot be retrained (ONNX, TFLite).

    y = linear(x, W, b)        W (m, n) constant     =>    h = linear(x, A, -)    A (r, n) = sqrt(S_r) V_r^T
                                                           y = linear(h, B, b)    B (m, r) = U_r sqrt(S_r)

Ranks come from edgexf.compress.ranks, the same rule as the PyTorch form (edgexf.compress.lowrank):
a layer is factorized only below its break-even rank m n / (m + n), ranks chosen from a weight budget.
Nothing is fine-tuned, so measure what it costs on calibration data: edgexf.compress.agreement.

Run it on the float graph after fold_constants (so weights transposed at export are constants) and
before fuse and quantize, which see two plain linear ops. A weight read by more than one op (tied
weights) is left dense: factorizing it for one reader would change the other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from edgexf.compress.ranks import RankPlan, choose_ranks, factorize
from edgexf.ir.graph import Graph, Op
from edgexf.passes.chains import Chains, Match, rewrite

# skip: op names to keep dense, or a predicate (op) -> True to keep it dense.
Skip = Collection[str] | Callable[[Op], bool]


def linear_ops(graph: Graph) -> dict[str, Op]:
    """The float linear ops with a constant 2-D weight that no other op reads, by op name."""
    users = graph.consumers()
    found = {}
    for op in graph.ops:
        if op.type != "linear":
            continue
        w = graph.tensors[op.inputs[1]]
        if w.is_const and w.dtype == "float32" and len(w.shape) == 2 and len(users[w.name]) == 1:
            found[op.name] = op
    return found


def lowrank_linear(
    graph: Graph,
    *,
    budget_fraction: float | None = None,
    budget_params: int | None = None,
    ranks: Mapping[str, int | None] | None = None,
    skip: Skip = (),
) -> tuple[Graph, RankPlan]:
    """Factorize the linear ops as the plan says; returns (verified graph, plan; layers by op name).

    Give one of `budget_fraction` (of the linear weights), `budget_params` (weights = int8 bytes) or
    `ranks` (op name -> rank). `skip` keeps ops dense; they still count in the budget.
    """
    ops = linear_ops(graph)
    weights = {name: graph.tensors[op.inputs[1]].data for name, op in ops.items()}
    keep = {name for name, op in ops.items() if skip(op)} if callable(skip) else set(skip)
    plan = choose_ranks(
        weights, budget_fraction=budget_fraction, budget_params=budget_params, ranks=ranks, keep_dense=keep
    )
    plan = replace(plan, layers=[replace(layer, source=ops[layer.name].source) for layer in plan.layers])
    rank = plan.ranks()
    weight = {name: op.inputs[1] for name, op in ops.items() if rank.get(name) is not None}
    g, _ = rewrite(graph, [lambda m, op: _split(m, op, weight, rank)])
    return g, plan


def _split(m: Chains, op: Op, weight: dict[str, str], rank: dict[str, int]) -> Match | None:
    """linear(x, W, b) -> linear(x, A, -) then linear(h, B, b), keeping the output tensor's name; A and B
    are named after W (blocks.0.attn.qkv.A)."""
    if op.type != "linear" or op.name not in weight or op.inputs[1] != weight[op.name]:
        return None  # not to factorize, or factorized already (it reads B)
    x, w, b = op.inputs
    r = rank[op.name]
    first, second = factorize(m.g.tensors[w].data, r)  # (r, n), (m, r)
    base = w.removesuffix(".weight")
    a_name, b_name = m.tensor(f"{base}.A", first.shape, first), m.tensor(f"{base}.B", second.shape, second)
    h_name = m.tensor(f"{op.name}_lowrank", m.shape(x)[:-1] + (r,))
    source = f"{op.source or op.name} (rank {r})"
    return Match(
        [op],
        [
            Op("linear", h_name, [x, a_name, ""], [h_name], {}, source),
            Op("linear", op.name, [h_name, b_name, b], list(op.outputs), dict(op.attrs), source),
        ],
    )

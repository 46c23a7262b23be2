"""Low-rank decomposition of a PyTorch model's nn.Linear layers, before export (then fine-tune).

    nn.Linear(n, m)      W (m, n), b (m,)
      =>  LowRankLinear: first  = nn.Linear(n, r, bias=False)   A = sqrt(S_r) V_r^T   (r, n)
                         second = nn.Linear(r, m, bias=b given) B = U_r sqrt(S_r)     (m, r)

    model, plan = decompose(model, budget_fraction=0.5)   # a copy; the plan goes to report.json
    result = finetune(model, x_train, y_train, epochs=10)  # edgexf.compress.finetune

torch.export writes a LowRankLinear as two plain aten.linear calls, so the frontend, the planner and
codegen need nothing new. Which layers and ranks: edgexf.compress.ranks (the same rule as the IR pass).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection

import torch
from torch import nn

from edgexf.compress.ranks import LowRankError, breaks_even, choose_ranks, factorize

__all__ = ["LowRankError", "LowRankLinear", "breaks_even", "decompose", "linear_layers"]

# skip: module names to keep dense, or a predicate (name, module) -> True to keep it dense.
Skip = Collection[str] | Callable[[str, nn.Linear], bool]


class LowRankLinear(nn.Module):
    """y = second(first(x)) = B (A x) + b: a rank-r stand-in for an nn.Linear, as two nn.Linear.

    Costs r (in + out) weights instead of in x out; it saves bytes only below the break-even rank
    (ranks.breaks_even). Any rank 1..min(in, out) is accepted here: choosing it is the plan's job.
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True):
        super().__init__()
        self.first = nn.Linear(in_features, rank, bias=False)  # A (r, n)
        self.second = nn.Linear(rank, out_features, bias=bias)  # B (m, r), b (m,)

    @classmethod
    def from_linear(cls, linear: nn.Linear, rank: int) -> LowRankLinear:
        """The best rank-`rank` approximation of `linear` (exact at full rank, to float32 rounding),
        on the same device and dtype; the bias is copied unchanged."""
        w = linear.weight.detach()
        first, second = factorize(w.cpu().double().numpy(), rank)
        module = cls(linear.in_features, linear.out_features, rank, bias=linear.bias is not None)
        module.to(device=w.device, dtype=w.dtype)
        with torch.no_grad():
            module.first.weight.copy_(torch.from_numpy(first))
            module.second.weight.copy_(torch.from_numpy(second))
            if linear.bias is not None:
                module.second.bias.copy_(linear.bias.detach())
        return module

    @property
    def rank(self) -> int:
        return self.first.out_features

    @property
    def in_features(self) -> int:
        return self.first.in_features

    @property
    def out_features(self) -> int:
        return self.second.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))  # (..., n) -> (..., r) -> (..., m)


def linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """The nn.Linear modules that can be swapped, by qualified name, in model order.

    Left out: the two halves of a LowRankLinear (already decomposed), and linears owned by an
    nn.MultiheadAttention, which reads its out_proj's weight directly instead of calling it.
    """
    found: dict[str, nn.Linear] = {}
    owned: set[int] = set()
    for name, module in model.named_modules():
        if isinstance(module, (LowRankLinear, nn.MultiheadAttention)):
            owned.update(id(m) for m in module.modules() if m is not module)
        elif isinstance(module, nn.Linear) and id(module) not in owned:
            found[name] = module
    return found


def decompose(
    model: nn.Module,
    *,
    budget_fraction: float | None = None,
    budget_params: int | None = None,
    ranks: dict[str, int | None] | None = None,
    skip: Skip = (),
) -> tuple[nn.Module, dict]:
    """A deep copy of `model` with its nn.Linear layers low-rank where the plan says; and the plan.

    Give one of: `budget_fraction` (of the weights of all linear layers, e.g. 0.5), `budget_params`
    (weights; the same number of bytes once int8), or `ranks` (name -> rank, None or absent: dense).
    `skip` keeps layers dense (they still count in the budget). The default skips nothing, not even a
    classifier head: it is small (out = classes) so its break-even rank is low, and the allocation
    keeps it dense unless the budget is tight, where forcing it dense would cost other layers rank.
    Returns (model, plan as a JSON-able dict, see ranks.RankPlan.to_dict). The model is in eval mode.
    """
    layers = linear_layers(model)
    if not layers:
        raise LowRankError(f"{type(model).__name__} has no nn.Linear layer to decompose")
    weights = {name: m.weight.detach().cpu().double().numpy() for name, m in layers.items()}
    plan = choose_ranks(
        weights,
        budget_fraction=budget_fraction,
        budget_params=budget_params,
        ranks=ranks,
        keep_dense=_skipped(layers, skip),
    )
    out = copy.deepcopy(model)
    for layer in plan.factorized():
        parent, _, attr = layer.name.rpartition(".")
        owner = out.get_submodule(parent) if parent else out
        setattr(owner, attr, LowRankLinear.from_linear(getattr(owner, attr), layer.rank))
    return out.eval(), plan.to_dict()


def _skipped(layers: dict[str, nn.Linear], skip: Skip) -> set[str]:
    if callable(skip):
        return {name for name, m in layers.items() if skip(name, m)}
    skip = {skip} if isinstance(skip, str) else set(skip)
    unknown = skip - set(layers)
    if unknown:
        raise LowRankError(
            f"skip names {sorted(unknown)} are not nn.Linear layers of the model; "
            f"they are: {', '.join(layers)}"
        )
    return skip


def lowrank_summary(graph) -> dict | None:  # noqa: ANN001 (an edgexf.ir.graph.Graph; no import cycle)
    """report.json's "lowrank" entry: the LowRankLinear layers of a compiled model, their ranks and the
    weights (int8 bytes) they save; None when there are none.

    Read from the IR graph as loaded (before fold_constants): torch.export writes a LowRankLinear named
    L as linear(x, L.first.weight) then linear(h, L.second.weight, L.second.bias), so a linear reading
    `<L>.first.weight` whose output feeds the linear reading `<L>.second.weight` is one layer of rank r,
    with A (r, n) and B (m, r). The dense layer it replaced cost m n weights; the bias is unchanged.
    """
    users = graph.consumers()
    layers = []
    for op in graph.ops:
        if op.type != "linear" or not op.inputs[1].endswith(".first.weight"):
            continue
        name = op.inputs[1].removesuffix(".first.weight")
        second = [
            u for u in users[op.outputs[0]] if u.type == "linear" and u.inputs[1] == f"{name}.second.weight"
        ]
        if len(second) != 1:
            continue
        r, n = graph.tensors[op.inputs[1]].shape
        m = graph.tensors[second[0].inputs[1]].shape[0]
        before, after = m * n, r * (m + n)
        layers.append(
            {"name": name, "shape": [m, n], "rank": r, "params_before": before, "params_after": after}
        )
    if not layers:
        return None
    saved = sum(layer["params_before"] - layer["params_after"] for layer in layers)
    return {
        "factorized": len(layers),
        "params_before": sum(layer["params_before"] for layer in layers),
        "params_after": sum(layer["params_after"] for layer in layers),
        "bytes_saved": {"int8": saved, "float32": 4 * saved},
        "layers": layers,
    }

"""Which linear layers to factorize, and at what rank, from a parameter budget (NumPy only).

    W (m, n) ~ B (m, r) @ A (r, n)      B = U_r sqrt(S_r), A = sqrt(S_r) V_r^T  (W = U S V^T, the SVD)

The factors cost r (m + n) weights instead of m n, so a factorization saves bytes only when
r < m n / (m + n), the break-even rank; the bias (m values) is the same either way. One implementation
of the rule serves both forms of the decomposition: edgexf.compress.lowrank (PyTorch modules, then
fine-tuning) and edgexf.passes.lowrank_linear (IR graphs that cannot be retrained).

Glossary: m = out features, n = in features, r = rank, s_i = the i-th singular value of W (descending).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np

from edgexf.errors import EdgexfError

RULE = "greedy: most relative singular-value energy per weight, within the budget; dense at break-even"


class LowRankError(EdgexfError):
    """Low-rank decomposition cannot be done as asked: no linear layer, a budget below the smallest
    possible model, an impossible rank."""

    exit_code = 2


def breaks_even(m: int, n: int, r: int) -> bool:
    """True when rank r saves no bytes on an (m, n) weight: r (m + n) >= m n, i.e. r >= m n / (m + n).

    Integer arithmetic, so the boundary is exact: a 64 x 64 layer breaks even at r = 32; r = 31 saves.
    """
    return r * (m + n) >= m * n


def max_saving_rank(m: int, n: int) -> int:
    """The largest rank that still saves bytes (0 when none does, e.g. a layer with one output)."""
    return (m * n - 1) // (m + n)


def factorize(weight: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """W (m, n) -> (A (r, n), B (m, r)) with B @ A the best rank-r approximation of W (Eckart-Young).

    sqrt(S_r) is folded into both factors so they have the same scale (no r x r middle, and neither
    factor is much larger than the other, which int8 per-channel quantization prefers). The SVD runs in
    float64; the factors come back in the weight's dtype.
    """
    m, n = weight.shape
    if not 1 <= rank <= min(m, n):
        raise LowRankError(f"rank {rank} is impossible for a {m} x {n} weight: it must be 1..{min(m, n)}")
    u, s, vt = np.linalg.svd(np.asarray(weight, np.float64), full_matrices=False)
    root = np.sqrt(s[:rank])
    first = root[:, None] * vt[:rank]  # (r, n)
    second = u[:, :rank] * root[None, :]  # (m, r)
    return first.astype(weight.dtype), second.astype(weight.dtype)


@dataclass(frozen=True)
class LayerPlan:
    name: str
    shape: tuple[int, int]  # (m, n) = (out, in), as torch and the IR store W
    rank: int | None  # None: kept dense
    params_before: int  # weights only: m n
    params_after: int  # r (m + n), or m n when dense
    energy: float  # sum_{i <= r} s_i^2 / ||W||_F^2 kept (1.0 when dense)
    skipped: bool = False  # kept dense because the caller asked, not by the allocation
    source: str = ""  # where the layer is in the user's model, when the name does not say (IR ops)

    def to_dict(self) -> dict:
        return asdict(self) | {"shape": list(self.shape)}


@dataclass(frozen=True)
class RankPlan:
    """Per layer: rank or dense, and the weights before and after. Budgets and counts are in weights
    (= bytes once weights are int8, 4 bytes each in float32); biases are unchanged and not counted."""

    layers: list[LayerPlan]
    budget_params: int | None  # None when the ranks were given, not allocated
    budget_fraction: float | None = None  # when the budget was given as a fraction

    @property
    def params_before(self) -> int:
        return sum(layer.params_before for layer in self.layers)

    @property
    def params_after(self) -> int:
        return sum(layer.params_after for layer in self.layers)

    def ranks(self) -> dict[str, int | None]:
        return {layer.name: layer.rank for layer in self.layers}

    def factorized(self) -> list[LayerPlan]:
        return [layer for layer in self.layers if layer.rank is not None]

    def to_dict(self) -> dict:
        """JSON-able, for report.json: which layers were factorized, their ranks, the bytes saved."""
        saved = self.params_before - self.params_after
        return {
            "rule": RULE if self.budget_params is not None else "ranks given",
            "budget_fraction": self.budget_fraction,
            "budget_params": self.budget_params,
            "params_before": self.params_before,
            "params_after": self.params_after,
            "fraction": self.params_after / self.params_before,
            "bytes_saved": {"int8": saved, "float32": 4 * saved},
            "factorized": len(self.factorized()),
            "layers": [layer.to_dict() for layer in self.layers],
        }


def relative_energy(weight: np.ndarray) -> np.ndarray:
    """cum[r] = sum_{i <= r} s_i^2 / ||W||_F^2 for r = 0..min(m, n) (all ones for a zero matrix)."""
    s2 = np.linalg.svd(np.asarray(weight, np.float64), compute_uv=False) ** 2
    total = s2.sum()
    if total == 0.0:
        return np.ones(len(s2) + 1)
    return np.concatenate([[0.0], np.cumsum(s2) / total])


def choose_ranks(
    weights: Mapping[str, np.ndarray],
    *,
    budget_fraction: float | None = None,
    budget_params: int | None = None,
    ranks: Mapping[str, int | None] | None = None,
    keep_dense: Collection[str] = (),
) -> RankPlan:
    """The plan from exactly one of: `budget_fraction` (of all the linear weights, `keep_dense` ones
    included), `budget_params` (weights), `ranks` (name -> rank; None or absent: dense)."""
    if not weights:
        raise LowRankError("the model has no linear layer with a constant 2-D weight to decompose")
    if sum(v is not None for v in (budget_fraction, budget_params, ranks)) != 1:
        raise LowRankError("give exactly one of budget_fraction, budget_params, ranks")
    if ranks is not None:
        forced = set(keep_dense) & {k for k, r in ranks.items() if r is not None}
        if forced:
            raise LowRankError(f"layers both kept dense and given a rank: {sorted(forced)}")
        return plan_ranks(weights, ranks)
    if budget_fraction is None:
        return allocate_ranks(weights, int(budget_params), keep_dense)
    if not 0.0 < budget_fraction <= 1.0:
        raise LowRankError(f"budget_fraction must be in (0, 1], not {budget_fraction}")
    budget = int(budget_fraction * sum(np.shape(w)[0] * np.shape(w)[1] for w in weights.values()))
    return replace(allocate_ranks(weights, budget, keep_dense), budget_fraction=budget_fraction)


def allocate_ranks(
    weights: Mapping[str, np.ndarray], budget_params: int, keep_dense: Collection[str] = ()
) -> RankPlan:
    """Ranks for `weights` (name -> W (m, n), in model order) whose weights total <= budget_params.

    The rule, greedy in the style of knapsack heuristics:
      1. Every layer starts at rank 1, or dense when rank 1 already breaks even (m or n is 1) or when it
         is in `keep_dense`. If that exceeds the budget, no model fits: LowRankError says how many
         weights the smallest one needs.
      2. The gain of rank i of a layer is s_i^2 / ||W||_F^2, the share of that layer's energy it adds;
         its cost is m + n weights. A layer may also go dense: gain 1 - (energy kept), cost m n - r (m + n).
         Going dense is the only step left once one more rank would break even.
      3. Repeatedly take, over all layers, the step with the most gain per weight that fits in what is
         left of the budget and gains anything; stop when none does. The budget is never exceeded,
         and weights that would keep no energy (beyond a matrix's true rank) are not spent.
    Assumptions, stated because they are shortcuts: the relative energy of a layer stands in for its
    effect on accuracy (all layers are treated as equally sensitive, and the error is measured on the
    weights, not on the data the layer sees); greedy is not optimal for a budget (a knapsack), but
    the gains of each layer shrink with i, where greedy is close. The costs count weights only: int8
    per-channel scales add r floats per factorized layer, not counted here.
    O(steps x layers) in Python: steps <= the sum of ranks, which is small for the models edgexf targets.
    """
    if not weights:
        raise LowRankError("the model has no linear layer with a constant 2-D weight to decompose")
    unknown = set(keep_dense) - set(weights)
    if unknown:
        raise LowRankError(f"layers to keep dense that are not linear layers: {sorted(unknown)}")
    shapes = {name: tuple(int(d) for d in w.shape) for name, w in weights.items()}
    total = sum(m * n for m, n in shapes.values())
    if budget_params >= total:  # everything fits dense: nothing to decompose
        return _plan(shapes, dict.fromkeys(shapes), {}, keep_dense, budget_params)

    rank: dict[str, int | None] = {}
    for name, (m, n) in shapes.items():
        rank[name] = 1 if name not in keep_dense and max_saving_rank(m, n) >= 1 else None
    smallest = sum(_cost(shapes[k], r) for k, r in rank.items())
    if smallest > budget_params:
        raise LowRankError(
            f"a budget of {budget_params} weights is below the smallest decomposed model: {smallest} "
            f"weights (rank 1 for every factorizable layer, {sum(r is None for r in rank.values())} "
            f"kept dense) of {total}; raise the budget to at least {smallest / total:.3f} of the linear "
            "weights, or keep fewer layers dense"
        )
    energy = {k: relative_energy(weights[k]) for k, r in rank.items() if r is not None}
    left = budget_params - smallest
    while True:
        best: tuple[float, str, int | None, int] | None = None  # (gain per weight, layer, new rank, cost)
        for name, r in rank.items():
            if r is None:
                continue
            m, n = shapes[name]
            cum = energy[name]
            steps = [(1.0 - cum[r], None, m * n - r * (m + n))]  # go dense
            if r + 1 <= max_saving_rank(m, n):
                steps.append((cum[r + 1] - cum[r], r + 1, m + n))
            for gain, new, cost in steps:
                if gain > 1e-12 and cost <= left and (best is None or gain / cost > best[0]):
                    best = (gain / cost, name, new, cost)
        if best is None:
            break
        _, name, new, cost = best
        rank[name], left = new, left - cost
    return _plan(shapes, rank, energy, keep_dense, budget_params)


def plan_ranks(weights: Mapping[str, np.ndarray], ranks: Mapping[str, int | None]) -> RankPlan:
    """A plan with the ranks given (None or absent: dense). Any rank 1..min(m, n) is accepted, even
    one that saves nothing: the caller chose it (full rank is how exactness is tested)."""
    unknown = set(ranks) - set(weights)
    if unknown:
        raise LowRankError(f"ranks given for layers that are not linear layers: {sorted(unknown)}")
    shapes = {name: tuple(int(d) for d in w.shape) for name, w in weights.items()}
    for name, r in ranks.items():
        if r is not None and not 1 <= r <= min(shapes[name]):
            raise LowRankError(f"rank {r} for {name} {list(shapes[name])}: it must be 1..{min(shapes[name])}")
    rank = {name: ranks.get(name) for name in shapes}
    energy = {k: relative_energy(weights[k]) for k, r in rank.items() if r is not None}
    return _plan(shapes, rank, energy, (), None)


def _cost(shape: tuple[int, int], rank: int | None) -> int:
    m, n = shape
    return m * n if rank is None else rank * (m + n)


def _plan(shapes, rank, energy, keep_dense, budget) -> RankPlan:
    layers = [
        LayerPlan(
            name=name,
            shape=(m, n),
            rank=rank[name],
            params_before=m * n,
            params_after=_cost((m, n), rank[name]),
            energy=1.0 if rank[name] is None else float(energy[name][rank[name]]),
            skipped=name in keep_dense,
        )
        for name, (m, n) in shapes.items()
    ]
    return RankPlan(layers, budget)

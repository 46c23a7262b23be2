"""The IR-level low-rank pass: linear ops split in two, exact at full rank through the reference and
the host-compiled C, the same allocation as the PyTorch form, and the agreement it reports."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, to_graph
from torch import nn

from edgexf.compress.agreement import agreement
from edgexf.compress.ranks import LowRankError
from edgexf.ir.reference import run_reference
from edgexf.passes.lowrank_linear import linear_ops, lowrank_linear


class MLP(nn.Module):
    """fc1 (with bias) -> GELU -> fc2 (no bias) -> head: three linear ops."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 40), nn.Linear(40, 24, bias=False)
        self.head = nn.Linear(24, 6)

    def forward(self, x):  # x (1, 5, 16)
        return self.head(nn.functional.gelu(self.fc2(nn.functional.gelu(self.fc1(x)))))


def mlp_graph(rank: int | None = None):
    """The MLP's graph; with `rank`, fc1 and fc2 get weights of exactly that rank."""
    torch.manual_seed(0)
    model = MLP().eval()
    if rank is not None:
        with torch.no_grad():
            for fc in (model.fc1, model.fc2):
                m, n = fc.weight.shape
                fc.weight.copy_(torch.randn(m, rank) @ torch.randn(rank, n) / n**0.5)
    return to_graph(model, torch.rand(1, 5, 16))


def relative(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_full_rank_exact_in_reference_and_host_c(tmp_path):
    g = mlp_graph()
    ops = linear_ops(g)
    full = {name: min(g.tensors[op.inputs[1]].shape) for name, op in ops.items()}
    d, plan = lowrank_linear(g, ranks=full)
    assert [op.type for op in d.ops].count("linear") == 6
    assert [op.inputs[2] for op in d.ops if op.type == "linear"][::2] == ["", "", ""]  # A has no bias
    assert not any(t.name in d.tensors for t in (g.tensors[op.inputs[1]] for op in ops.values()))
    x = np.random.default_rng(0).standard_normal((4, 1, 5, 16)).astype(np.float32)
    expected = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    got = run_reference(d, {d.inputs[0]: x})[d.outputs[0]]
    assert relative(got, expected) < 1e-5
    host = compile_graph(d, tmp_path)
    np.testing.assert_array_equal(host.run(x), got)  # C and reference agree bit for bit
    json.dumps(plan.to_dict())
    assert plan.params_after > plan.params_before  # full rank is exact, and costs more: tests only


def test_allocation_finds_the_true_rank():
    # fc1 and fc2 have rank 3: given room, the allocation stops there (more rank keeps no energy);
    # the head (6 x 24, break-even 4.8) goes dense, its best step. So the result is exact.
    g = mlp_graph(rank=3)
    d, plan = lowrank_linear(g, budget_fraction=0.6)
    assert list(plan.ranks().values()) == [3, 3, None]
    assert plan.params_after == 3 * (40 + 16) + 3 * (24 + 40) + 6 * 24 <= 0.6 * plan.params_before
    assert "fc1" in plan.layers[0].source  # the op names say little; report.json shows the module
    x = np.random.default_rng(1).standard_normal((4, 1, 5, 16)).astype(np.float32)
    a = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    b = run_reference(d, {d.inputs[0]: x})[d.outputs[0]]
    assert relative(b, a) < 1e-5


def test_agreement_reported_on_calibration_data():
    g = mlp_graph()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 1, 5, 16)).astype(np.float32)
    logits = run_reference(g, {g.inputs[0]: x})[g.outputs[0]].reshape(40, -1)
    y = logits.argmax(axis=1)  # labels the original model gets all right
    y[:10] = (y[:10] + 1) % 6  # ... but 10 of them

    same = agreement(g, g, x, y, progress=False)
    assert (same.top1_agreement, same.relative_l2, same.accuracy_original) == (1.0, 0.0, 0.75)

    d, _ = lowrank_linear(g, budget_fraction=0.3)
    cost = agreement(g, d, x.reshape(40, 5, 16), y, progress=False)  # batch axis of 1 left out
    changed = run_reference(d, {d.inputs[0]: x})[d.outputs[0]].reshape(40, -1).argmax(axis=1)
    assert cost.top1_agreement == np.mean(changed == logits.argmax(axis=1)) < 1.0
    assert cost.accuracy_changed == np.mean(changed == y)
    assert 0 < cost.relative_l2 < 1 and "agreement" in cost.describe()


def test_errors_name_the_problem():
    g = mlp_graph()
    with pytest.raises(LowRankError, match="below the smallest"):
        lowrank_linear(g, budget_params=10)
    with pytest.raises(LowRankError, match="not linear layers"):
        lowrank_linear(g, budget_fraction=0.5, skip=["nope"])
    with pytest.raises(LowRankError, match="rank 30"):
        lowrank_linear(g, ranks={next(iter(linear_ops(g))): 30})
    no_linear = to_graph(nn.GELU(), torch.rand(1, 4))
    with pytest.raises(LowRankError, match="no linear layer"):
        lowrank_linear(no_linear, budget_fraction=0.5)

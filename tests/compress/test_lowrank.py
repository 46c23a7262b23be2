"""Low-rank decomposition in PyTorch and the rank rule it shares with the IR pass: exact at full rank,
the break-even boundary, the budget kept, rank given where energy per weight is highest, a decomposed
ViT compiled to C by the host compiler, and fine-tuning's before/after report."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import compile_host, to_graph, torch_outputs
from torch import nn

from edgexf.compress.finetune import finetune, training_data
from edgexf.compress.lowrank import LowRankLinear, decompose, linear_layers
from edgexf.compress.ranks import LowRankError, allocate_ranks, breaks_even, max_saving_rank
from edgexf.datasets import save_npz
from edgexf.errors import DataError, EdgexfError
from edgexf.models.training import evaluate, train_classifier
from edgexf.models.vit import ViT, ViTConfig

SMALL_VIT = dict(image_size=8, patch_size=2, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0)


def relative(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def with_spectrum(m: int, n: int, s: np.ndarray, seed: int) -> np.ndarray:
    """An (m, n) matrix whose singular values are s (descending), with random singular vectors."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((m, len(s))))
    v, _ = np.linalg.qr(rng.standard_normal((n, len(s))))
    return (u * s) @ v.T


@pytest.mark.parametrize("bias", [True, False])
def test_full_rank_is_exact_and_truncation_is_optimal(bias):
    torch.manual_seed(0)
    dense = nn.Linear(24, 40, bias=bias)
    x = torch.randn(5, 7, 24)
    full = LowRankLinear.from_linear(dense, 24)
    assert (full.first.bias is None) and ((full.second.bias is not None) == bias)
    with torch.no_grad():
        assert relative(full(x), dense(x)) < 1e-5
        # Below full rank the factors are the best approximation: the error is the dropped singular values.
        low = LowRankLinear.from_linear(dense, 6)
        w = dense.weight.double()
        s = torch.linalg.svdvals(w)
        err = torch.linalg.norm(low.second.weight.double() @ low.first.weight.double() - w)
        assert err.item() == pytest.approx(torch.sqrt((s[6:] ** 2).sum()).item(), rel=1e-5)
        # sqrt(S) in both factors: their Frobenius norms are equal (each is sqrt(sum of s_i))
        assert torch.linalg.norm(low.first.weight) == pytest.approx(
            torch.linalg.norm(low.second.weight).item()
        )


@pytest.mark.parametrize("m, n, even", [(64, 64, 32), (192, 64, 48), (64, 128, None), (1, 10, None)])
def test_break_even_rule(m, n, even):
    # Factorizing costs r (m + n) weights: it saves only while r < m n / (m + n).
    saving = max_saving_rank(m, n)
    assert saving * (m + n) < m * n <= (saving + 1) * (m + n)
    assert not breaks_even(m, n, saving) if saving else breaks_even(m, n, 1)
    assert breaks_even(m, n, saving + 1)
    if even is not None:  # m n / (m + n) is a whole number: that rank saves exactly nothing
        assert even * (m + n) == m * n and breaks_even(m, n, even) and not breaks_even(m, n, even - 1)
    if (m, n) == (64, 128):  # 8192 / 192 = 42.67
        assert saving == 42


def random_layers(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [(48, 16), (16, 48), (32, 32), (10, 32), (1, 8)]
    return {f"l{i}": rng.standard_normal(s) * rng.uniform(0.5, 2) for i, s in enumerate(shapes)}


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8, 0.99])
def test_budget_respected_and_only_saving_ranks(fraction):
    layers = random_layers()
    total = sum(w.size for w in layers.values())
    budget = int(fraction * total)
    plan = allocate_ranks(layers, budget)
    assert plan.params_after <= budget
    for layer in plan.layers:
        m, n = layer.shape
        if layer.rank is not None:  # a factorized layer always saves bytes
            assert not breaks_even(m, n, layer.rank)
            assert layer.params_after == layer.rank * (m + n) < m * n
    assert plan.ranks()["l4"] is None  # one output: rank 1 cannot save anything
    json.dumps(plan.to_dict())


def test_budget_below_the_smallest_model_and_above_the_dense_one():
    layers = random_layers()
    smallest = sum((m + n) if max_saving_rank(m, n) else m * n for m, n in (w.shape for w in layers.values()))
    assert allocate_ranks(layers, smallest).params_after == smallest
    with pytest.raises(LowRankError, match=f"smallest decomposed model: {smallest} weights"):
        allocate_ranks(layers, smallest - 1)
    total = sum(w.size for w in layers.values())
    assert all(r is None for r in allocate_ranks(layers, total).ranks().values())


def test_rank_goes_where_energy_per_weight_is_highest():
    # Same shape (a rank costs 64 weights in both): "fast" keeps 1/2, 1/4, 1/8 ... of its energy per
    # rank, "flat" 1/32 per rank. Three ranks beyond the first each: all three go to "fast".
    fast = with_spectrum(32, 32, np.sqrt(0.5 ** np.arange(1, 33)), seed=1)
    flat = with_spectrum(32, 32, np.ones(32), seed=2)
    plan = allocate_ranks({"flat": flat, "fast": fast}, 2 * 64 + 3 * 64)
    assert plan.ranks() == {"flat": 1, "fast": 4}
    assert plan.layers[1].energy == pytest.approx(1 - 0.5**4, rel=1e-6)
    # Same relative spectrum, different cost: the (16, 16) layer's ranks are cheaper (32 vs 80 weights).
    small = with_spectrum(16, 16, np.ones(16), seed=3)
    wide = with_spectrum(64, 16, np.ones(16), seed=4)
    plan = allocate_ranks({"wide": wide, "small": small}, 80 + 32 + 2 * 32)
    assert plan.ranks() == {"wide": 1, "small": 3}
    # Going dense is a step too: small's remaining 15/16 for 224 weights beats any rank step once it
    # fits; a layer never takes a rank that saves nothing (7 is the last that saves, for 16 x 16).
    plan = allocate_ranks({"wide": wide, "small": small}, 80 + 256 + 80)
    assert plan.ranks() == {"wide": 2, "small": None}


def test_decompose_swaps_modules_and_reports():
    torch.manual_seed(0)
    model = ViT(ViTConfig(**SMALL_VIT)).eval()
    x = torch.rand(3, 1, 8, 8)
    full = {name: min(m.in_features, m.out_features) for name, m in linear_layers(model).items()}
    exact, plan = decompose(model, ranks=full)
    with torch.no_grad():
        assert relative(exact(x), model(x)) < 1e-5
    assert isinstance(model.head, nn.Linear)  # the original is untouched

    half, plan = decompose(model, budget_fraction=0.5)
    json.dumps(plan)
    assert plan["params_after"] <= 0.5 * plan["params_before"] and plan["budget_fraction"] == 0.5
    for layer in plan["layers"]:
        module = half.get_submodule(layer["name"])
        assert isinstance(module, LowRankLinear if layer["rank"] else nn.Linear)
        assert (
            sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight"))
            == (layer["params_after"])
        )
    kept, plan = decompose(model, budget_fraction=0.5, skip=lambda name, m: name == "head")
    assert isinstance(kept.head, nn.Linear) and plan["layers"][-1]["skipped"]

    with pytest.raises(LowRankError, match="no nn.Linear"):
        decompose(nn.Sequential(nn.ReLU()), budget_fraction=0.5)
    with pytest.raises(LowRankError, match="not nn.Linear layers"):
        decompose(model, budget_fraction=0.5, skip=["blocks.0.mlp"])
    with pytest.raises(LowRankError, match="exactly one"):
        decompose(model, budget_fraction=0.5, budget_params=100)
    with pytest.raises(EdgexfError, match="below the smallest"):
        decompose(model, budget_fraction=0.01)


def test_decomposed_vit_compiles_and_matches_torch(tmp_path):
    torch.manual_seed(0)
    model, plan = decompose(ViT(ViTConfig(**SMALL_VIT)).eval(), budget_fraction=0.4)
    x = np.random.default_rng(0).random((3, 1, 1, 8, 8), dtype=np.float32)
    g = to_graph(model, torch.from_numpy(x[0]))
    linears = sum(op.type == "linear" for op in g.ops)
    assert linears == len(plan["layers"]) + plan["factorized"]  # two linear ops per factorized layer
    host = compile_host(model, torch.from_numpy(x[0]), tmp_path)
    expected = torch_outputs(model, x)
    got = host.run(x)
    assert relative(got, expected) < 1e-4
    np.testing.assert_array_equal(got, host.reference(x))


@pytest.fixture(scope="module")
def digits_mlp():
    torch.manual_seed(0)
    split = training_data("digits")
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    train_classifier(
        model,
        split.x_train,
        split.y_train,
        epochs=8,
        lr=3e-3,
        batch_size=64,
        weight_decay=0.0,
        seed=0,
        progress=False,
    )
    return model, split


def test_finetune_reports_accuracy_before_and_after(digits_mlp):
    model, split = digits_mlp
    small, _ = decompose(model, budget_fraction=0.2)
    before = evaluate(small, split.x_test, split.y_test)
    result = finetune(
        small,
        split.x_train,
        split.y_train,
        held_out=(split.x_test, split.y_test),
        epochs=3,
        lr=2e-3,
        progress=False,
    )
    assert result.accuracy_before == before
    assert result.accuracy_after == evaluate(small, split.x_test, split.y_test)
    assert result.accuracy_after > result.accuracy_before
    assert (result.epochs, result.held_out_examples, result.train_examples) == (3, 360, 1437)
    json.dumps(result.to_dict())


def test_finetune_holds_out_part_of_a_data_file(digits_mlp, tmp_path):
    model, split = digits_mlp
    path = save_npz(tmp_path / "train.npz", split.x_train, split.y_train)
    data = training_data(path, test_fraction=0.25)
    assert len(data.x_test) == 360 and set(data.y_test) == set(range(10))  # stratified
    small = decompose(model, budget_fraction=0.5)[0]
    result = finetune(small, data.x_train, data.y_train, epochs=1, held_out_fraction=0.1, progress=False)
    assert result.held_out_examples == 108  # ceil(0.1 x 1077), not trained on
    assert result.train_examples == len(data.x_train) - 108
    save_npz(tmp_path / "unlabelled.npz", split.x_train)
    with pytest.raises(DataError, match="no labels"):
        training_data(tmp_path / "unlabelled.npz")

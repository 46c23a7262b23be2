"""Low-rank factors quantize to int8 at every rank: a thin factor's output rows whose weights are all
near zero next to a bias that is not get the weight scale their bias needs (qmath.bias_scale_floor),
where before the bias overflowed int32 and quantization aborted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, to_graph
from torch import nn

from edgexf.compress.calibrate import calibrate
from edgexf.compress.qmath import BIAS_LIMIT, bias_scale_floor, quantize, quantize_weight
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.reference import run_reference
from edgexf.passes.lowrank_linear import linear_ops, lowrank_linear


def _mlp() -> tuple[nn.Module, np.ndarray]:
    """MCUFormer's MLP widths (224 -> 896 -> 224) with biases of a trained model's size. fc2's weight
    is of rank 3 with two output rows (almost) zero: rows that a rank-1 to 3 factor B keeps near zero,
    as random factors of a large model have some (MCUFormer's blocks.2.mlp.fc2 at rank 1)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(224, 896), nn.GELU(), nn.Linear(896, 224))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            nn.init.trunc_normal_(layer.weight, std=0.02)
            layer.bias.normal_(0, 0.5)
        u, v = torch.randn(224, 3), torch.randn(3, 896) * 0.02
        u[5], u[6] = 0.0, 1e-7
        model[2].weight.copy_(u @ v)
    x = np.random.default_rng(1).standard_normal((64, 1, 224)).astype(np.float32)
    return model.eval(), x


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_thin_factors_quantize_and_run_bit_exact_on_the_host(tmp_path, rank):
    model, x = _mlp()
    g = to_graph(model, torch.from_numpy(x[0]))
    g, plan = lowrank_linear(g, ranks={name: rank for name in linear_ops(g)})
    assert [layer.rank for layer in plan.layers] == [rank, rank]
    q = quantize_graph(g, calibrate(g, x, progress=False)).graph  # rank 1 raised "bias does not fit"
    inp = q.tensors[q.inputs[0]]
    samples = quantize(x[:16], inp.quant, "int8")
    want = run_reference(q, {q.inputs[0]: samples})[q.outputs[0]]
    assert np.array_equal(compile_graph(q, tmp_path).run(samples), want)
    out = q.tensors[q.outputs[0]]
    got = (want.astype(np.float64) - out.quant.zero_point) * out.quant.scale
    ref = run_reference(g, {g.inputs[0]: x[:16]})[g.outputs[0]]
    assert np.corrcoef(got.reshape(-1), ref.reshape(-1))[0, 1] > 0.99  # the int8 graph follows the float


def test_the_floor_raises_only_rows_whose_bias_needs_it():
    w = np.array([[0.5, -0.25], [1e-7, 2e-7], [0.0, 0.0]])
    b = np.array([0.1, 3.0, 0.0])
    sx = 1e-3
    floor = bias_scale_floor(b, sx)
    codes, params = quantize_weight(w, axis=0, min_scale=floor)
    scales = np.asarray(params.scale)
    assert scales[0] == pytest.approx(0.5 / 127)  # its weights set the scale, as without a floor
    assert scales[1] == pytest.approx(3.0 / (sx * BIAS_LIMIT))  # raised: max|w| / 127 overflowed
    assert np.all(np.abs(np.round(b / (sx * scales))) <= BIAS_LIMIT)
    assert codes[1].tolist() == [0, 0] and codes[0].tolist() == [127, -64]

"""LayerNorm's gamma and beta folded into the linear layer that reads it (edgexf/compress/fold_layernorm.py):
the folded weights give the unfolded float result, the integer graph has the LayerNorm without gamma
(its output the normalized value in its own calibrated range, under a name of its own) and tracks the float
graph (cosine > 0.995), and a LayerNorm that no linear layer reads keeps gamma and beta.
Pure Python, about 3 s."""

from __future__ import annotations

import numpy as np
import torch
from model_helpers import to_graph
from torch import nn

from edgexf.compress.calibrate import calibrate
from edgexf.compress.fold_layernorm import folded_weights, normalized_name
from edgexf.compress.qmath import activation_params, dequantize, quantize
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.kernels_ref import layernorm_f32
from edgexf.ir.reference import run_reference


class NormLinear(nn.Module):
    """x (1, 5, 12) -> LayerNorm (gamma, beta far from 1, 0) -> linear (7), and a second LayerNorm that
    feeds GELU (no linear: not folded)."""

    def __init__(self):
        super().__init__()
        self.norm, self.fc, self.norm2 = nn.LayerNorm(12), nn.Linear(12, 7), nn.LayerNorm(12)
        with torch.no_grad():
            for norm in (self.norm, self.norm2):
                norm.weight.copy_(torch.linspace(-2.0, 3.0, 12))
                norm.bias.copy_(torch.linspace(1.0, -0.5, 12))

    def forward(self, x):
        return self.fc(self.norm(x)), nn.functional.gelu(self.norm2(x))


def _graph_and_data():
    torch.manual_seed(0)
    g = to_graph(NormLinear(), torch.randn(1, 5, 12))
    x = (np.random.default_rng(1).standard_normal((200, 1, 5, 12)) * 3 + 1).astype(np.float32)
    return g, x


def test_folded_weights_reproduce_the_unfolded_float_result():
    g, x = _graph_and_data()
    ln = next(
        op for op in g.ops if op.type == "layernorm" and g.consumers()[op.outputs[0]][0].type == "linear"
    )
    lin = g.consumers()[ln.outputs[0]][0]
    w2, b2 = folded_weights(g, ln, lin)
    z = layernorm_f32(x, eps=ln.attrs["eps"]).astype(np.float64)  # no gamma, no beta
    gamma, beta = (g.tensors[n].data.astype(np.float64) for n in ln.inputs[1:])
    w, b = g.tensors[lin.inputs[1]].data.astype(np.float64), g.tensors[lin.inputs[2]].data.astype(np.float64)
    np.testing.assert_allclose(z @ w2.T + b2, (z * gamma + beta) @ w.T + b, rtol=1e-12, atol=1e-12)


def test_the_integer_graph_folds_one_layernorm_and_keeps_the_other():
    g, x = _graph_and_data()
    ranges = calibrate(g, x, progress=False)
    q = quantize_graph(g, ranges).graph
    norms = [op for op in q.ops if op.type == "q_layernorm"]
    plain = [op for op in norms if "mult" in op.attrs]
    kept = [op for op in norms if "gshift" in op.attrs]
    assert len(plain) == len(kept) == 1
    assert plain[0].inputs[1:] == ["", ""] and all(kept[0].inputs[1:])
    y = next(op for op in g.ops if op.name == plain[0].name).outputs[0]  # the float LayerNorm's output
    z = plain[0].outputs[0]  # the normalized value under its own name, in its own calibrated range
    assert z == normalized_name(y) and z not in g.tensors
    assert q.tensors[z].quant == activation_params(ranges.lo[z], ranges.hi[z], "int8")
    assert ranges.hi[z] - ranges.lo[z] < 0.5 * (ranges.hi[y] - ranges.lo[y])  # gamma up to 3 widened y
    # each output against the float graph
    inp = q.tensors[q.inputs[0]]
    got = run_reference(q, {q.inputs[0]: quantize(x, inp.quant, inp.dtype)})
    want = run_reference(g, {g.inputs[0]: x})
    for out in q.outputs:
        a = dequantize(got[out], q.tensors[out].quant).reshape(-1).astype(np.float64)
        b = np.asarray(want[out], np.float64).reshape(-1)
        assert a @ b / np.sqrt((a @ a) * (b @ b)) > 0.995, out

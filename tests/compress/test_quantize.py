"""The quantization pass on small models that use every op it handles: the integer graph stays close
to the float one, and its host-compiled C gives the reference's integers exactly, including inputs
far outside the calibrated range (every clamp saturates)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, to_graph
from torch import nn

from edgexf.compress.calibrate import calibrate
from edgexf.compress.layer_errors import layer_errors
from edgexf.compress.qmath import dequantize, quantize
from edgexf.compress.quantize import quantize_graph
from edgexf.errors import DataError, QuantizationError
from edgexf.ir.reference import run_reference
from edgexf.models.vit import Attention


class MLP(nn.Module):
    def __init__(self, gelu: str):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(12, 24), nn.GELU(approximate=gelu), nn.Linear(24, 5)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x)).mean(dim=(-1,))


class Mixer(nn.Module):
    """LayerNorm, a residual add, sub, mul of two tensors, scalar and constant-tensor arithmetic, a
    class token concat, slicing, transposes and mean pooling."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(8)
        self.fc = nn.Linear(8, 8)
        self.token = nn.Parameter(torch.randn(1, 1, 8))
        self.register_buffer("div", torch.rand(8) + 0.5)
        self.register_buffer("two", torch.tensor(2.0))  # a constant as the first operand: 2 - g

    def forward(self, x):  # x (1, 6, 8)
        h = torch.cat([self.token, x], dim=1)  # (1, 7, 8)
        h = h + self.fc(self.norm(h))
        g = (h - 0.5) * self.fc(h)
        g = (self.two - g / self.div) / 3.0
        t = g.transpose(1, 2)[:, 2:6]  # (1, 4, 7)
        return t.mean(dim=-1) + h[:, 0, :4]


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention(16, 4)

    def forward(self, x):
        return self.attn(x)


MODELS = {
    "mlp_erf": (lambda: MLP("none"), (1, 3, 12)),
    "mlp_tanh": (lambda: MLP("tanh"), (1, 3, 12)),
    "conv": (ConvNet, (1, 2, 7, 6)),
    "mixer": (Mixer, (1, 6, 8)),
    "attention": (Attn, (1, 9, 16)),
}


def quantized(name: str, int16=(), method="minmax"):
    torch.manual_seed(0)
    make, shape = MODELS[name]
    g = to_graph(make(), torch.randn(shape))
    x = np.random.default_rng(1).standard_normal((200,) + shape).astype(np.float32)
    return g, quantize_graph(g, calibrate(g, x, method, progress=False), int16), x


def dequantized_output(g, q, x):
    inp, out = q.tensors[q.inputs[0]], q.tensors[q.outputs[0]]
    y = run_reference(q, {q.inputs[0]: quantize(x, inp.quant, inp.dtype)})[q.outputs[0]]
    return dequantize(y, out.quant), run_reference(g, {g.inputs[0]: x})[g.outputs[0]]


def cosine(a, b):
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return a @ b / np.sqrt((a @ a) * (b @ b))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_integer_graph_tracks_the_float_graph(name):
    g, qz, x = quantized(name)
    assert all(t.dtype in ("int8", "int32") for t in qz.graph.tensors.values())
    got, want = dequantized_output(g, qz.graph, x)
    assert cosine(got, want) > 0.99


@pytest.mark.parametrize("name", sorted(MODELS))
def test_host_c_equals_reference_bit_for_bit(tmp_path, name):
    _, qz, x = quantized(name, int16=("residual",) if name == "mixer" else ())
    q = qz.graph
    inp = q.tensors[q.inputs[0]]
    rng = np.random.default_rng(2)
    codes = rng.integers(-128, 128, (40,) + inp.shape).astype(np.int8)  # far outside calibration too
    codes[0], codes[1] = -128, 127  # every input saturated
    samples = np.concatenate([quantize(x[:40], inp.quant, "int8"), codes])
    model = compile_graph(q, tmp_path)
    want = run_reference(q, {q.inputs[0]: samples})[q.outputs[0]]
    assert np.array_equal(model.run(samples), want)


def test_residual_stream_in_int16_is_closer_to_float():
    g, q8, x = quantized("mixer")
    _, q16, _ = quantized("mixer", int16=("residual",))
    assert q16.int16 and not q16.int16_refused
    assert {q16.graph.tensors[n].dtype for n in q16.int16} == {"int16"}
    types = [op.type for op in q16.graph.ops]
    assert "q_requant" in types  # fc reads an int8 copy of the int16 residual
    err8 = np.abs(np.subtract(*dequantized_output(g, q8.graph, x))).mean()
    err16 = np.abs(np.subtract(*dequantized_output(g, q16.graph, x))).mean()
    assert err16 < err8


def test_int16_choices_that_cannot_be_kept_are_reported():
    _, qz, _ = quantized("mlp_erf", int16=("linear*",))
    assert qz.int16 == [] and set(qz.int16_refused) >= {"linear"}
    assert "int8 output only" in qz.int16_refused["linear"]
    with pytest.raises(QuantizationError, match="matches no activation"):
        quantized("mlp_erf", int16=("no_such_tensor",))


def test_percentile_calibration_narrows_ranges():
    g, _, x = quantized("mlp_erf")
    x = x.copy()
    x[0] *= 50  # one outlier sample
    wide = calibrate(g, x, "minmax", progress=False)
    narrow = calibrate(g, x, "percentile", 99.0, progress=False)
    assert all(narrow.hi[n] - narrow.lo[n] < wide.hi[n] - wide.lo[n] for n in wide.lo)
    with pytest.raises(DataError, match="percentile"):
        calibrate(g, x, "percentile", 20.0, progress=False)
    with pytest.raises(DataError, match="method"):
        calibrate(g, x, "kl", progress=False)


def test_unsupported_op_is_refused_by_name():
    class Exp(nn.Module):
        def forward(self, x):
            return x / (x * x + 1.0)

    g = to_graph(Exp(), torch.randn(1, 4))
    x = np.random.default_rng(0).standard_normal((10, 1, 4)).astype(np.float32)
    with pytest.raises(QuantizationError, match="division by a tensor"):
        quantize_graph(g, calibrate(g, x, progress=False))


def test_layer_errors_are_sorted_worst_first():
    g, qz, x = quantized("attention")
    rows = layer_errors(g, qz.graph, x[:50])
    assert [r["cosine"] for r in rows] == sorted(r["cosine"] for r in rows)
    assert {r["op"] for r in rows} >= {"q_linear", "q_matmul", "q_softmax", "q_lut"}
    assert all(0.9 < r["cosine"] <= 1.0 + 1e-9 and r["rmse"] >= 0 for r in rows)


@pytest.mark.qemu
def test_every_integer_kernel_in_qemu_matches_the_reference(tmp_path):
    """One model with q_mul, q_requant (fused into a q_gate), int16 q_add and q_layernorm, q_mean, a
    concat with a constant and attention (q_matmul, q_softmax, q_lut), built for stm32f746 and run in
    QEMU: exact integers."""
    from edgexf.pipeline import QuantOptions, compile_model
    from edgexf.run.build_dir import run_build

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.mixer, self.norm, self.attn = Mixer(), nn.LayerNorm(4), Attention(4, 2)

        def forward(self, x):  # (1, 6, 8) -> mixer (1, 4) -> tokens (1, 1, 4) -> attention
            m = self.norm(self.mixer(x)).unsqueeze(1)  # LayerNorm of the int16 residual
            return self.attn(torch.cat([m, 2.0 * m, m], dim=1))

    torch.manual_seed(0)
    path = tmp_path / "both.pt2"
    torch.export.save(torch.export.export(Both().eval(), (torch.randn(1, 6, 8),)), path)
    rng = np.random.default_rng(3)
    np.savez(tmp_path / "calib.npz", x=rng.standard_normal((100, 1, 6, 8)).astype(np.float32))
    np.savez(tmp_path / "test.npz", x=(rng.standard_normal((30, 1, 6, 8)) * 3).astype(np.float32))
    quant = QuantOptions(tmp_path / "calib.npz", int16=("residual",))
    report = compile_model(
        path, "stm32f746", tmp_path / "b", test_data=tmp_path / "test.npz", quant=quant, log=print
    )
    ops = {row["op"] for row in report["quantization"]["layers"]}
    assert {"q_mul", "q_add", "q_layernorm", "q_mean", "q_matmul", "q_softmax", "q_lut", "q_linear"} <= ops
    assert report["quantization"]["int16_tensors"]
    source = (tmp_path / "b" / "model" / "model.c").read_text()
    # (h - 0.5) * fc(h), h the int16 residual: the int8 copy of h, its table and the mul are one q_gate
    # (passes/fuse_gate.py), which requantizes inside
    assert "exf_gate_q(" in source and "exf_layernorm_s16(" in source
    run = run_build(tmp_path / "b", emulate=True, check=True)
    assert run.agreement.ok and run.agreement.bit_exact_with_reference == 30


def test_constants_are_named_after_the_weights_they_come_from():
    """W.q and b.q for a weight and bias, multipliers and shifts after the weight's module, tables and
    norms after the op's module (the C names are these: W_fc1_mult), never after IR op names
    (W_linear_4_bias was blocks.1.attn.qkv's bias)."""
    names = {
        model: {t.name for t in quantized(model)[1].graph.constants()} for model in ("mlp_erf", "attention")
    }
    assert names["mlp_erf"] == {
        *(f"fc{i}.{what}" for i in (1, 2) for what in ("weight.q", "bias.q", "mult", "shift")),
        "act.gelu.table",
    }
    attn = {
        f"attn.{layer}.{what}"
        for layer in ("qkv", "proj")
        for what in ("weight.q", "bias.q", "mult", "shift")
    }
    assert names["attention"] == attn | {"attn.mul.table", "attn.softmax.exp"}
    _, qz, _ = quantized("mixer")
    mixer = {t.name for t in qz.graph.constants()}
    assert {"fc.mult", "fc.mult_1"} <= mixer  # norm's gamma and beta are folded into fc's weights:
    assert not any(n.startswith("norm.") for n in mixer)  # compress/fold_layernorm.py

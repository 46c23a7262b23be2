"""recognize_patterns: LayerNorm, GELU (erf and tanh) and linear biases written out op by op become one op,
computing the same values; a chain whose intermediate is read elsewhere stays as it is."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph
from edgexf.ir.reference import run_reference
from edgexf.passes.recognize import recognize_patterns

D = 8


class B:
    """A GraphBuilder with one input x (1, 3, D) and short helpers."""

    def __init__(self):
        self.b = GraphBuilder("g")
        self.x = self.b.add_input("x", (1, 3, D))
        self.rng = np.random.default_rng(0)

    def __call__(self, type: str, *inputs: str, **attrs) -> str:
        return self.b.add1(type, list(inputs), attrs, name=type)

    def c(self, value) -> str:
        return self.b.add_const("c", np.asarray(value, np.float32))

    def build(self, *outputs: str) -> Graph:
        return self.b.build(list(outputs))


def types(g: Graph) -> list[str]:
    return [op.type for op in g.ops]


def same_values(before: Graph, after: Graph, rtol: float = 2e-6) -> None:
    x = np.random.default_rng(1).standard_normal((4, 1, 3, D)).astype(np.float32) * 3
    ya, yb = (run_reference(g, {"x": x})[g.outputs[0]] for g in (before, after))
    np.testing.assert_allclose(yb, ya, rtol=rtol, atol=rtol * float(np.abs(ya).max()))


def layernorm_chain(m: B, rsqrt: bool, reshaped_means: bool, affine: bool) -> str:
    def mean(t: str) -> str:
        if reshaped_means:  # torch_export's form: mean without keepdims, then a reshape
            return m("reshape", m("mean", t, axis=-1), shape=(1, 3, 1))
        return m("mean", t, axis=-1, keepdims=True)

    d = m("sub", m.x, mean(m.x))
    var = m("add", mean(m("mul", d, d)), m.c(1e-5))
    y = m("mul", d, m("rsqrt", var)) if rsqrt else m("div", d, m("sqrt", var))
    if affine:
        y = m("add", m("mul", y, m.c(m.rng.standard_normal(D))), m.c(m.rng.standard_normal(D)))
    return y


@pytest.mark.parametrize("rsqrt", [False, True])
@pytest.mark.parametrize("reshaped_means", [False, True])
@pytest.mark.parametrize("affine", [False, True])
def test_layernorm_chain_becomes_layernorm(rsqrt, reshaped_means, affine):
    m = B()
    g = m.build(layernorm_chain(m, rsqrt, reshaped_means, affine))
    r = recognize_patterns(g)
    assert types(r) == ["layernorm"]
    assert r.ops[0].attrs["eps"] == pytest.approx(1e-5)
    assert (r.ops[0].inputs[1] != "") == affine
    if affine:  # the model's own gamma and beta, by name (what int8 constants are named after)
        assert all(g.tensors[t].is_const for t in r.ops[0].inputs[1:])
    same_values(g, r)


def test_layernorm_chain_with_another_reader_stays():
    m = B()
    y = layernorm_chain(m, False, False, False)
    d = next(op.outputs[0] for op in m.b.ops if op.type == "sub")
    g = m.build(m("add", y, d))  # the centred x is read again
    assert types(recognize_patterns(g)) == types(g)


def gelu_erf(m: B, form: int) -> str:
    x = m.x
    if form == 0:  # torch.onnx.export: x / sqrt2 -> erf -> + 1 -> x * . -> * 0.5
        return m("mul", m("mul", x, m("add", m("erf", m("div", x, m.c(1.4142135))), m.c(1.0))), m.c(0.5))
    p = m("add", m.c(1.0), m("erf", m("mul", m.c(0.70710677), x)))
    if form == 1:  # (0.5 * x) * (1 + erf)
        return m("mul", m("mul", x, m.c(0.5)), p)
    return m("mul", m("mul", m.c(0.5), p), x)  # (0.5 * (1 + erf)) * x


@pytest.mark.parametrize("form", [0, 1, 2])
def test_gelu_erf_forms_become_gelu(form):
    m = B()
    g = m.build(gelu_erf(m, form))
    r = recognize_patterns(g)
    assert types(r) == ["gelu"] and r.ops[0].attrs["approximate"] == "none"
    same_values(g, r)


def test_gelu_tanh_form_becomes_gelu():
    m = B()
    x = m.x
    cube = m("mul", x, m("mul", x, x))
    inner = m("mul", m.c(math.sqrt(2 / math.pi)), m("add", x, m("mul", m.c(0.044715), cube)))
    g = m.build(m("mul", m.c(0.5), m("mul", x, m("add", m.c(1.0), m("tanh", inner)))))
    r = recognize_patterns(g)
    assert types(r) == ["gelu"] and r.ops[0].attrs["approximate"] == "tanh"
    same_values(g, r, rtol=1e-5)


def test_gelu_with_other_constant_stays():
    m = B()
    x = m.x
    y = m("mul", m("mul", x, m("add", m("erf", m("div", x, m.c(1.5))), m.c(1.0))), m.c(0.5))
    g = m.build(y)
    assert types(recognize_patterns(g)) == types(g)


def test_linear_bias_is_folded_in():
    m = B()
    w = m.c(m.rng.standard_normal((5, D)))
    y = m("add", m.c(m.rng.standard_normal(5)), m("linear", m.x, w, ""))
    g = m.build(y)
    r = recognize_patterns(g)
    assert types(r) == ["linear"] and r.ops[0].inputs[2]
    same_values(g, r)
    m2 = B()
    lin = m2("linear", m2.x, m2.c(m2.rng.standard_normal((D, D))), "")
    g2 = m2.build(m2("add", lin, m2.x))  # a residual, not a bias
    assert types(recognize_patterns(g2)) == ["linear", "add"]


def test_a_layernorm_written_by_hand_in_pytorch_is_recognized_on_compile():
    """The PyTorch route goes through the same stage (passes/optimize.py) as ONNX and TFLite: a LayerNorm
    and a tanh GELU written out in a module's forward (HuggingFace's NewGELU) become one layernorm and one
    gelu op."""
    import torch
    from model_helpers import torch_outputs

    from edgexf.frontends.torch_export import from_exported_program
    from edgexf.passes.optimize import optimize

    class HandWritten(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(D))
            self.b = torch.nn.Parameter(torch.randn(D))

        def forward(self, x):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) * (x - mu)).mean(-1, keepdim=True)  # x - mu three times, as people write it
            y = (x - mu) / torch.sqrt(var + 1e-5) * self.w + self.b
            return 0.5 * y * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * torch.pow(y, 3.0))))

    torch.manual_seed(0)
    module, x = HandWritten().eval(), torch.randn(1, 3, D)
    g = optimize(from_exported_program(torch.export.export(module, (x,)), "m"))
    assert types(g) == ["layernorm", "gelu"], types(g)
    xs = np.random.default_rng(1).standard_normal((4, 1, 3, D)).astype(np.float32)
    got = run_reference(g, {g.inputs[0]: xs})[g.outputs[0]]
    np.testing.assert_allclose(got, torch_outputs(module, xs), rtol=1e-5, atol=1e-5)

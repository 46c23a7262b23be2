"""The IR ops the ONNX and TFLite frontends added: erf, log, cumsum, where, gather, broadcast, and conv2d /
conv1d with groups, dilation and asymmetric padding. Each is compiled to C with host gcc and run: the C is
bit-exact with the NumPy reference, and the reference agrees with NumPy/PyTorch (float32 tolerance stated
per op; data movement exactly)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from model_helpers import compile_graph, same_bits

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.reference import run_reference
from edgexf.passes.select_kernels import select_kernels

rng = np.random.default_rng(8)


def one_op(type: str, shape: tuple[int, ...], attrs: dict, consts: dict | None = None, arity: int = 1):
    """A graph of one op whose input 0 is the graph input; consts: other inputs by position (absent
    optional inputs up to `arity` are "")."""
    b = GraphBuilder("t")
    x = b.add_input("x", shape)
    consts = consts or {}
    n = max(arity, 1 + max(consts, default=0))
    inputs = [x if i == 0 else (b.add_const(f"c{i}", consts[i]) if i in consts else "") for i in range(n)]
    if 0 in consts:  # the graph input goes elsewhere (where: the condition is constant)
        inputs = [b.add_const("c0", consts[0]), x] + [b.add_const(f"c{i}", consts[i]) for i in range(2, n)]
    return b.build([b.add1(type, inputs, attrs)])


def run_both(g, x: np.ndarray, tmp_path) -> np.ndarray:
    """The C's outputs, asserted bit-exact with the reference's."""
    c_out = compile_graph(g, tmp_path).run(x)
    ref = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    assert same_bits(c_out, ref.astype(np.float32))
    return c_out


def test_erf_log(tmp_path):
    x = np.concatenate([rng.standard_normal((3, 1, 40)) * 3, np.abs(rng.standard_normal((3, 1, 40)))], -1)
    x = x.astype(np.float32)
    for i, (op, fn, tol) in enumerate((("erf", torch.erf, 2e-7), ("log", torch.log, 2e-7))):
        arg = np.abs(x) + np.float32(1e-3) if op == "log" else x
        y = run_both(one_op(op, (1, 80), {}), arg, tmp_path / op)
        np.testing.assert_allclose(y, fn(torch.from_numpy(arg)).numpy(), rtol=tol * 4, atol=tol)


@pytest.mark.parametrize("axis,exclusive,reverse", [(-1, 0, 0), (-2, 1, 0), (-1, 0, 1), (-3, 1, 1)])
def test_cumsum(tmp_path, axis, exclusive, reverse):
    x = rng.standard_normal((4, 2, 5, 7)).astype(np.float32)
    g = one_op("cumsum", (2, 5, 7), {"axis": axis, "exclusive": exclusive, "reverse": reverse})
    y = run_both(g, x, tmp_path)
    t = torch.from_numpy(x).double()
    t = t.flip(axis) if reverse else t
    want = t.cumsum(axis) - (t if exclusive else 0)
    want = (want.flip(axis) if reverse else want).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_where_broadcasts_all_three(tmp_path):
    cond = (rng.random((5, 1)) > 0.5).astype(np.uint8)  # a mask, constant as models carry it
    other = rng.standard_normal((1, 6)).astype(np.float32)
    g = one_op("where", (2, 5, 6), {}, {0: cond, 2: other})
    x = rng.standard_normal((3, 2, 5, 6)).astype(np.float32)
    y = run_both(g, x, tmp_path)
    assert np.array_equal(y, np.where(cond.astype(bool), x, other))


@pytest.mark.parametrize(
    "shape,axis,indices,indices_shape",
    [
        ((1, 5, 8), -2, (0,), ()),  # the class token: x[:, 0]
        ((2, 6, 3), -2, (1, 2, 3, 5, 0, 0), (2, 3)),  # runs of consecutive indices, repeats
        ((4, 3), -1, (2, 0), (2,)),
    ],
)
def test_gather(tmp_path, shape, axis, indices, indices_shape):
    g = one_op("gather", shape, {"axis": axis, "indices": indices, "indices_shape": indices_shape})
    x = rng.standard_normal((2, *shape)).astype(np.float32)
    y = run_both(g, x, tmp_path)
    idx = np.array(indices).reshape(indices_shape)
    assert np.array_equal(y, np.take(x, idx, axis=axis))


def test_broadcast(tmp_path):
    g = one_op("broadcast", (3, 1, 4), {"shape": (2, 3, 5, 4)})
    x = rng.standard_normal((2, 3, 1, 4)).astype(np.float32)
    assert np.array_equal(run_both(g, x, tmp_path), np.broadcast_to(x[:, None], (2, 2, 3, 5, 4)))


def test_gather_and_broadcast_move_int8(tmp_path):
    """Data movement in an int8 graph: the quantization pass passes the scale through, the C moves bytes."""
    b = GraphBuilder("t")
    x = b.add_input("x", (1, 6, 4))
    y = b.add1("gather", [x], {"axis": -2, "indices": (0, 5, 2), "indices_shape": (3,)})
    y = b.add1("broadcast", [y], {"shape": (2, 3, 4)})
    y = b.add1("relu", [y])
    g = b.build([y])
    calib = rng.standard_normal((16, 1, 6, 4)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, calib, "minmax", 99.9)).graph
    assert [op.type for op in q.ops] == ["gather", "broadcast", "q_lut"]
    xq = rng.integers(-128, 128, (3, 1, 6, 4), dtype=np.int8)
    c_out = compile_graph(q, tmp_path).run(xq)
    assert np.array_equal(c_out, run_reference(q, {q.inputs[0]: xq})[q.outputs[0]])


CONV2D = [  # in channels, out channels, kernel, stride, padding, dilation, groups
    (4, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise
    (6, 12, (3, 2), (2, 1), (1, 0, 2, 1), (1, 1), 3),  # grouped, asymmetric (top, left, bottom, right)
    (2, 3, (3, 3), (1, 2), (2, 2), (2, 3), 1),  # dilated
]


@pytest.mark.parametrize("c,o,k,stride,padding,dilation,groups", CONV2D)
def test_conv2d_geometry(tmp_path, c, o, k, stride, padding, dilation, groups):
    w = rng.standard_normal((o, c // groups, *k)).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    attrs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    g = one_op("conv2d", (1, c, 9, 8), attrs, {1: w, 2: bias})
    x = rng.standard_normal((2, 1, c, 9, 8)).astype(np.float32)
    y = run_both(g, x, tmp_path)
    pt, pl, pb, pr = padding if len(padding) == 4 else (*padding, *padding)
    xp = F.pad(torch.from_numpy(x[:, 0]), (pl, pr, pt, pb))
    want = F.conv2d(xp, torch.from_numpy(w), torch.from_numpy(bias), stride, 0, dilation, groups)
    np.testing.assert_allclose(y[:, 0], want.numpy(), rtol=1e-5, atol=1e-5)
    assert g.ops[0].type == "conv2d" and math.prod(y.shape[2:]) == want[0].numel()


def test_conv1d_dilated_asymmetric(tmp_path):
    w = rng.standard_normal((6, 2, 3)).astype(np.float32)
    attrs = {"stride": 2, "padding": (3, 1), "groups": 3, "dilation": 2}
    g = one_op("conv1d", (1, 6, 11), attrs, {1: w}, arity=3)
    x = rng.standard_normal((2, 1, 6, 11)).astype(np.float32)
    y = run_both(g, x, tmp_path)
    xp = F.pad(torch.from_numpy(x[:, 0]), (3, 1))
    want = F.conv1d(xp, torch.from_numpy(w), None, 2, 0, 2, 3).numpy()
    np.testing.assert_allclose(y[:, 0], want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernels", ["portable", "dsp"])
def test_int8_depthwise_conv2d(tmp_path, kernels):
    """A depthwise, asymmetrically padded conv quantizes to q_conv2d with its geometry; C == reference,
    with the portable kernel and on the DSP path (exf_conv2d_s8_dsp's direct path, its planned scratch)."""
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    attrs = {"stride": (1, 1), "padding": (0, 1, 2, 1), "groups": 4, "dilation": (1, 1)}
    conv = _int8_conv(one_op("conv2d", (1, 4, 6, 6), attrs, {1: w}, 3), (4, 6, 6), tmp_path, kernels)
    assert conv.type == "q_conv2d" and conv.attrs["groups"] == 4
    assert tuple(conv.attrs["padding"]) == (0, 1, 2, 1)
    assert conv.attrs.get("kernel", "portable") == kernels


@pytest.mark.parametrize(
    "c,o,k,attrs",
    [
        (6, 6, 4, {"stride": 1, "padding": 3, "groups": 6}),  # Mamba: causal depthwise, + K-1 look-ahead
        (5, 5, 3, {"stride": 1, "padding": (2, 0), "groups": 5}),  # causal, left padding only
        (6, 4, 3, {"stride": 2, "padding": (3, 1), "groups": 2, "dilation": 2}),
    ],
)
def test_int8_conv1d(tmp_path, c, o, k, attrs):
    """conv1d quantizes to q_conv1d (exf_conv2d_s8 on a one-row image): C == reference, near float."""
    w = rng.standard_normal((o, c // attrs["groups"], k)).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    conv = _int8_conv(one_op("conv1d", (1, c, 9), attrs, {1: w, 2: bias}), (c, 9), tmp_path)
    assert conv.type == "q_conv1d" and conv.attrs["padding"] == attrs["padding"]


def _int8_conv(g, shape, tmp_path, kernels="portable"):
    """g quantized on random inputs (its kernels chosen as `kernels`): its C bit-exact with its reference,
    which computes the float conv of those inputs to within a few int8 steps. Returns the integer conv op."""
    calib = rng.standard_normal((16, 1, *shape)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, calib, "minmax", 99.9)).graph
    q = select_kernels(q, kernels)[0]
    inp, out = q.tensors[q.inputs[0]].quant, q.tensors[q.outputs[0]].quant
    xq = np.clip(np.round(calib[:3] / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
    ref = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]]
    assert np.array_equal(compile_graph(q, tmp_path).run(xq), ref)
    xf = (xq.astype(np.float32) - inp.zero_point) * inp.scale
    want = run_reference(g, {g.inputs[0]: xf})[g.outputs[0]]
    got = (ref.astype(np.float32) - out.zero_point) * out.scale
    assert np.abs(got - want).max() < 3 * out.scale + 3 * np.abs(want).max() / 127
    return next(op for op in q.ops if op.type.startswith("q_conv"))

"""TFLite's data movement and the less common options, each against TFLM on the same file: STRIDED_SLICE,
SLICE, PACK, UNPACK, CONCATENATION (int8 inputs with other parameters: requantized), TRANSPOSE, MEAN
over several axes, SUM, SOFTMAX with beta, FULLY_CONNECTED without keep_num_dims, fused RELU,
QUANTIZE (float input; int8 -> int8), DEQUANTIZE (float output). GELU, which TFLM has no kernel for,
against its formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from frontends import tflite_builders as B
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as tfl

from edgexf.compress.qmath import quantize
from edgexf.errors import UnsupportedOpError
from edgexf.frontends.tflite_import import TflmRunner, tflite_to_graph
from edgexf.ir.reference import run_reference

T, OPS, BO = tfl.TensorType, tfl.BuiltinOperator, tfl.BuiltinOptions


def _opts(cls, **fields):
    o = cls()
    for k, v in fields.items():
        setattr(o, k, v)
    return o


def _i32(values) -> B.me.Tensor:
    return B.const(np.asarray(values, np.int32), T.INT32, name="p")


def _check_float(data: bytes, n: int = 5, lo_hi=(-3, 3)) -> None:
    g = tflite_to_graph(data)
    shape = g.tensors[g.inputs[0]].shape
    x = np.random.default_rng(0).uniform(*lo_hi, (n,) + shape).astype(np.float32)
    mine = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    tflm = TflmRunner(data, shape)(x).reshape(mine.shape)
    assert np.abs(mine - tflm).max() <= 1e-5 * max(np.abs(tflm).max(), 1e-30)


def _check_int8(data: bytes, max_lsb: int = 1, n: int = 20, lo_hi=(-3, 3)) -> None:
    _, q = B.edgexf_int8(data)
    inp = q.tensors[q.inputs[0]]
    xq = quantize(np.random.default_rng(0).uniform(*lo_hi, (n,) + inp.shape), inp.quant, "int8")
    mine = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]]
    tflm = TflmRunner(data, inp.shape).run_int(xq).reshape(mine.shape)
    assert np.abs(mine.astype(np.int64) - tflm).max() <= max_lsb


def test_strided_slice_with_masks_and_shrink():
    x, y = B.act((1, 6, 8), T.FLOAT32, name="x"), B.act((1, 3), T.FLOAT32, name="y")
    opts = _opts(tfl.StridedSliceOptionsT, beginMask=0b001, endMask=0b100, shrinkAxisMask=0b010)
    data = B.model(OPS.STRIDED_SLICE, [x, _i32([0, 2, 5]), _i32([1, 3, 0]), _i32([1, 1, 1])], [y], opts,
                   BO.StridedSliceOptions)  # fmt: skip
    _check_float(data)


def test_slice_pack_unpack_transpose():
    x, y = B.act((1, 6, 8), T.FLOAT32, name="x"), B.act((1, 4, 5), T.FLOAT32, name="y")
    _check_float(B.model(OPS.SLICE, [x, _i32([0, 1, 2]), _i32([-1, 4, 5])], [y]))
    a, p = B.act((2, 3), T.FLOAT32, name="a"), B.act((2, 2, 3), T.FLOAT32, name="packed")
    pack = B._op(OPS.PACK, [a, a], [p], _opts(tfl.PackOptionsT, valuesCount=2, axis=1), BO.PackOptions)
    u0, u1 = B.act((2, 3), T.FLOAT32, name="u0"), B.act((2, 3), T.FLOAT32, name="u1")
    t = B.act((3, 2), T.FLOAT32, name="t")
    unpack = B._op(OPS.UNPACK, [p], [u0, u1], _opts(tfl.UnpackOptionsT, num=2, axis=1), BO.UnpackOptions)
    perm = _i32([1, 0])
    transpose = B._op(OPS.TRANSPOSE, [u1, perm], [t], None, 0)
    _check_float(B._model([a, p, u0, u1, perm, t], [pack, unpack, transpose], [a], [t]))


def test_mean_over_two_axes_and_sum():
    x, y = B.act((1, 4, 6, 3), T.FLOAT32, name="x"), B.act((1, 3), T.FLOAT32, name="y")
    _check_float(B.model(OPS.MEAN, [x, _i32([1, 2])], [y], tfl.ReducerOptionsT(), BO.ReducerOptions))
    y2 = B.act((1, 1, 6, 3), T.FLOAT32, name="y")
    opts = _opts(tfl.ReducerOptionsT, keepDims=True)
    _check_float(B.model(OPS.SUM, [x, _i32([1])], [y2], opts, BO.ReducerOptions))


def test_softmax_with_beta_float_and_int8():
    _check_float(B.softmax(False, beta=0.5))
    _check_int8(B.softmax(True, beta=0.5))


def test_fully_connected_without_keep_num_dims_and_fused_relu():
    rng = np.random.default_rng(0)
    x, y = B.act((2, 3, 8), T.FLOAT32, name="x"), B.act((6, 4), T.FLOAT32, name="y")
    w = B.const(rng.standard_normal((4, 8)).astype(np.float32), T.FLOAT32, name="w")
    opts = _opts(tfl.FullyConnectedOptionsT, fusedActivationFunction=1)
    _check_float(B.model(OPS.FULLY_CONNECTED, [x, w, None], [y], opts, BO.FullyConnectedOptions))
    _check_int8(B.fully_connected(True, relu=True))


def test_concatenation_requantizes_inputs_with_other_parameters():
    """TFLM's int8 CONCATENATION wants one scale for all; edgexf requantizes the others (x * 1.0)."""
    sa, za = B.asym(-2.0, 2.0)
    sy, zy = B.asym(-3.0, 3.0)
    a = B.act((1, 3, 4), T.INT8, B.q8(sa, za), "a")
    t = B.act((1, 3, 4), T.INT8, B.q8(1 / 128, 0), "tanh")
    y = B.act((1, 6, 4), T.INT8, B.q8(sy, zy), "y")
    tanh = B._op(OPS.TANH, [a], [t], None, 0)
    opts = _opts(tfl.ConcatenationOptionsT, axis=1)
    data = B._model(
        [a, t, y], [tanh, B._op(OPS.CONCATENATION, [a, t], [y], opts, BO.ConcatenationOptions)], [a], [y]
    )
    _, q = B.edgexf_int8(data)
    assert sum(op.type == "q_lut" for op in q.ops) == 3  # tanh and two requantizations
    xq = np.arange(-128, 128, dtype=np.int8)[:240].reshape(20, 1, 3, 4)
    mine = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]].astype(np.int64)
    real_a = (xq.astype(np.float64) - za) * sa
    real_t = np.round(np.tanh(real_a) * 128) / 128  # tanh's own int8 output
    want = np.clip(np.round(np.concatenate([real_a, real_t], axis=-2) / sy) + zy, -128, 127)
    assert np.abs(mine - want).max() <= 1


def test_float_input_quantize_and_dequantize_output():
    """QUANTIZE at the input and DEQUANTIZE at the output (TFLite's converter with float I/O): the
    compiled model takes the int8 input with the QUANTIZE output's parameters."""
    x = B.act((1, 16), T.FLOAT32, name="x")
    xq = B.act((1, 16), T.INT8, B.q8(*B.asym(-4.0, 4.0)), "xq")
    yq = B.act((1, 16), T.INT8, B.q8(1 / 256, -128), "yq")
    y = B.act((1, 16), T.FLOAT32, name="y")
    ops = [B._op(OPS.QUANTIZE, [x], [xq], None, 0), B._op(OPS.LOGISTIC, [xq], [yq], None, 0)]
    ops.append(B._op(OPS.DEQUANTIZE, [yq], [y], None, 0))
    data = B._model([x, xq, yq, y], ops, [x], [y])
    imp, q = B.edgexf_int8(data)
    assert q.tensors[q.inputs[0]].quant.zero_point == B.asym(-4.0, 4.0)[1]
    xs = np.random.default_rng(0).uniform(-4, 4, (10, 1, 16)).astype(np.float32)
    mine = run_reference(q, {q.inputs[0]: quantize(xs, q.tensors[q.inputs[0]].quant, "int8")})[q.outputs[0]]
    real = (mine.astype(np.float32) + 128) / 256
    tflm = TflmRunner(data, (1, 16))(xs).reshape(real.shape)
    assert np.abs(real - tflm).max() <= 1 / 256 + 1e-7


def test_int8_requantize_op():
    x = B.act((1, 16), T.INT8, B.q8(*B.asym(-4.0, 4.0)), "x")
    y = B.act((1, 16), T.INT8, B.q8(*B.asym(-2.0, 6.0)), "y")
    _check_int8(B.model(OPS.QUANTIZE, [x], [y]), lo_hi=(-4, 4))


def test_gelu_matches_its_formula():
    for approximate in (False, True):
        opts = _opts(tfl.GeluOptionsT, approximate=approximate)
        data = B.unary("GELU", False, options=opts, kind=BO.GeluOptions)
        g = tflite_to_graph(data)
        x = np.linspace(-4, 4, 64, dtype=np.float32).reshape(1, 1, 4, 16)
        mine = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
        if approximate:
            want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        else:
            want = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
        np.testing.assert_allclose(mine, want, atol=2e-6)


def test_fused_relu6_is_refused_by_name():
    x, y = B.act((1, 4), T.FLOAT32, name="x"), B.act((1, 4), T.FLOAT32, name="y")
    opts = _opts(tfl.AddOptionsT, fusedActivationFunction=3)
    data = B.model(OPS.ADD, [x, x], [y], opts, BO.AddOptions, graph_inputs=[x])
    with pytest.raises(UnsupportedOpError, match="RELU6"):
        tflite_to_graph(data)


def test_gather_broadcast_to_and_log():
    x, y = B.act((1, 6, 8), T.FLOAT32, name="x"), B.act((1, 3, 8), T.FLOAT32, name="y")
    opts = _opts(tfl.GatherOptionsT, axis=1)
    _check_float(B.model(OPS.GATHER, [x, _i32([5, 0, 2])], [y], opts, BO.GatherOptions))
    x2, y2 = B.act((1, 8), T.FLOAT32, name="x"), B.act((3, 8), T.FLOAT32, name="y")
    _check_float(B.model(OPS.BROADCAST_TO, [x2, _i32([3, 8])], [y2]))
    _check_float(B.unary("LOG", False), lo_hi=(0.1, 4))

"""The selection ops (edgexf/ir/ops_select.py): max over an axis, maximum, pad, isnan. Each is compiled to C
with host gcc and run: the C is bit-exact with the NumPy reference (NaN included), and the reference is
NumPy's own (np.max, np.maximum, np.pad, np.isnan: exact, as they only pick values). In an int8 graph
max, maximum and pad keep their input's scale and zero point and compare or place codes."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import compile_graph

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.reference import run_reference

rng = np.random.default_rng(21)


def with_nans(shape, share: float = 0.1) -> np.ndarray:
    x = rng.standard_normal(shape).astype(np.float32)
    x[rng.random(shape) < share] = np.nan
    return x


def run_both(g, x: np.ndarray, tmp_path) -> np.ndarray:
    """The C's outputs, asserted bit-exact with the reference's."""
    c_out = compile_graph(g, tmp_path).run(x)
    ref = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    assert c_out.dtype == ref.dtype and c_out.shape == ref.shape and c_out.tobytes() == ref.tobytes()
    return c_out


@pytest.mark.parametrize(
    "shape,axis,keepdims", [((2, 5, 3), -2, False), ((4, 7), -1, True), ((6, 2), -2, True)]
)
def test_max_over_an_axis(tmp_path, shape, axis, keepdims):
    b = GraphBuilder("t")
    y = b.add1("max", [b.add_input("x", shape)], {"axis": axis, "keepdims": keepdims})
    g = b.build([y])
    x = rng.standard_normal((3, *shape)).astype(np.float32)
    assert np.array_equal(run_both(g, x, tmp_path / "plain"), np.max(x, axis=axis, keepdims=keepdims))
    x = with_nans((3, *shape), 0.2)  # a NaN anywhere in a reduced row makes it NaN, as np.max
    want = np.max(x, axis=axis, keepdims=keepdims)
    assert np.array_equal(run_both(g, x, tmp_path / "nan"), want, equal_nan=True)


def test_maximum_broadcasts_and_passes_nan_on(tmp_path):
    b = GraphBuilder("t")
    other = b.add_const("other", rng.standard_normal((1, 5)).astype(np.float32))  # weights.c has no NaN
    g = b.build([b.add1("maximum", [b.add_input("x", (4, 1)), other])])
    x = with_nans((3, 4, 1), 0.3)
    want = np.maximum(x, g.tensors[other].data)
    assert np.array_equal(run_both(g, x, tmp_path), want, equal_nan=True)


@pytest.mark.parametrize(
    "shape,pads",
    [
        ((2, 3, 4), (0, 1, 2, 1, 0, 3)),  # every axis, begins and ends
        ((1, 5, 4, 2), (0, 0, 0, 0, 0, 3, 0, 0)),  # mambapy's pad of the sequence to a power of 2
        ((7,), (2, 0)),
    ],
)
def test_pad(tmp_path, shape, pads):
    b = GraphBuilder("t")
    value = b.add_const("value", np.float32(-1.5))
    g = b.build([b.add1("pad", [b.add_input("x", shape), value], {"pads": pads})])
    x = rng.standard_normal((2, *shape)).astype(np.float32)
    rank = len(shape)
    want = np.pad(x, [(0, 0), *zip(pads[:rank], pads[rank:])], constant_values=-1.5)
    assert np.array_equal(run_both(g, x, tmp_path), want)


def test_isnan(tmp_path):
    b = GraphBuilder("t")
    g = b.build([b.add1("isnan", [b.add_input("x", (3, 5))])])
    x = with_nans((2, 3, 5), 0.4)
    x[0, 0, :2] = [np.inf, -np.inf]  # infinities are not NaN
    y = run_both(g, x, tmp_path)
    assert y.dtype == np.uint8 and np.array_equal(y, np.isnan(x))


def test_int8_keeps_the_scale_and_compares_codes(tmp_path):
    """x -> pad(0) -> maximum(., relu(x') ) -> max over tokens: no requantization anywhere; the C moves and
    compares int8 codes exactly as the reference, and that is the float max of the dequantized values."""
    b = GraphBuilder("t")
    x = b.add_input("x", (1, 6, 4))
    p = b.add1("pad", [x, b.add_const("zero", np.float32(0))], {"pads": (0, 1, 0, 0, 1, 0)})  # (1, 8, 4)
    r = b.add1("relu", [b.add1("linear", [p, b.add_const("w", rng.standard_normal((4, 4), np.float32)), ""])])
    m = b.add1("maximum", [p, r])
    g = b.build([b.add1("max", [m], {"axis": -2, "keepdims": False})])
    calib = rng.standard_normal((32, 1, 6, 4)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, calib, "minmax", 99.9)).graph
    assert [op.type for op in q.ops] == ["pad", "q_linear", "q_lut", "maximum", "max"]
    zp = q.tensors[q.inputs[0]].quant.zero_point
    pad_value = q.tensors[q.ops[0].inputs[1]].data
    assert (
        q.tensors[q.ops[0].inputs[1]].dtype == "int8" and int(pad_value.reshape(-1)[0]) == zp
    )  # 0.0 is the zero point
    groups = {q.tensors[n].quant for n in (q.inputs[0], p, m, q.outputs[0])}
    assert len(groups) == 1  # one scale and zero point through pad, maximum and max
    xq = rng.integers(-128, 128, (5, 1, 6, 4), dtype=np.int8)
    y = run_both(q, xq, tmp_path)
    env = run_reference(q, {q.inputs[0]: xq}, keep_all=True)
    assert np.array_equal(y, np.max(np.maximum(env[p], env[r]), axis=-2))

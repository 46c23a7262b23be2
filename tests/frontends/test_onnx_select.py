"""ReduceMax, Max, Pad and IsNaN from ONNX (edgexf/frontends/onnx_ops_select.py, onnx_ops_nn.py): each model
compiles with host gcc, the C is bit-exact with the IR reference and within 1e-5 of onnxruntime (the
helpers of test_onnx.py). The Softmax -> IsNaN -> Where guard folds away where the softmax input is
finite for finite inputs, and stays real ops where it is not; refusals name the op and the node."""

from __future__ import annotations

import numpy as np
import pytest
from frontends.test_onnx import check, i64, make_model, one_op, w
from onnx import helper

from edgexf.errors import UnsupportedOpError
from edgexf.frontends.onnx_import import onnx_to_graph

RNG = np.random.default_rng(21)


def op_types(g) -> list[str]:
    return [op.type for op in g.ops]


CASES = {
    "reduce_max_axis_keepdims": lambda: one_op("ReduceMax", [2, 5, 3], axes=[1], keepdims=1),
    "reduce_max_two_axes": lambda: one_op("ReduceMax", [2, 3, 4], axes=[-2, -1], keepdims=0),
    "reduce_max_axes_input_opset18": lambda: one_op("ReduceMax", [1, 4, 6], {"axes": i64(1)}, opset=18),
    "max_relu_body": lambda: one_op("Max", [3, 4], {"zero": np.float32(0)}),  # Relu's function body
    "max_three_broadcast": lambda: one_op("Max", [2, 1, 4], {"a": w(3, 1), "b": w(1, 4)}),
    "pad_constant_value": lambda: one_op(
        "Pad", [1, 3, 4], {"pads": i64(0, 1, 2, 0, 0, 1), "v": np.float32(-2)}
    ),
    "pad_mambapy_sequence": lambda: one_op("Pad", [1, 5, 4, 2], {"pads": i64(0, 0, 0, 0, 0, 3, 0, 0)}),
    "pad_negative_crops": lambda: one_op("Pad", [1, 6, 5], {"pads": i64(0, -2, 1, 0, 1, -1)}),
    "pad_axes_opset18": lambda: one_op(
        "Pad", [2, 3, 4], {"pads": i64(1, 2), "": None, "axes": i64(-1)}, opset=18
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_host_matches_reference_and_onnxruntime(case, tmp_path):
    g = check(CASES[case](), tmp_path)
    assert {"max", "maximum", "pad"} & set(op_types(g))


def test_isnan_of_an_input_is_a_real_op(tmp_path):
    """where(isnan(x), 0, x): NaN in the input (a missing sensor value) becomes 0, as in onnxruntime."""
    nodes = [helper.make_node("IsNaN", ["x"], ["m"]), helper.make_node("Where", ["m", "zero", "x"], ["y"])]
    model = make_model(nodes, {"x": [2, 5]}, {"zero": np.float32(0)})
    x = RNG.standard_normal((3, 2, 5)).astype(np.float32)
    x[x > 1] = np.nan
    g = check(model, tmp_path, x)
    assert op_types(g) == ["isnan", "where"]


def _guarded_softmax(pre: str | None):
    """Softmax -> IsNaN -> Where(isnan, 0, p), as the dynamo exporter writes attention; `pre` is an op
    on x before the softmax."""
    nodes = [helper.make_node(pre, ["x"], ["s"])] if pre else []
    nodes += [
        helper.make_node("Softmax", ["s" if pre else "x"], ["p"], axis=-1),
        helper.make_node("IsNaN", ["p"], ["nan"]),
        helper.make_node("Where", ["nan", "zero", "p"], ["y"]),
    ]
    return make_model(nodes, {"x": [2, 3, 6]}, {"zero": np.float32(0)})


def test_softmax_guard_folds_for_finite_inputs(tmp_path):
    g = check(_guarded_softmax("Tanh"), tmp_path)
    assert op_types(g) == ["tanh", "softmax"]


def test_softmax_guard_stays_where_the_softmax_can_see_nan(tmp_path):
    """log(x) is NaN below 0: a whole row of NaN scores, which the guard turns into zeros."""
    x = np.abs(RNG.standard_normal((3, 2, 3, 6))).astype(np.float32)
    x[0, 1, 2, 4] = -1.0
    g = check(_guarded_softmax("Log"), tmp_path, x)
    assert op_types(g) == ["log", "softmax", "isnan", "where"]


def test_refusals_name_the_op_and_the_node():
    reflect = one_op("Pad", [1, 3, 4], {"pads": i64(0, 1, 0, 0, 1, 0)}, mode="reflect")
    reflect.graph.node[0].name = "pad_0"
    with pytest.raises(UnsupportedOpError, match=r"ONNX node 'pad_0' \(Pad\) with mode='reflect'"):
        onnx_to_graph(reflect)
    computed = make_model(
        [
            helper.make_node("Relu", ["x"], ["p"]),
            helper.make_node("Pad", ["x", "pads", "v"], ["y"], name="pd"),
        ],
        {"x": [2, 3], "v": []},
        {"pads": i64(0, 1, 0, 1)},
    )
    with pytest.raises(UnsupportedOpError, match=r"'pd' \(Pad\) with a computed.*constant_value"):
        onnx_to_graph(computed)
    gap = one_op("ReduceMax", [2, 3, 4], axes=[0, 2])
    gap.graph.node[0].name = "rm"
    with pytest.raises(UnsupportedOpError, match=r"'rm' \(ReduceMax\) with axes \[0, 2\]"):
        onnx_to_graph(gap)


@pytest.mark.parametrize(
    "starts,ends,axes,steps",
    [
        ((7,), (32,), (1,), (8,)),  # mambapy's scan: every 8th step from the 8th
        ((-1, 0), (-(2**63), 5), (2, 1), (-1, 2)),  # a reversal to the start, and a step of 2
    ],
)
def test_slice_with_a_step_is_a_gather(tmp_path, starts, ends, axes, steps):
    inits = {"s": i64(*starts), "e": i64(*ends), "a": i64(*axes), "st": i64(*steps)}
    g = check(one_op("Slice", [1, 32, 5], inits), tmp_path)
    assert set(op_types(g)) == {"gather"}

"""ScatterND and ScatterElements with constant indices (edgexf/frontends/onnx_ops_scatter.py): each becomes
a gather of a concatenation; the C is bit-exact with the IR reference and within 1e-5 of onnxruntime
(exact, in fact: the elements only move). Updates that replace whole slices along one axis (what the
exporters write) gather along that axis; any other map gathers the flattened tensors. In an int8 graph
data, updates and output share one scale: the codes move unchanged. Refusals name the op and the node."""

from __future__ import annotations

import numpy as np
import pytest
from frontends.test_onnx import check, i64, make_model, w
from model_helpers import compile_graph
from onnx import helper

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.errors import UnsupportedOpError
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.ir.reference import run_reference


def scatter(op: str, shape, indices, updates, opset: int = 13, computed: bool = True, **attrs):
    """op(x, indices, updates): updates are tanh(x) cut to their shape (computed) or a constant."""
    nodes = [helper.make_node(op, ["x", "idx", "u"], ["y"], **attrs)]
    inits = {"idx": np.asarray(indices, np.int64)}
    if computed:
        ushape = np.shape(updates)
        ends = i64(*ushape)
        nodes[:0] = [
            helper.make_node("Tanh", ["x"], ["t"]),
            helper.make_node("Slice", ["t", "zeros", "ends"], ["u"]),
        ]
        inits |= {"zeros": i64(*[0] * len(ushape)), "ends": ends}
    else:
        inits["u"] = np.asarray(updates, np.float32)
    return make_model(nodes, {"x": list(shape)}, inits, opset=opset)


def op_types(g) -> list[str]:
    return [op.type for op in g.ops]


SELECT = np.ones((1, 4, 3, 1, 3))
CASES = {
    # mambapy's pscan by the dynamo exporter: Xa[:, :, :, -1] = ..., a select_scatter on axis 3
    "elements_select_scatter": lambda: scatter(
        "ScatterElements", [1, 4, 3, 2, 3], SELECT, w(1, 4, 3, 1, 3), axis=3
    ),
    "elements_negative_axis_and_index": lambda: scatter(
        "ScatterElements", [2, 5], np.full((2, 1), -2), w(2, 1), axis=-1, opset=16, reduction="none"
    ),
    # a different row per column: no axis works, the flattened tensors are gathered
    "elements_any_map": lambda: scatter(
        "ScatterElements", [3, 4], [[2, 0, 1, 2], [0, 2, 0, 1]], w(2, 4), computed=False
    ),
    # mambapy's pscan: rows 7, 15, 23, 31 of a (32, ...) tensor (made from a Transpose)
    "nd_rows": lambda: scatter("ScatterND", [8, 3, 2], [[7], [3], [-3]], w(3, 3, 2)),
    "nd_elements": lambda: scatter("ScatterND", [3, 4], [[0, 1], [2, 3], [1, 1]], w(3), computed=False),
    "nd_slices_opset18": lambda: scatter("ScatterND", [2, 3, 4], [[[1, 2]], [[0, 0]]], w(2, 1, 4), opset=18),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scatter_on_host_matches_reference_and_onnxruntime(case, tmp_path):
    g = check(CASES[case](), tmp_path)
    assert "gather" in op_types(g) and "concat" in op_types(g)


def test_select_scatter_gathers_along_its_axis():
    """Whole slices: one gather of a 3-slice table along axis 3, not an element map."""
    model = scatter("ScatterElements", [1, 4, 3, 2, 3], SELECT, w(1, 4, 3, 1, 3), axis=3)
    g = onnx_to_graph(model)
    (gather,) = [op for op in g.ops if op.type == "gather"]
    assert gather.attrs["axis"] == -2 and gather.attrs["indices"] == (0, 2)


def test_nothing_replaced_is_the_data():
    nodes = [
        helper.make_node("ScatterND", ["x", "idx", "u"], ["s"]),
        helper.make_node("Relu", ["s"], ["y"]),
    ]
    inits = {"idx": np.zeros((0, 1), np.int64), "u": np.zeros((0, 3), np.float32)}
    assert op_types(onnx_to_graph(make_model(nodes, {"x": [4, 3]}, inits))) == ["relu"]


def test_int8_moves_codes(tmp_path):
    """x -> scatter(rows of tanh(x)): data, updates and output share one scale and zero point; the C
    equals the reference's integers, which are the scatter of the input codes."""
    g = onnx_to_graph(scatter("ScatterND", [8, 3], [[6], [1]], w(2, 3)))
    calib = np.random.default_rng(1).standard_normal((32, 8, 3)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, calib, "minmax", 99.9)).graph
    out = q.outputs[0]
    groups = {q.tensors[n].quant for n in (q.inputs[0], out)}
    assert len(groups) == 1
    xq = np.random.default_rng(2).integers(-128, 128, (4, 8, 3), dtype=np.int8)
    y = compile_graph(q, tmp_path).run(xq)
    env = run_reference(q, {q.inputs[0]: xq}, keep_all=True)
    assert y.tobytes() == env[out].tobytes()
    tanh = next(op.outputs[0] for op in q.ops if op.type == "q_lut")
    want = xq.copy()
    want[:, [6, 1]] = env[tanh][:, :2]
    assert np.array_equal(y, want)


@pytest.mark.parametrize(
    "model,message",
    [
        (
            lambda: scatter("ScatterND", [4, 3], [[1]], w(1, 3), opset=16, reduction="add"),
            r"'sc' \(ScatterND\) with reduction='add'",
        ),
        (
            lambda: scatter("ScatterElements", [4, 3], [[1, 1, 1], [1, 0, 0]], w(2, 3)),
            r"'sc' \(ScatterElements\) with two updates for one position",
        ),
        (
            lambda: scatter("ScatterND", [4, 3], [[4]], w(1, 3)),
            r"'sc' \(ScatterND\) with indices \[4\] out of range",
        ),
    ],
)
def test_refusals_name_the_op_and_the_node(model, message):
    m = model()
    m.graph.node[-1].name = "sc"
    with pytest.raises(UnsupportedOpError, match=message):
        onnx_to_graph(m)


def test_computed_indices_are_refused():
    """Only float32 is computed in edgexf, so computed indices can only be a model input (here a float one,
    which the refusal meets before any type check)."""
    nodes = [helper.make_node("ScatterElements", ["x", "x", "x"], ["y"], name="sc")]
    with pytest.raises(UnsupportedOpError, match=r"'sc' \(ScatterElements\) with a computed indices"):
        onnx_to_graph(make_model(nodes, {"x": [2, 3]}))

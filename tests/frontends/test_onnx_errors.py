"""What a user sees for an ONNX model edgexf cannot take: the problem named, and what to do."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends import load_model
from edgexf.frontends.onnx_import import onnx_to_graph, parse_input_shapes


def model(nodes, inputs=None, inits=None, opset=13, outputs=("y",), dtype=TensorProto.FLOAT):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, dtype, s) for n, s in (inputs or {"x": [1, 4]}).items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["?"]) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def relu_file(tmp_path, opset=13):
    path = tmp_path / "m.onnx"
    onnx.save(model([helper.make_node("Relu", ["x"], ["y"])], opset=opset), path)
    return path


def test_not_onnx_truncated_and_missing_files(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\xff\xfe not a protobuf \x00\x01")
    with pytest.raises(ModelLoadError, match=r"junk.onnx: not a readable ONNX model"):
        load_model(tmp_path / "junk.onnx")
    good = relu_file(tmp_path).read_bytes()
    (tmp_path / "cut.onnx").write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelLoadError, match=r"cut.onnx"):
        load_model(tmp_path / "cut.onnx")
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "none.onnx")


def test_checker_failure_is_reported():
    bad = model([helper.make_node("Relu", ["nowhere"], ["y"])])
    with pytest.raises(ModelLoadError, match="onnx.checker rejects the model"):
        onnx_to_graph(bad)


def test_old_opset_says_how_to_reexport(tmp_path):
    with pytest.raises(ModelLoadError, match=r"opset 11.*opset_version>=13"):
        load_model(relu_file(tmp_path, opset=11))


def test_unknown_op_names_it_the_node_and_the_supported_ops():
    node = helper.make_node("TopK", ["x", "k"], ["y", "i"], name="pick")
    with pytest.raises(UnsupportedOpError) as e:
        onnx_to_graph(model([node], inits={"k": np.array([2], np.int64)}))
    msg = str(e.value)
    assert "TopK" in msg and "'pick'" in msg and "supported ONNX ops:" in msg and "LayerNormalization" in msg
    custom = helper.make_node("Fancy", ["x"], ["y"], domain="com.example")
    m = model([custom])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(UnsupportedOpError, match="com.example.Fancy"):
        onnx_to_graph(m)


@pytest.mark.parametrize(
    "node, inits, match",
    [
        (helper.make_node("Pow", ["x", "e"], ["y"]), {"e": np.float32(4)}, "exponent 4.0"),
        (helper.make_node("Gemm", ["x", "x"], ["y"], transB=1), {}, None),  # fine: a computed B
        (
            helper.make_node("Conv", ["x4", "w"], ["y"], auto_pad="FOO"),
            {"w": np.ones((1, 1, 1, 1), np.float32)},
            "auto_pad='FOO'",
        ),
        (helper.make_node("Gelu", ["x"], ["y"], approximate="fast"), {}, "approximate='fast'"),
        (helper.make_node("Reshape", ["x", "x"], ["y"]), {}, "computed shape"),
        (helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32), {}, "to=6"),
    ],
)
def test_unsupported_uses_are_refused_by_name(node, inits, match):
    opset = 20 if node.op_type == "Gelu" else 13
    x4 = [helper.make_node("Reshape", ["x", "s4"], ["x4"])] if "x4" in node.input else []
    inits = inits | ({"s4": np.array([1, 1, 2, 2], np.int64)} if x4 else {})
    m = model(
        [*x4, node],
        inputs={"x": [4, 4] if node.op_type == "Gemm" else [1, 4]},
        inits=inits,
        opset=opset,
    )
    if match is None:
        assert [op.type for op in onnx_to_graph(m).ops] == ["transpose", "matmul"]
        return
    with pytest.raises(UnsupportedOpError, match=match):
        onnx_to_graph(m)


def test_layernorm_statistics_in_another_precision_are_refused():
    """(Its Mean and InvStdDev outputs are computed: the conformance cases check them.)"""
    node = helper.make_node("LayerNormalization", ["x", "s"], ["y", "mean"], stash_type=0)
    m = model([node], inits={"s": np.ones(4, np.float32)}, opset=17, outputs=("y", "mean"))
    with pytest.raises(UnsupportedOpError, match="stash_type=0"):
        onnx_to_graph(m)


def test_non_float_input_and_passthrough_output():
    with pytest.raises(ModelLoadError, match=r"'x' is TensorProto.INT64; only float32"):
        onnx_to_graph(model([helper.make_node("Identity", ["x"], ["y"])], dtype=TensorProto.INT64))
    with pytest.raises(UnsupportedOpError, match="is an input or a constant"):
        onnx_to_graph(model([helper.make_node("Identity", ["x"], ["y"])]))


def test_input_shapes_are_checked():
    m = model([helper.make_node("Relu", ["x"], ["y"])], inputs={"x": ["n", 4]})
    with pytest.raises(ModelLoadError, match=r"dimensions \['n', 4\].*--input-shape x=1,4"):
        onnx_to_graph(m)
    with pytest.raises(ModelLoadError, match=r"declares \['n', 4\]"):
        onnx_to_graph(m, input_shapes={"x": (1, 5)})
    with pytest.raises(ModelLoadError, match=r"inputs are \['x'\]"):
        onnx_to_graph(m, input_shapes={"z": (1, 4)})
    assert onnx_to_graph(m, input_shapes=parse_input_shapes(["x=3,4"])).tensors["x"].shape == (3, 4)
    assert parse_input_shapes(["2,4"]) == {"": (2, 4)}
    with pytest.raises(ModelLoadError, match="positive integers"):
        parse_input_shapes(["x=1,a"])


def test_load_model_compares_with_onnxruntime(tmp_path):
    path = tmp_path / "lin.onnx"
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    onnx.save(model([helper.make_node("MatMul", ["x", "w"], ["y"])], inits={"w": w}), path)
    loaded = load_model(path)
    assert [op.type for op in loaded.graph.ops] == ["linear"] and loaded.example_input.shape == (1, 4)
    x = np.ones((2, 1, 4), np.float32)
    np.testing.assert_allclose(loaded.original(x), x @ w, rtol=1e-6)

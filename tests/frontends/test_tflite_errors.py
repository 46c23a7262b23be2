"""A .tflite edgexf cannot take is refused with a message that names the problem and what to do:
never a traceback from inside the flatbuffer reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from frontends import tflite_builders as B
from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as tfl

from edgexf.cli import main
from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends.tflite_import import tflite_to_graph
from edgexf.ir.reference import run_reference

T = tfl.TensorType


def _fc_float() -> bytes:
    return B.fully_connected(False)


def test_not_a_flatbuffer():
    with pytest.raises(ModelLoadError, match="not a TFLite model.*TFL3"):
        tflite_to_graph(b"this is a text file, not a model at all")
    with pytest.raises(ModelLoadError, match="too short"):
        tflite_to_graph(b"TFL")


def test_wrong_file_identifier():
    data = bytearray(_fc_float())
    data[4:8] = b"ONNX"
    with pytest.raises(ModelLoadError, match="file identifier.*b'ONNX'.*expected b'TFL3'"):
        tflite_to_graph(bytes(data))


def test_truncated_file():
    data = _fc_float()
    with pytest.raises(ModelLoadError, match="damaged or truncated|damaged|malformed"):
        tflite_to_graph(data[: len(data) // 2])


def test_unknown_builtin_op_is_named_with_what_is_supported():
    x, y = B.act((1, 8, 8, 2), T.FLOAT32, name="x"), B.act((1, 4, 4, 2), T.FLOAT32, name="pooled")
    opts = tfl.Pool2DOptionsT()
    opts.strideH = opts.strideW = opts.filterHeight = opts.filterWidth = 2
    data = B.model(tfl.BuiltinOperator.AVERAGE_POOL_2D, [x], [y], opts, tfl.BuiltinOptions.Pool2DOptions)
    with pytest.raises(UnsupportedOpError) as e:
        tflite_to_graph(data)
    msg = str(e.value)
    assert "operator 0 (AVERAGE_POOL_2D, output pooled) is not supported" in msg
    assert "FULLY_CONNECTED" in msg and "DEPTHWISE_CONV_2D" in msg  # what is supported


def test_custom_op():
    x, y = B.act((1, 4), T.FLOAT32, name="x"), B.act((1, 4), T.FLOAT32, name="y")
    m = me.Model()
    sg = me.Subgraph(tensors=[x, y], inputs=[x], outputs=[y])
    sg.operators.append(
        me.Operator(opcode=tfl.BuiltinOperator.CUSTOM, custom_code="MyFancyOp", inputs=[x], outputs=[y])
    )
    m.subgraphs.append(sg)
    with pytest.raises(UnsupportedOpError, match="custom op 'MyFancyOp'.*no custom ops"):
        tflite_to_graph(bytes(m.build()))


def test_int16_activations():
    q16 = B.q8(1 / 4096)
    x, y = B.act((1, 16), T.INT16, q16, "x"), B.act((1, 16), T.INT16, q16, "y")
    data = B.model(tfl.BuiltinOperator.TANH, [x], [y])
    with pytest.raises(UnsupportedOpError, match="int16 activations.*static_wi8_ai8"):
        tflite_to_graph(data)


def test_hybrid_model_is_refused_with_what_to_do():
    rng = np.random.default_rng(0)
    wq, sw = B.per_channel(rng.standard_normal((4, 8)).astype(np.float32), 0)
    w = B.const(wq, T.INT8, me.Quantization(scales=list(map(float, sw)), zero_points=[0] * 4, axis=0), "w")
    x, y = B.act((1, 8), T.FLOAT32, name="x"), B.act((1, 4), T.FLOAT32, name="y")
    data = B.model(tfl.BuiltinOperator.FULLY_CONNECTED, [x, w, None], [y], tfl.FullyConnectedOptionsT(),
                   tfl.BuiltinOptions.FullyConnectedOptions)  # fmt: skip
    with pytest.raises(UnsupportedOpError, match="hybrid.*static_wi8_ai8"):
        tflite_to_graph(data)


def test_float16_weights_are_widened():
    """float16 weights behind DEQUANTIZE (TFLite's float16 quantization) load as float32 constants."""
    rng = np.random.default_rng(0)
    w16 = (rng.standard_normal((4, 8)) * 0.5).astype(np.float16)
    w = B.const(w16, T.FLOAT16, name="w16")
    wf = B.act((4, 8), T.FLOAT32, name="w")
    x, y = B.act((1, 8), T.FLOAT32, name="x"), B.act((1, 4), T.FLOAT32, name="y")
    deq = B._op(tfl.BuiltinOperator.DEQUANTIZE, [w], [wf], None, 0)
    fc = B._op(tfl.BuiltinOperator.FULLY_CONNECTED, [x, wf, None], [y], tfl.FullyConnectedOptionsT(),
               tfl.BuiltinOptions.FullyConnectedOptions)  # fmt: skip
    g = tflite_to_graph(B._model([x, w, wf, y], [deq, fc], [x], [y]))
    xs = rng.standard_normal((3, 1, 8)).astype(np.float32)
    out = run_reference(g, {g.inputs[0]: xs})[g.outputs[0]]
    np.testing.assert_allclose(out, xs @ w16.astype(np.float32).T, rtol=1e-5, atol=1e-6)


def test_multiple_subgraphs():
    m = me.read(_fc_float())
    extra = me.Subgraph(tensors=[B.act((1,), T.FLOAT32, name="z")])
    m.subgraphs.append(extra)
    with pytest.raises(UnsupportedOpError, match="2 subgraphs.*single-subgraph"):
        tflite_to_graph(bytes(m.build()))


def test_dynamic_shape():
    m = me.read(_fc_float())
    x = m.subgraphs[0].inputs[0]
    x._fb.shapeSignature = [-1, 6, 24]
    with pytest.raises(UnsupportedOpError, match="dynamic shape.*-1.*fixed input shape"):
        tflite_to_graph(bytes(m.build()))


def test_cli_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    assert main(["compile", str(bad), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 2
    assert "not a TFLite model" in capsys.readouterr().err
    x, y = B.act((1, 8, 8, 2), T.FLOAT32, name="x"), B.act((1, 4, 4, 2), T.FLOAT32, name="y")
    pool = tmp_path / "pool.tflite"
    pool.write_bytes(B.model(tfl.BuiltinOperator.MAX_POOL_2D, [x], [y], tfl.Pool2DOptionsT(),
                             tfl.BuiltinOptions.Pool2DOptions))  # fmt: skip
    assert main(["compile", str(pool), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 3
    assert "MAX_POOL_2D" in capsys.readouterr().err


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        tflite_to_graph(Path(tmp_path) / "none.tflite")

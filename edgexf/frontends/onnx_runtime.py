"""The original ONNX model, run to compare with: onnxruntime (CPU) when it is installed and can take the
model, else onnx's own reference evaluator (slow, but it runs whatever the spec defines)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from edgexf.errors import ModelLoadError, first_line
from edgexf.ir.graph import Graph


def run_original(model: onnx.ModelProto, graph: Graph) -> Callable[[np.ndarray], np.ndarray]:
    """The ONNX model on a batch of inputs (B, *input shape) -> its first output (B, ...): onnxruntime
    (CPU) when it is installed, else onnx's reference evaluator. Sample by sample, at the graph's shapes."""
    shape = graph.tensors[graph.inputs[0]].shape
    inits = {i.name for i in model.graph.initializer}
    name = next(vi.name for vi in model.graph.input if vi.name not in inits)
    out = model.graph.output[0].name
    session = lazy_session(model)

    def run(x: np.ndarray) -> np.ndarray:
        xs = np.ascontiguousarray(x, np.float32).reshape((-1,) + shape)
        return np.stack([session([out], {name: s})[0] for s in xs])

    return run


def lazy_session(model: onnx.ModelProto) -> Callable[[list[str], dict], list[np.ndarray]]:
    """(output names, feeds) -> those outputs, by a session made on the first call; a failure to run
    is a ModelLoadError."""
    made = []

    def run(outs: list[str], feeds: dict) -> list[np.ndarray]:
        if not made:
            made.append(_session(model))
        try:
            return made[0](outs, feeds)
        except Exception as e:
            raise ModelLoadError(f"running the ONNX model to compare with failed: {first_line(e)}") from None

    return run


def _session(model: onnx.ModelProto) -> Callable[[list[str], dict], list[np.ndarray]]:
    """(output names, feeds) -> those outputs' values."""
    try:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return lambda outs, feeds: sess.run(outs, feeds)
    except Exception:  # not installed, or it cannot take this model: onnx's own (slow) evaluator
        from onnx.reference import ReferenceEvaluator

        try:
            ref = ReferenceEvaluator(model)
        except Exception as e:
            raise ModelLoadError(f"neither onnxruntime nor onnx.reference can run the model: {first_line(e)}")
        return lambda outs, feeds: ref.run(outs, feeds)

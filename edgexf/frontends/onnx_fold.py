"""ONNX-level constant folding: a node whose inputs are all constants is evaluated at import.

Shape arithmetic (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), Constant nodes and any op on
weights (a Transpose of an initializer) disappear, whatever their dtype (int64 shapes, bool masks):
only float32 data flowing from the graph inputs reaches the IR. Evaluation is onnx's reference
evaluator on the single node (slow for big tensors, but it runs once per node at import).
"""

from __future__ import annotations

import numpy as np
import onnx

from edgexf.errors import ModelLoadError

# ops with no fixed value: folding them would freeze one random draw
NONDETERMINISTIC = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
}
MAX_FOLDED_ELEMENTS = 1 << 26  # 256 MB of float32: a larger constant is a broken model, not a weight


def is_foldable(node: onnx.NodeProto, inputs: list) -> bool:
    """All (present) inputs constant, the op deterministic, and no subgraph (If, Loop, Scan: their bodies
    may read non-constant values of the enclosing graph)."""
    if node.op_type in NONDETERMINISTIC or any(a.type in (a.GRAPH, a.GRAPHS) for a in node.attribute):
        return False
    return all(v is None or isinstance(v, np.ndarray) for v in inputs)


def fold_node(node: onnx.NodeProto, inputs: list[np.ndarray | None], opset: int) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    _check_size(node, inputs)
    feeds = {name: v for name, v in zip(node.input, inputs) if name}
    evaluator = ReferenceEvaluator(node, opsets={"": opset})
    results = evaluator.run(None, feeds)
    out = []
    for r in results:
        if isinstance(r, list | tuple) or r is None:
            raise ModelLoadError(f"ONNX node {node.name!r} ({node.op_type}) gives a sequence, not a tensor")
        out.append(np.asarray(r))
    return out


def _check_size(node: onnx.NodeProto, inputs: list[np.ndarray | None]) -> None:
    """Refuse ops that would build an absurdly large constant before they allocate it."""
    t, a = node.op_type, inputs
    n = 0
    if t == "ConstantOfShape" and a and a[0] is not None:
        n = _prod(a[0])
    elif t == "Expand" and len(a) > 1 and a[0] is not None and a[1] is not None:
        n = max(_prod(a[1]), a[0].size) * max(1, a[0].size)
    elif t == "Tile" and len(a) > 1 and a[0] is not None and a[1] is not None:
        n = a[0].size * _prod(a[1])
    elif t == "Range" and len(a) == 3 and all(v is not None for v in a):
        start, limit, delta = (float(np.asarray(v).reshape(-1)[0]) for v in a)
        n = abs((limit - start) / delta) if delta else 0
    if n > MAX_FOLDED_ELEMENTS:
        raise ModelLoadError(
            f"ONNX node {node.name!r} ({t}) would make a constant of {n:.3g} elements; the model is broken"
        )


def _prod(shape: np.ndarray) -> float:
    return float(np.prod(np.abs(shape.astype(np.float64).reshape(-1)))) if shape.size else 1.0

"""The float graph passes every frontend's model goes through before quantization and planning.

    optimize(graph): fold constants -> drop dead ops -> cancel reshape and transpose pairs (layout_forms.py)
    -> compute each value once (common_subexpressions.py) -> recognize layers written op by op
    (LayerNorm, GELU, linear + bias: recognize.py, recognize_tflite.py)
    -> take sliced rows before a row-wise op (slice_before_rows.py)
    -> put attention into the one form fusion reads (attention_forms.py)

PyTorch, ONNX and TFLite models all take this path (edgexf/pipeline.py, and `edgexf fit`'s candidates),
so a LayerNorm written out by hand in PyTorch is recognized as one exported by ONNX at opset 13 is.
A pre-quantized (int8 .tflite) graph passes through unchanged where a rule needs float32.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph
from edgexf.passes.attention_forms import canonical_attention
from edgexf.passes.common_subexpressions import merge_common_subexpressions
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.layout_forms import simplify_layout
from edgexf.passes.recognize import recognize_patterns
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.passes.slice_before_rows import slice_before_rows


def optimize(graph: Graph, recognize: bool = True) -> Graph:
    """recognize=False (`edgexf compile --no-fusion`): fold and prune only, every op as the model file
    writes it (an int8 .tflite then rounds where tflite-micro rounds, op by op)."""
    # dead ops first and between: an unused branch would count as another reader of a pattern's tensors
    g = remove_dead_ops(fold_constants(graph))
    if not recognize:
        return g
    g = merge_common_subexpressions(simplify_layout(g))  # hand-written code repeats expressions
    g = simplify_layout(remove_dead_ops(recognize_patterns(g)))
    g = slice_before_rows(g)  # after recognition (a LayerNorm is one op): a ViT's final norm on 1 row
    return remove_dead_ops(canonical_attention(g))

"""Mark the int8 ops that have a fast DSP kernel to run it (edgexf/ir/kernel_choice.py)."""

from __future__ import annotations

from edgexf.ir.graph import Graph, Op
from edgexf.ir.kernel_choice import DSP_OPS

# The DSP kernels widen whole groups of 4 input columns; a linear narrower than that (a low-rank
# factor of rank 1-3) has no group, so the portable kernel is as fast and needs no scratch.
_MIN_DSP_WIDTH = 4


def select_kernels(graph: Graph, kernels: str) -> tuple[Graph, int]:
    """kernels: 'dsp' or 'portable' (resolved). Returns (graph, number of ops set to dsp)."""
    count = 0
    for op in graph.ops:
        if kernels == "dsp" and op.type in DSP_OPS and _wide_enough(graph, op):
            op.attrs["kernel"] = "dsp"
            count += 1
        else:
            op.attrs.pop("kernel", None)
    return graph, count


def _wide_enough(graph: Graph, op: Op) -> bool:
    if op.type != "q_linear":  # the fused ops' scratch also holds their row buffers
        return True
    return graph.tensors[op.inputs[1]].shape[-1] >= _MIN_DSP_WIDTH

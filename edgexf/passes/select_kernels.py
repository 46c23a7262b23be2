"""Mark the int8 ops that have a fast DSP kernel to run it (edgexf/ir/kernel_choice.py)."""

from __future__ import annotations

from edgexf.ir.graph import Graph
from edgexf.ir.kernel_choice import DSP_OPS


def select_kernels(graph: Graph, kernels: str) -> tuple[Graph, int]:
    """kernels: 'dsp' or 'portable' (resolved). Returns (graph, number of ops set to dsp)."""
    count = 0
    for op in graph.ops:
        if kernels == "dsp" and op.type in DSP_OPS:
            op.attrs["kernel"] = "dsp"
            count += 1
        else:
            op.attrs.pop("kernel", None)
    return graph, count

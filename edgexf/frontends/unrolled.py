"""Whole-sequence exports of recurrent models: recognized, so that compile can say they run unrolled.

An ONNX file (or a torch.export of forward) has no notion of a time step. A recurrent model's forward
over a sequence of T steps comes out as one graph over the whole sequence: its loop over time unrolled
(edgexf's Mamba: T copies of the scan's update, each reading one step's slice) or in a parallel form
(mambapy's pscan; Mamba's causal conv1d over all T steps at once). edgexf compiles such a graph as it
is: one pass over the whole sequence, every step's activations in the arena (the bundled MNIST-row
Mamba: 190,848 B against 8,896 B from its step(); README, "Recurrent models through ONNX"), and no state
to carry from one call to the next. Finding the loop body and the carried state in an arbitrary graph,
to turn it back into a step function, is not attempted: the step() export streams instead
(frontends/onnx_streaming.py).

The signs looked for, on the graph's first input (1, T, ...) with T >= MIN_STEPS:
  - at least T ops that take one position of an axis of length T (slice or gather): an unrolled loop;
  - a conv1d over an axis of length T padded by at least kernel - 1 on the left: a causal convolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.ir.graph import Graph
from edgexf.ir.ops_math import conv1d_pads

MIN_STEPS = 8  # a ViT's 3 colour channels sliced one by one are no time axis


@dataclass(frozen=True)
class Unrolled:
    steps: int
    evidence: str  # what in the graph shows it

    def message(self) -> str:
        return (
            f"the model computes all {self.steps} steps of its input sequence in one graph "
            f"({self.evidence}): it runs unrolled, one pass over the whole sequence with every step's "
            "activations in the arena, not one step at a time with a persistent state. A whole-sequence "
            "graph has no step function "
            "to stream from: to stream, export the model's step(x_t, *state) -> (y_t, *next_state) to ONNX "
            "with its state as inputs and outputs, or compile FILE.py:FUNCTION returning a module with "
            "step() and init_state() (README: recurrent models)"
        )

    def to_dict(self) -> dict:
        return {"steps": self.steps, "evidence": self.evidence, "message": self.message()}


def unrolled_report(g: Graph) -> dict | None:
    """report.json's "unrolled": None unless `g` is a recurrent model's whole sequence in one graph."""
    found = unrolled_sequence(g)
    return found.to_dict() if found else None


def unrolled_sequence(g: Graph) -> Unrolled | None:
    """What shows `g` to be a recurrent model over a whole sequence, or None (see the module doc)."""
    if g.is_streaming or not g.inputs:
        return None
    shape = g.tensors[g.inputs[0]].shape
    if len(shape) < 3 or shape[0] != 1 or shape[1] < MIN_STEPS:
        return None
    steps = shape[1]
    picks = [op for op in g.ops if _picks_one_step(g, op, steps)]
    if len(picks) >= steps:
        return Unrolled(steps, f"{len(picks)} ops each take one time step: a loop over time, unrolled")
    for op in g.ops:
        if op.type == "conv1d" and g.tensors[op.inputs[0]].shape[-1] == steps:
            kernel = g.tensors[op.inputs[1]].shape[-1]
            if conv1d_pads(op)[0] >= kernel - 1 > 0:
                return Unrolled(steps, f"a causal conv1d over the {steps} steps ({op.name})")
    return None


def _picks_one_step(g: Graph, op, steps: int) -> bool:
    """A slice or gather of one position along an axis of length `steps`."""
    if op.type not in ("slice", "gather") or not op.inputs:
        return False
    src = g.tensors[op.inputs[0]].shape
    axis = op.attrs.get("axis")
    if axis is None or not -len(src) <= axis < len(src) or src[axis] != steps:
        return False
    out = g.tensors[op.outputs[0]].shape
    return len(out) < len(src) or out[axis] == 1

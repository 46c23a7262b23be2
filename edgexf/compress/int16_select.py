"""Which activations the int8 pass keeps in int16: the --int16 patterns ("residual", "state", or globs on
tensor names), resolved to tensor names of the float graph (edgexf/compress/quantize.py uses them)."""

from __future__ import annotations

import fnmatch

from edgexf.errors import QuantizationError
from edgexf.ir.graph import Graph, Op

INT16_WRITERS = ("add", "sub")  # "residual": the outputs of these float ops


def select_int16(graph: Graph, patterns: list[str] | tuple[str, ...]) -> set[str]:
    """Tensor names matched by the patterns ("residual", or globs); an unmatched pattern is an error."""
    chosen: set[str] = set()
    for pattern in patterns:
        if pattern == "residual":
            found = {
                op.outputs[0] for op in graph.ops if op.type in INT16_WRITERS and not has_scalar(graph, op)
            }
        elif pattern == "state":
            found = _state_path(graph)
        else:
            found = {n for n in graph.tensors if fnmatch.fnmatchcase(n, pattern)}
            found = {n for n in found if not graph.tensors[n].is_const}
        if not found:
            names = ", ".join(t.name for t in graph.activations()[:12])
            raise QuantizationError(
                f"--int16 {pattern!r} matches no activation tensor (names are like: {names}, ...)"
            )
        chosen |= found
    return chosen


def _state_path(graph: Graph) -> set[str]:
    """ "state": every recurrent state, its next state, and the operands of the add/sub that computes
    the next state (m_t = A_bar m_{t-1} + B_bar u_t: both terms), so the recurrence runs in int16."""
    producer = graph.producer()
    found = {n for pair in graph.states for n in pair}
    for _, nxt in graph.states:
        op = producer.get(nxt)
        if op is not None and op.type in INT16_WRITERS:
            found |= {n for n in op.inputs if n and not graph.tensors[n].is_const}
    return found


def has_scalar(graph: Graph, op: Op) -> bool:
    """x + c with a scalar constant c is a 256-entry table, not an add kernel."""
    return any(n and graph.tensors[n].is_const and graph.tensors[n].numel == 1 for n in op.inputs)

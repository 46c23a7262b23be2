"""passes/fuse_gate.py on Mamba's int8 step graph (tests/data/odd_mamba.py, the state int16): both blocks'
output gates (q_requant, q_lut, q_mul) become one q_gate each, with the same bits; a gate whose
activation is read elsewhere stays."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.compress.qmath import quantize
from edgexf.ir.graph import Op
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse_gate import fuse_gates
from tests.model_helpers import odd_mamba_step


@pytest.fixture(scope="module")
def graph():
    _, q, seqs = odd_mamba_step()
    t = q.tensors[q.inputs[0]]
    return q, {q.inputs[0]: quantize(seqs, t.quant, t.dtype)}


def test_both_blocks_gates_become_one_op_each_with_the_same_bits(graph):
    q, feeds = graph
    after, count = fuse_gates(q)
    assert count == 2 and [op.type for op in after.ops].count("q_gate") == 2
    assert len(q.ops) - len(after.ops) == 2 * 2
    a, b = run_reference(q, feeds), run_reference(after, feeds)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_gate_whose_activation_is_read_elsewhere_stays(graph):
    g = graph[0].copy()
    made = g.producer()
    lut = next(op for op in g.ops if op.type == "q_lut" and made[op.inputs[0]].type == "q_requant")
    t = g.tensors[lut.outputs[0]]
    size = int(np.prod(t.shape))
    g.ops.append(Op("reshape", "extra", [lut.outputs[0]], ["extra_out"], {"shape": (size,)}))
    g.tensors["extra_out"] = t.__class__("extra_out", (size,), t.dtype, quant=t.quant)
    g.outputs.append("extra_out")
    _, count = fuse_gates(g.verify())
    assert count == 1

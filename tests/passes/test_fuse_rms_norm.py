"""passes/fuse_rms_norm.py on Mamba's int8 step graph (tests/data/odd_mamba.py): its three RMSNorms (two
blocks' and norm_f) become one q_rms_norm each, with the same bits; a norm whose mean is read elsewhere
stays."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.compress.qmath import quantize
from edgexf.ir.graph import Op
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse_rms_norm import fuse_rms_norms
from tests.model_helpers import odd_mamba_step


@pytest.fixture(scope="module")
def graph():
    _, q, seqs = odd_mamba_step()
    t = q.tensors[q.inputs[0]]
    return q, {q.inputs[0]: quantize(seqs, t.quant, t.dtype)}


def test_every_norm_becomes_one_op_with_the_same_bits(graph):
    q, feeds = graph
    after, count = fuse_rms_norms(q)
    assert count == 3 and [op.type for op in after.ops].count("q_rms_norm") == 3
    means = [[op.type for op in g.ops].count("q_mean") for g in (q, after)]
    assert means[0] - means[1] == 3  # the norms' (the conv's and the scan's sums stay, unfused here)
    a, b = run_reference(q, feeds), run_reference(after, feeds)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_norm_whose_mean_is_read_elsewhere_stays(graph):
    g = graph[0].copy()
    mean = next(op for op in g.ops if op.type == "q_mean")
    t = g.tensors[mean.outputs[0]]
    g.ops.append(Op("reshape", "extra", [mean.outputs[0]], ["extra_out"], {"shape": t.shape}))
    g.tensors["extra_out"] = t.__class__("extra_out", t.shape, t.dtype, quant=t.quant)
    g.outputs.append("extra_out")
    _, count = fuse_rms_norms(g.verify())
    assert count == 2

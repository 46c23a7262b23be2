"""passes/fuse_conv_step.py on Mamba step graphs (tests/data/odd_mamba.py, d_conv 2, and the FSDD-sized
d_conv 4 form through mamba_n65's): both blocks' conv chains become one op each, the float graph's results
stay the same bits, the int8 graph's stay as close to the float model as the chain's, and a chain whose
window is read elsewhere is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.compress.qmath import dequantize, quantize
from edgexf.ir.graph import Op
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse_conv_step import fuse_conv_steps
from tests.model_helpers import odd_mamba_step


@pytest.fixture(scope="module", params=["mamba_n5", "mamba_n65"])
def graphs(request):
    return odd_mamba_step(request.param)


@pytest.mark.parametrize("int8", [False, True])
def test_both_blocks_convs_become_one_op_each_with_the_same_results(graphs, int8):
    g, q, seqs = graphs
    before = q if int8 else g
    after, count = fuse_conv_steps(before)
    kind = "q_conv_step" if int8 else "conv_step"
    assert count == 2 and [op.type for op in after.ops].count(kind) == 2
    # a block's concat, mul, sum, add and slice, and its three reshapes, are gone
    assert len(before.ops) - len(after.ops) == 2 * 7
    assert not [op for op in after.ops if op.type == "concat"]
    assert [s for s, _ in after.states] == [s for s, _ in before.states]
    if not int8:  # float32: the chain's rounding, bit for bit
        a, b = run_reference(before, {g.inputs[0]: seqs}), run_reference(after, {g.inputs[0]: seqs})
        assert all(np.array_equal(a[k], b[k]) for k in a)
        return
    # int8: one rounding where the chain had three, no farther from the float model than the chain
    t = q.tensors[q.inputs[0]]
    xq = {q.inputs[0]: quantize(seqs, t.quant, t.dtype)}
    ref = run_reference(g, {g.inputs[0]: seqs}, keep_all=True)
    chain, fused = run_reference(q, xq, keep_all=True), run_reference(after, xq, keep_all=True)
    convs = [op.outputs[1] for op in after.ops if op.type == kind]
    for name in (*convs, *after.outputs):
        err = [_rel_err(r[name], after.tensors[name].quant, ref[name]) for r in (chain, fused)]
        assert err[1] <= 1.1 * err[0], (name, err)
    # the next conv state is a copy of inputs: the first block's (its x depends on the step's input only)
    # has the same bits
    first = next(op for op in after.ops if op.type == kind).outputs[0]
    assert np.array_equal(chain[first], fused[first])


def _rel_err(codes, qp, real) -> float:
    real = np.asarray(real, np.float64)
    return float(np.sqrt(((dequantize(np.asarray(codes), qp) - real) ** 2).mean() / (real**2).mean()))


def test_a_chain_whose_window_is_read_elsewhere_stays(graphs):
    g = graphs[0].copy()
    cat = next(op for op in g.ops if op.type == "concat")
    g.ops.append(Op("relu", "extra", [cat.outputs[0]], ["extra_out"]))  # the window read three times
    g.tensors["extra_out"] = g.tensors[cat.outputs[0]].__class__("extra_out", g.tensors[cat.outputs[0]].shape)
    g.outputs.append("extra_out")
    _, count = fuse_conv_steps(g.verify())
    assert count == 1  # the other block's conv only

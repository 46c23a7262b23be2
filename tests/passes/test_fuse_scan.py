"""passes/fuse_scan.py on Mamba step graphs (edgexf.models.mamba as torch.export gives it, after optimize and,
for int8, the quantization pass with an int16 state): both blocks' scan chains become one op each, the
float graph's results stay the same bits, the int8 graph's stay as close to the float model as the
chain's, and a chain whose intermediate is read elsewhere is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.compress.qmath import dequantize, quantize
from edgexf.ir.graph import Op
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse_scan import fuse_scans
from tests.model_helpers import odd_mamba_step

CHAIN = {
    "exp",
    "sum",
    "q_mean",
}  # op types only the scan chain has in these graphs (besides its muls and adds)


@pytest.fixture(scope="module")
def graphs():
    return odd_mamba_step()


@pytest.mark.parametrize("int8", [False, True])
def test_both_blocks_scans_become_one_op_each_with_the_same_results(graphs, int8):
    g, q, seqs = graphs
    before = q if int8 else g
    after, count = fuse_scans(before)
    kind = "q_selective_scan" if int8 else "selective_scan"
    assert count == 2 and [op.type for op in after.ops].count(kind) == 2
    assert len(before.ops) - len(after.ops) == 2 * 13  # 14 ops a block: 6 muls, exp, 2 adds, sum, 4 reshapes
    assert not [op for op in after.ops if op.type == "exp" or op.attrs.get("fn") == "exp"]  # dA's exp
    assert [s for s, _ in after.states] == [s for s, _ in before.states]
    if not int8:  # float32: the chain's rounding, bit for bit
        a, b = run_reference(before, {g.inputs[0]: seqs}), run_reference(after, {g.inputs[0]: seqs})
        assert all(np.array_equal(a[k], b[k]) for k in a)
        return
    # int8: its own arithmetic (ir/ops_scan.py), no farther from the float model than the chain it replaces
    t = q.tensors[q.inputs[0]]
    xq = {q.inputs[0]: quantize(seqs, t.quant, t.dtype)}
    ref = run_reference(g, {g.inputs[0]: seqs}, keep_all=True)
    chain, fused = run_reference(q, xq, keep_all=True), run_reference(after, xq, keep_all=True)
    for name in (*after.outputs, *(nxt for _, nxt in after.states)):
        err = [_rel_err(r[name], after.tensors[name].quant, ref[name]) for r in (chain, fused)]
        assert err[1] <= 1.1 * err[0], (name, err)


def _rel_err(codes, qp, real) -> float:
    real = np.asarray(real, np.float64)
    return float(np.sqrt(((dequantize(np.asarray(codes), qp) - real) ** 2).mean() / (real**2).mean()))


def test_a_chain_whose_intermediate_is_read_elsewhere_stays(graphs):
    g = graphs[0].copy()
    exp = next(op for op in g.ops if op.type == "exp")
    g.ops.append(Op("relu", "extra", [exp.outputs[0]], ["extra_out"]))  # dA read twice
    g.tensors["extra_out"] = g.tensors[exp.outputs[0]].__class__("extra_out", g.tensors[exp.outputs[0]].shape)
    g.outputs.append("extra_out")
    _, count = fuse_scans(g.verify())
    assert count == 1  # the other block's scan only

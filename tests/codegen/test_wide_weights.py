"""Weights widened to int16 (passes/widen_weights.py, exf_linear_s8_w16): the packed
layout element by element, the requantization terms against the portable rounding, which layers
--dsp-weights widens, and host builds with and without widening giving the reference's bytes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from edgexf.codegen.generate import weight_bytes
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.kernel_choice import uses_wide, wide_bytes
from edgexf.passes.select_kernels import select_kernels
from edgexf.passes.widen_weights import pack_pairs, requant_terms, widen_weights
from edgexf.targets.board_table import Region
from edgexf.targets.boards import load_board
from edgexf.targets.placement import weights_flash
from tests.model_helpers import compile_graph, to_graph


def test_pack_pairs_lays_out_pairs_of_outputs_and_groups_of_four():
    w = np.arange(1, 16, dtype=np.int8).reshape(3, 5)  # w[j, i] = 5 j + i + 1
    p = pack_pairs(w)
    assert p.dtype == np.int16 and p.size == 2 * 2 * 8  # 2 pairs x 2 groups x 8
    # pair 0, group 0: output 0 {e0 e2} {e1 e3}, then output 1
    assert p[:8].tolist() == [1, 3, 2, 4, 6, 8, 7, 9]
    # pair 0, group 1: only element 4 of each output; the rest is padding
    assert p[8:16].tolist() == [5, 0, 0, 0, 10, 0, 0, 0]
    # pair 1: output 2 and a row of zeros
    assert p[16:24].tolist() == [11, 13, 12, 14, 0, 0, 0, 0]
    assert p[24:].tolist() == [15, 0, 0, 0, 0, 0, 0, 0]


def test_requant_terms_give_the_portable_rounding():
    rng = np.random.default_rng(0)
    shift = rng.integers(33, 54, 400)
    mult = rng.integers(1 << 29, 1 << 31, 400) * rng.choice([-1, 1], 400)
    acc = rng.integers(-(1 << 31), 1 << 31, 400)
    for zp in (-128, 0, 5, 127):
        rq = requant_terms(shift, zp).reshape(-1, 2).astype(np.int64)
        high = (acc * mult) >> 32  # SMMLA: floor(acc mult / 2^32) + the rounding term
        fast = np.clip((high + rq[:, 0]) >> rq[:, 1], -128, 127)
        portable = np.clip(((acc * mult + (1 << (shift - 1))) >> shift) + zp, -128, 127)
        assert np.array_equal(fast, portable)


def test_requant_terms_refuse_shifts_outside_the_fast_path():
    with pytest.raises(ValueError, match=r"shifts in \[33, 53\], not \[32, 40\]"):
        requant_terms(np.array([32, 40]), 0)


def _quantized_mlp():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Linear(16, 7)).eval()
    g = to_graph(module, torch.randn(5, 24))  # 5 rows: two pairs and an odd row
    x = np.random.default_rng(1).standard_normal((64, 5, 24)).astype(np.float32)
    return quantize_graph(g, calibrate(g, x, "minmax", 99.99, progress=False), ()).graph


@pytest.fixture(scope="module")
def int8_graph():
    return _quantized_mlp()


def test_dsp_weights_choices(int8_graph):
    g, sel = select_kernels(int8_graph, "dsp", "int16")
    assert sel.weights == "int16" and sel.wide_ops == sel.dsp_ops == 2
    assert sel.wide_extra_bytes == wide_bytes(16, 24) - 16 * 24 + wide_bytes(7, 16) - 7 * 16
    g, sel = select_kernels(int8_graph, "dsp", "int8")
    assert sel.weights == "int8" and not any(uses_wide(op) for op in g.ops)
    constants = sum(t.nbytes for t in g.constants())
    g, sel = select_kernels(int8_graph, "dsp", "auto", flash_bytes=2 * constants)  # widened: over half
    assert sel.weights == "int8" and "over 50% of the" in sel.reason
    g, sel = select_kernels(int8_graph, "dsp", "auto", flash_bytes=1 << 20)
    assert sel.weights == "int16" and sel.wide_ops == 2
    g, sel = select_kernels(int8_graph, "portable", "int16")
    assert sel.dsp_ops == 0 and sel.wide_ops == 0
    with pytest.raises(ValueError, match="dsp weights must be one of auto, int8, int16"):
        select_kernels(int8_graph, "dsp", "int4")


def test_auto_counts_the_external_flash_where_weights_may_go(int8_graph):
    """On a board with QSPI flash, --weights auto (or external) lets --dsp-weights auto weigh the widened
    weights against the internal + external flash; --weights internal, or no external flash, against the
    internal flash alone. Here the internal flash is shrunk to the widened weights' size (over half)."""
    _, sel = select_kernels(int8_graph.copy(), "dsp", "int16")
    widened = sum(t.nbytes for t in int8_graph.constants()) + sel.wide_extra_bytes
    disco = load_board("stm32f746g-disco")
    small = replace(disco, flash=Region(disco.flash.origin, widened))
    assert weights_flash(small, "internal") == (widened, f"the {widened:,} B flash")
    total = widened + (16 << 20)
    assert weights_flash(small, "auto")[0] == weights_flash(small, "external")[0] == total
    _, sel = select_kernels(int8_graph.copy(), "dsp", "auto", *weights_flash(small, "internal"))
    assert sel.weights == "int8" and f"over 50% of the {widened:,} B flash" in sel.reason
    _, sel = select_kernels(int8_graph.copy(), "dsp", "auto", *weights_flash(small, "auto"))
    assert sel.weights == "int16"
    assert (
        sel.reason
        == f"they take {widened:,} B, at most 50% of the {total:,} B of flash that may hold weights "
        "(flash + external 'qspi')"
    )
    assert weights_flash(load_board("stm32f746"), "auto") == (1 << 20, "the 1,048,576 B flash")


def test_widening_puts_the_pairs_and_requantization_terms_into_the_graph(int8_graph):
    """The pass, not code generation, makes what weights.c writes: each widened weight's int16 pairs
    (Tensor.stored) and an (m, 2) int32 constant of requantization terms per layer, named after the
    layer; the flash estimate (weight_bytes) sees both. The input graph is left as it was."""
    g, sel = select_kernels(int8_graph, "dsp", "int16")
    wide = widen_weights(g)
    before = weight_bytes(g)
    after = weight_bytes(wide)
    ops = [op for op in wide.ops if op.attrs.get("weights") == "int16"]
    assert len(ops) == sel.wide_ops == 2 and all("rq" not in op.attrs for op in g.ops)
    for op in ops:
        (rq,) = op.attrs["rq"]
        w = wide.tensors[op.inputs[1]]
        m, k = w.shape
        assert rq.endswith(".rq") and wide.tensors[rq].shape == (m, 2) and wide.tensors[rq].dtype == "int32"
        assert np.array_equal(w.stored, pack_pairs(w.data)) and g.tensors[op.inputs[1]].stored is None
        assert after[w.name] == -(-m // 2) * -(-k // 4) * 16 == 2 * before[w.name] + (m % 2) * 2 * k
        assert after[rq] == 8 * m
    assert sum(after.values()) - sum(before.values()) == sel.wide_extra_bytes


def test_a_layer_with_a_shift_outside_the_fast_path_keeps_int8_weights(int8_graph):
    g = int8_graph
    first = next(op for op in g.ops if op.type == "q_linear")
    shift = g.tensors[first.inputs[4]]
    saved = shift.data.copy()
    try:
        shift.data[0] = 32
        g, sel = select_kernels(g, "dsp", "int16")
        assert sel.wide_ops == 1 and not uses_wide(next(op for op in g.ops if op.name == first.name))
    finally:
        shift.data[...] = saved


@pytest.mark.parametrize("weights", ["int8", "int16"])
def test_host_build_equals_the_reference_either_way(int8_graph, weights, tmp_path):
    g, sel = select_kernels(int8_graph, "dsp", weights)
    model = compile_graph(g, tmp_path)
    source = (tmp_path / "model" / "model.c").read_text()
    # 5 rows with a bias: the blocks-of-rows entry (quant_dot_w16.c); its host C form against the reference
    assert ("exf_linear_s8_w16_rows(" in source) == (weights == "int16")
    x = np.random.default_rng(2).integers(-128, 128, (40, 5, 24)).astype(np.int8)
    assert np.array_equal(model.run(x), model.reference(x))


def _as_linear_q(g):
    """The graph with its int8 linears as q_linear_q (int8 in and out): the recurrent models' op."""
    for op in g.ops:
        if op.type == "q_linear":
            op.type = "q_linear_q"
            op.attrs["dtype"] = "int8"
    return g


def test_int16_capable_linear_runs_fast_only_with_int16_weights(tmp_path):
    g = _as_linear_q(_quantized_mlp())
    g, sel = select_kernels(g, "dsp", "int16")
    assert sel.wide_ops == sel.dsp_ops == 2
    model = compile_graph(g, tmp_path / "wide")
    # 5 rows with a bias: the row-pair entry (its host C form, the odd last row) against the reference
    assert (tmp_path / "wide" / "model" / "model.c").read_text().count("exf_linear_q_w16_rows(") == 2
    x = np.random.default_rng(3).integers(-128, 128, (40, 5, 24)).astype(np.int8)
    assert np.array_equal(model.run(x), model.reference(x))
    g, sel = select_kernels(g, "dsp", "int8")  # no int8-weight fast kernel for it: portable
    assert sel.dsp_ops == 0 and not any("kernel" in op.attrs for op in g.ops)


def test_int16_capable_linear_whose_sum_could_leave_int32_stays_portable():
    g = _as_linear_q(_quantized_mlp())
    first = next(op for op in g.ops if op.type == "q_linear_q")
    g.tensors[first.inputs[2]].data[3] = (1 << 31) - 100  # |bias| + sum |w| 2^7 >= 2^31 for output 3
    g, sel = select_kernels(g, "dsp", "int16")
    assert sel.wide_ops == sel.dsp_ops == 1
    assert "kernel" not in next(op for op in g.ops if op.name == first.name).attrs


def test_int16_capable_linear_with_shifts_below_33_pre_shifts_its_sums(tmp_path):
    from edgexf.ir.kernel_choice import linear_q_pre_shift

    g = _as_linear_q(_quantized_mlp())
    first = next(op for op in g.ops if op.type == "q_linear_q")
    shift = g.tensors[first.inputs[4]].data
    shift[:] = np.clip(shift - 12, 30, None)  # an int16 output's shifts: some below 33
    assert shift.min() < 33 and linear_q_pre_shift(g, first) == 33 - shift.min()
    g, sel = select_kernels(g, "dsp", "int16")
    assert sel.wide_ops == 2
    model = compile_graph(g, tmp_path)
    assert f".pre_shift = {33 - shift.min()}," in (tmp_path / "model" / "model.c").read_text()
    x = np.random.default_rng(4).integers(-128, 128, (40, 5, 24)).astype(np.int8)
    assert np.array_equal(model.run(x), model.reference(x))
    g.tensors[first.inputs[2]].data[0] = 1 << 29  # shifted by the pre-shift, the sums could leave int32
    assert linear_q_pre_shift(g, first) is None

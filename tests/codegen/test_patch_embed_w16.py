"""The int8 patch embedding with its weights widened to int16 (exf_patch_embed_s8_w16): selected with
--dsp-weights int16 only, portable otherwise, and host builds either way giving the reference's bytes
(odd patches per row, taps not a multiple of 4, an odd width; int8 and int16 tokens)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.kernel_choice import patch_scratch, uses_dsp, uses_wide, wide_bytes
from edgexf.ir.ops import OPS, input_specs
from edgexf.models.vit import ViT, ViTConfig
from edgexf.passes.fuse import fuse
from edgexf.passes.select_kernels import select_kernels
from tests.model_helpers import compile_graph, to_graph

# 9 x 9 in 3 x 3 patches: 3 patches per row (odd), 27 taps (not a multiple of 4), width 15 (odd)
CONFIG = dict(image_size=9, patch_size=3, in_channels=3, embed_dim=15, depth=1, num_heads=3, mlp_ratio=2.0)


def _fused(int16=()):
    torch.manual_seed(0)
    model = ViT(ViTConfig(**CONFIG)).eval()
    g = to_graph(model, torch.rand(1, 3, 9, 9))
    x = np.random.default_rng(2).random((64, 1, 3, 9, 9), dtype=np.float32)
    q = quantize_graph(g, calibrate(g, x, "minmax", 99.99, progress=False), int16).graph
    return fuse(q)[0]


@pytest.fixture(scope="module", params=[(), ("residual",)], ids=["int8", "int16-residual"])
def graph(request):
    return _fused(request.param)


def _patch(g):
    return next(op for op in g.ops if op.type == "q_patch_embed")


def op_scratch_bytes(g, op):
    return OPS[op.type].scratch(op, input_specs(g, op))


@pytest.mark.parametrize("weights", ["int8", "int16"])
def test_host_build_equals_the_reference_either_way(graph, weights, tmp_path):
    g, sel = select_kernels(graph, "dsp", weights)
    op = _patch(g)
    assert uses_wide(op) == uses_dsp(op) == (weights == "int16")  # never dsp with int8 weights
    model = compile_graph(g, tmp_path)
    source = (tmp_path / "model" / "model.c").read_text()
    assert ("exf_patch_embed_s8_w16(" in source) == (weights == "int16")
    assert ("exf_patch_embed_s8(" in source) == (weights == "int8")
    x = np.random.default_rng(3).integers(-128, 128, (24, 1, 3, 9, 9)).astype(np.int8)
    x[0] = -128  # the input zero point's extremes
    x[1] = 127
    assert np.array_equal(model.run(x), model.reference(x))


def test_scratch_and_flash(graph):
    g, sel = select_kernels(graph, "dsp", "int16")
    op = _patch(g)
    y = g.tensors[op.outputs[0]]
    nbytes = y.nbytes // y.shape[1] // y.shape[2]
    # a row of 3 tokens, 2 x 7 groups of 27 widened taps, 8 output pairs of sums, 28 bytes of taps
    assert patch_scratch(27, 3, 15, nbytes) == -(-3 * 15 * nbytes // 8) * 8 + 16 * 7 + 16 * 8 + 28
    assert op_scratch_bytes(g, op) == patch_scratch(27, 3, 15, nbytes)
    w = g.tensors[op.inputs[1]]
    assert w.shape == (15, 3, 3, 3)
    assert sel.wide_extra_bytes >= wide_bytes(15, 27) - w.nbytes
    g, _ = select_kernels(graph, "dsp", "int8")
    assert op_scratch_bytes(g, _patch(g)) == 3 * 15 * nbytes  # the portable kernel's patch row


def test_a_shift_outside_the_fast_path_keeps_the_portable_kernel(graph):
    op = _patch(graph)
    shift = graph.tensors[op.inputs[4]]
    saved = shift.data.copy()
    try:
        shift.data[0] = 32
        g, sel = select_kernels(graph, "dsp", "int16")
        assert not uses_wide(_patch(g)) and not uses_dsp(_patch(g))
        assert sel.dsp_ops == sum(uses_dsp(o) for o in g.ops)
    finally:
        shift.data[...] = saved

"""Operator integration: a ViT's fused graph computes the unfused graph's numbers bit for bit (NumPy
reference and host C), in float32 and int8 (except the int8 attention, which has an arithmetic of its
own: it must come as close to the float model as the unfused int8 chain), and no score matrix or hidden
matrix exists any more."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, same_bits, to_graph

from edgexf.compress.calibrate import calibrate
from edgexf.compress.qmath import quantize
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import plan_memory
from edgexf.models.vit import ViT, ViTConfig
from edgexf.passes.fuse import fuse

SMALL = dict(image_size=8, patch_size=2, in_channels=3, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0)
T, D, HIDDEN = 17, 16, 32  # tokens with the class token, width, MLP hidden width


def vit_graph(pool="cls", gelu="erf", **config):
    torch.manual_seed(0)
    model = ViT(ViTConfig(**(SMALL | config), pool=pool, gelu=gelu)).eval()
    return to_graph(model, torch.rand(1, 3, 8, 8))


def images(n=24, seed=1):
    return np.random.default_rng(seed).random((n, 1, 3, 8, 8), dtype=np.float32)


def int8_graph(g, int16=()):
    x = images(64, seed=2)
    return quantize_graph(g, calibrate(g, x, "minmax", 99.99), int16).graph


def output(g, x):
    return run_reference(g, {g.inputs[0]: x})[g.outputs[0]]


def feed(g, x):
    t = g.tensors[g.inputs[0]]
    return quantize(x, t.quant, t.dtype) if t.quant is not None else x


@pytest.mark.parametrize("pool, gelu", [("cls", "erf"), ("mean", "tanh")])
def test_fused_float_graph_gives_the_same_bits(pool, gelu):
    g = vit_graph(pool, gelu)
    f, counts = fuse(g)
    assert counts == {"token_mlp": 2, "attention": 2, "ln_linear": 2, "patch_embed": 1}
    assert len(f.ops) < len(g.ops) // 3
    assert same_bits(output(f, images()), output(g, images()))


@pytest.mark.parametrize("int16", [(), ("residual",)])
def test_fused_int8_graph_gives_the_same_integers(int16):
    q = int8_graph(vit_graph(), int16)
    f, counts = fuse(q, ("token_mlp", "ln_linear", "patch_embed"))
    assert counts == {"token_mlp": 2, "ln_linear": 2, "patch_embed": 1}
    x = feed(q, images())
    assert np.array_equal(output(f, x), output(q, x))


def test_fused_int8_attention_is_as_close_to_float_as_the_chain():
    """q_attention's own arithmetic (one score requantization, int16 weights, 1/sum in the output
    multiplier) against the unfused int8 chain (int8 scores and probabilities): the logits' error
    against the float model is no larger (with 10% slack, 24 images)."""
    g = vit_graph()
    q = int8_graph(g)
    f, counts = fuse(q)
    assert counts == {"token_mlp": 2, "attention": 2, "ln_linear": 2, "patch_embed": 1}
    assert {op.type for op in f.ops} >= {"q_token_mlp", "q_attention", "q_ln_linear", "q_patch_embed"}
    x = images()
    want = output(g, x)
    tq = q.tensors[q.outputs[0]].quant
    err = {}
    for name, graph in (("chain", q), ("fused", f)):
        y = (output(graph, feed(q, x)).astype(np.float64) - tq.zero_point) * tq.scale
        err[name] = np.sqrt(np.mean((y - want) ** 2))
    assert err["fused"] <= 1.1 * err["chain"], err


def test_no_score_matrix_and_no_hidden_matrix_remain():
    g = vit_graph()
    f, _ = fuse(g)
    before = {t.shape for t in g.activations()}
    after = {t.shape for t in f.activations()}
    assert (1, 2, T, T) in before and (1, T, HIDDEN) in before
    assert all(T * T not in (int(np.prod(s[-2:])),) and HIDDEN not in s for s in after), after


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_fused_host_c_is_bit_exact_and_smaller(tmp_path, dtype):
    g = vit_graph()
    if dtype == "int8":
        g = int8_graph(g, ("residual",))
    f, _ = fuse(g)
    model = compile_graph(f, tmp_path)
    x = feed(g, images())
    got, want = model.run(x), output(f if dtype == "int8" else g, x)  # int8: q_attention's own integers
    assert same_bits(got, want) if dtype == "float32" else np.array_equal(got, want)
    unfused = plan_memory(g, inplace=False)  # T = 17 is small: scores and hidden rows matter less here
    # (int8: 0.77, the portable attention's row of T int32 scores in scratch)
    assert model.plan.arena_bytes < 0.8 * unfused.arena_bytes, (model.plan.arena_bytes, unfused.arena_bytes)


def test_fused_float_kernels_handle_blocking_tails(tmp_path):
    """Head width 6 and 17 tokens: the float attention's blocks of 4 keys and 4 channels, and the 2-row
    blocks of ln_linear and token_mlp, all end in a tail; the C is still bit-exact with the reference."""
    g = vit_graph(embed_dim=18, num_heads=3)
    f, _ = fuse(g)
    assert {"attention", "ln_linear", "token_mlp"} <= {op.type for op in f.ops}
    x = images(6)
    assert same_bits(compile_graph(f, tmp_path).run(x), output(g, x))


def test_chains_read_elsewhere_are_left_alone():
    class Probe(torch.nn.Module):  # the LayerNorm output is used twice: no ln_linear
        def __init__(self):
            super().__init__()
            self.norm, self.fc = torch.nn.LayerNorm(8), torch.nn.Linear(8, 8)

        def forward(self, x):
            h = self.norm(x)
            return self.fc(h) + h

    g = to_graph(Probe().eval(), torch.rand(1, 4, 8))
    f, counts = fuse(g)
    assert counts["ln_linear"] == 0 and [op.type for op in f.ops] == [op.type for op in g.ops]


def test_fused_ops_name_the_modules_they_replace():
    """model.c prints an op's source in its comment: a fused op keeps its chain's module paths."""
    f, _ = fuse(int8_graph(vit_graph()))
    sources = {}
    for op in f.ops:  # each type's first: block 0's
        sources.setdefault(op.type, op.source)
    assert (
        sources["q_ln_linear"]
        == "fused: q_layernorm + q_linear; modules 'blocks.0.norm1', 'blocks.0.attn.qkv'"
    )
    assert sources["q_attention"].endswith("; module 'blocks.0.attn'")
    assert sources["q_token_mlp"].endswith(
        "; modules 'blocks.0.norm2', 'blocks.0.mlp.fc1', 'blocks.0.mlp.act', 'blocks.0.mlp.fc2', 'blocks.0'"
    )
    assert sources["q_patch_embed"].endswith("; module 'patch_embed'")

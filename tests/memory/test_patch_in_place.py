"""The patch embedding writes its tokens over the image it consumes (ops_fused.patch_embed_delta,
lifetimes.py's rests): the offset is checked against a byte-by-byte replay of the kernels' reads and
writes, a small RGB ViT's arena drops by its token matrix, and the kernels (float32, int8 portable and
DSP, int16 tokens) give the reference's bits with the tokens on the image's bytes, in host C and QEMU.
Where the tokens are wider than a patch they start below the image; an image read again stays apart."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, same_bits, to_graph

from edgexf.cli import main
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.datasets import save_npz
from edgexf.ir.graph import Graph, Op
from edgexf.ir.ops import OPS
from edgexf.ir.ops_fused import patch_embed_delta
from edgexf.memory.plan import plan_memory
from edgexf.models.vit import ViT, ViTConfig
from edgexf.passes.fuse import fuse
from edgexf.passes.select_kernels import select_kernels

DTYPE = {1: "int8", 2: "int16", 4: "float32"}
# 3 x 32 x 32 in 8 x 8 patches, D 16: 17 tokens (272 B int8) over a 3,072 B image whose arena it dominates
RGB = dict(image_size=32, patch_size=8, in_channels=3, num_classes=10, embed_dim=16, depth=1, num_heads=2)


def unsafe(c: int, nh: int, nw: int, p: int, d: int, si: int, so: int, cls: int, delta: int) -> bool:
    """Replays the kernels' order: patch row r reads image rows [r p, (r+1) p) of every channel, then
    writes its tokens; the class token comes last. True if a token byte, at -delta from the image's
    first byte, lands on an image byte still to be read."""
    h, w = nh * p, nw * p
    plane, row = h * w * si, w * si
    for r in range(nh):
        read = (r + 1) * p  # image rows read in every channel
        for a in range(-delta + (cls + r * nw) * d * so, -delta + (cls + (r + 1) * nw) * d * so):
            if 0 <= a < c * plane and (a % plane) // row >= read:
                return True
    return False


def _delta(c, nh, nw, p, d, si, so, cls) -> int:
    op = Op("patch_embed", "pe", ["x"], ["y"], {"patch": p, "cls": bool(cls)})
    ins = [((1, c, nh * p, nw * p), DTYPE[si])]
    outs = [((1, nh * nw + cls, d), DTYPE[so])]
    ((index, delta),) = patch_embed_delta(op, ins, outs)
    assert index == 0
    return delta


def test_the_offset_is_the_smallest_the_kernels_allow():
    for c, nh, nw, p, d, si, so, cls in itertools.product(
        (1, 3), (1, 2, 3), (1, 3), (2, 3), (2, 5, 12), (1, 4), (1, 2, 4), (0, 1)
    ):
        delta = _delta(c, nh, nw, p, d, si, so, cls)
        case = (c, nh, nw, p, d, si, so, cls, delta)
        assert not unsafe(c, nh, nw, p, d, si, so, cls, delta), case
        assert delta == 0 or unsafe(c, nh, nw, p, d, si, so, cls, delta - 1), case


def test_mcuformer_geometry():
    # 240 x 240 RGB in 20 x 20 patches, D 224, class token: int8 tokens start at the image's first byte
    assert _delta(3, 12, 12, 20, 224, 1, 1, 1) == 0
    # int16 tokens (448 B a token, more than a patch's 400 channel-0 bytes) start 6,784 B below it
    assert _delta(3, 12, 12, 20, 224, 1, 2, 1) == 448 + 576 * 11
    # the MNIST ViT (one channel, 28 x 28, patch 4, D 64, float32) keeps its image inside its tokens
    assert _delta(1, 7, 7, 4, 64, 4, 4, 1) == 256 + 7 * 256 * 6 - 448 * 6


def _rgb_graphs() -> dict[str, object]:
    torch.manual_seed(0)
    g = to_graph(ViT(ViTConfig(**RGB, mlp_ratio=2.0)).eval(), torch.rand(1, 3, 32, 32))
    x = np.random.default_rng(1).random((16, 1, 3, 32, 32), dtype=np.float32)
    ranges = calibrate(g, x, "minmax", 99.99, progress=False)
    q8, q16 = (fuse(quantize_graph(g, ranges, i).graph)[0] for i in ((), ("residual",)))
    return {
        "float32": fuse(g)[0],
        "int8": q8,
        "int8-dsp": select_kernels(q8.copy(), "dsp", "int16")[0],  # exf_patch_embed_s8_w16
        "int16-tokens": q16,
    }


GRAPHS = _rgb_graphs()


def _patch(g) -> Op:
    return next(op for op in g.ops if op.type.endswith("patch_embed"))


def _without_patch_alias(monkeypatch) -> None:
    for kind in ("patch_embed", "q_patch_embed"):
        monkeypatch.setitem(OPS, kind, dataclasses.replace(OPS[kind], alias=None))


def _alone(g: Graph, op: Op) -> Graph:
    """The op as a graph of its own: the image in, the tokens out (every token byte is compared)."""
    tensors = {n: g.tensors[n] for n in [*op.inputs, *op.outputs] if n}
    return Graph("patches", tensors, [op], [op.inputs[0]], [op.outputs[0]]).verify()


def _inputs(g: Graph, n: int) -> np.ndarray:
    t = g.tensors[g.inputs[0]]
    rng = np.random.default_rng(5)
    if t.dtype == "float32":
        return rng.random((n, *t.shape), dtype=np.float32)
    return rng.integers(-128, 128, (n, *t.shape)).astype(np.int8)


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_tokens_on_the_image_bytes_equal_the_reference(tmp_path, kind, monkeypatch):
    g = GRAPHS[kind]
    op = _patch(g)
    image, tokens = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    alone = compile_graph(_alone(g, op), tmp_path / "alone")
    assert alone.plan.offset_of(tokens.name) == alone.plan.offset_of(image.name)
    x = _inputs(g, 6)
    got, want = alone.run(x), alone.reference(x)
    assert same_bits(got, want) if got.dtype == np.float32 else np.array_equal(got, want)
    model = compile_graph(g, tmp_path)
    plan = model.plan
    assert plan.offset_of(tokens.name) == plan.offset_of(image.name)  # D s_y <= 8 x 8 pixels: delta 0
    # the image's bytes beyond the tokens: free after the op (int16 tokens: a later int8 LayerNorm
    # output takes over the tokens' second half, another rest)
    home, step = plan.buffer_of(image.name).name, g.ops.index(op)
    (rest,) = [b for b in plan.buffers if b.anchor == (home, tokens.nbytes) and b.end == step + 1]
    assert rest.size == image.nbytes - tokens.nbytes
    _without_patch_alias(monkeypatch)
    apart = plan_memory(g)
    assert apart.arena_bytes - plan.arena_bytes == tokens.nbytes  # the image is the peak: it drops by T x D
    got, want = model.run(x), model.reference(x)
    assert same_bits(got, want) if got.dtype == np.float32 else np.array_equal(got, want)


def test_tokens_wider_than_a_patch_start_below_the_image(tmp_path):
    """D 24 int8 in 4 x 4 patches: a token (24 B) is wider than a patch's 16 channel-0 pixels, so the
    tokens start 128 B below the image (the 120 B the formula gives, aligned), still sharing 280 B."""
    torch.manual_seed(0)
    cfg = dict(RGB, image_size=16, patch_size=4, embed_dim=24, num_heads=2)
    g = to_graph(ViT(ViTConfig(**cfg, mlp_ratio=2.0)).eval(), torch.rand(1, 3, 16, 16))
    x = np.random.default_rng(1).random((16, 1, 3, 16, 16), dtype=np.float32)
    g = fuse(quantize_graph(g, calibrate(g, x, "minmax", 99.99, progress=False), ()).graph)[0]
    op = _patch(g)
    assert _delta(3, 4, 4, 4, 24, 1, 1, 1) == 120
    for model in (compile_graph(g, tmp_path), compile_graph(_alone(g, op), tmp_path / "alone")):
        assert model.plan.offset_of(op.outputs[0]) == model.plan.offset_of(op.inputs[0]) - 128
        x = _inputs(g, 6)
        assert np.array_equal(model.run(x), model.reference(x))


class _ReadTwice(torch.nn.Module):
    """A ViT whose image is read again after the patch embedding (the logits plus the image's mean)."""

    def __init__(self):
        super().__init__()
        self.vit = ViT(ViTConfig(**RGB, mlp_ratio=2.0))

    def forward(self, x):
        return self.vit(x) + x.mean(dim=(2, 3))[:, :1]


def test_an_image_read_after_the_patch_embedding_keeps_its_bytes(tmp_path):
    torch.manual_seed(0)
    g = fuse(to_graph(_ReadTwice().eval(), torch.rand(1, 3, 32, 32)))[0]
    op = _patch(g)
    model = compile_graph(g, tmp_path)
    image, tokens = (model.plan.buffer_of(n) for n in op.inputs[0:1] + op.outputs[0:1])
    assert image is not tokens and not any(b.anchor for b in model.plan.buffers)
    x = np.random.default_rng(5).random((4, 1, 3, 32, 32), dtype=np.float32)
    assert same_bits(model.run(x), model.reference(x))


@pytest.mark.qemu
def test_rgb_vit_runs_in_qemu_with_tokens_over_its_image(tmp_path: Path):
    torch.manual_seed(0)
    model = ViT(ViTConfig(**RGB, mlp_ratio=2.0)).eval()
    path = tmp_path / "rgb.pt2"
    torch.export.save(torch.export.export(model, (torch.rand(1, 3, 32, 32),)), path)
    x = np.random.default_rng(1).random((20, 1, 3, 32, 32), dtype=np.float32)
    calib, test = save_npz(tmp_path / "calib.npz", x[:16]), save_npz(tmp_path / "test.npz", x[16:])
    out = tmp_path / "build"
    args = ["compile", str(path), "--board", "stm32f746", "--quantize", "int8", "--calibration", str(calib)]
    assert main([*args, "--test-data", str(test), "-o", str(out)]) == 0
    plan = json.loads((out / "memory_plan.json").read_text())
    (rest,) = [b for b in plan["buffers"] if "pinned_to" in b]  # the image's bytes beyond the tokens
    assert rest["live"] == [0, 1] and rest["bytes"] == 3072 - 272
    assert main(["run", str(out), "--emulate", "--check"]) == 0

"""Imported ViTs reach the fused kernels: each exporter's way of writing attention, LayerNorm and the MLP
becomes the fused ops the PyTorch path gets (passes/optimize.py then passes/fuse.py), and nothing of the
pieces is left; the fused graph runs in host C bit-exact with its reference and within 1e-5 of
onnxruntime. Third-party models, exported as their users export them:

- timm's VisionTransformer (tests/data/timm_vit.py): TorchScript exporter at opset 13 (q * scale before
  QK^T, LayerNorm written out) and 17 (scaled_dot_product_attention: sqrt(scale) on q and on k^T), and
  the dynamo exporter (k^T as reshape -> transpose -> reshape); with dynamic_img_size=True its patch
  embedding ends NHWC (transpose [0,2,3,1] -> reshape to tokens);
- HuggingFace's ViTForImageClassification (tests/data/hf_vit.py): separate query/key/value projections,
  eager (scores / sqrt(dh)) and sdpa attention, TorchScript and dynamo exporters (dynamo's sdpa wraps
  the softmax in a Softmax -> IsNaN -> Where guard, folded at import: edgexf/ir/finite.py).
"""

from __future__ import annotations

import collections
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from model_helpers import HostModel, same_bits
from onnx import TensorProto, helper

from edgexf.codegen.generate import generate_c
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.passes.attention_forms import canonical_attention
from edgexf.passes.optimize import optimize
from edgexf.pipeline import MemoryOptions, plan_for_board
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_host

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import onnxruntime as ort  # noqa: E402

MISSING = [m for m in ("timm", "transformers", "onnxscript") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"), reason=f"needs {MISSING}")

# both ViTs: 2 blocks, a class token and position embedding, a final LayerNorm before the head (on the
# class token only, so it fuses with the head: passes/slice_before_rows.py)
FUSED = {"attention": 2, "token_mlp": 2, "ln_linear": 3, "patch_embed": 1}
PIECES = {"matmul", "softmax", "transpose", "mul", "div", "gelu", "conv2d", "concat"}
EXPORTS = {
    "timm_opset13": lambda p: __import__("timm_vit").export(p, 13),
    "timm_opset17": lambda p: __import__("timm_vit").export(p, 17),
    "timm_dynamo": lambda p: __import__("timm_vit").export(p, dynamo=True),
    "timm_nhwc_patches": lambda p: __import__("timm_vit").export(p, 17, dynamic_img_size=True),
    "hf_eager": lambda p: __import__("hf_vit").export(p, "eager"),
    "hf_sdpa": lambda p: __import__("hf_vit").export(p, "sdpa"),
    "hf_eager_dynamo": lambda p: __import__("hf_vit").export(p, "eager", dynamo=True),
    "hf_sdpa_dynamo": lambda p: __import__("hf_vit").export(p, "sdpa", dynamo=True),  # + the IsNaN guard
}
REL_TOL = 1e-5  # |C - onnxruntime| / max |onnxruntime|, per sample


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.stack([sess.run(None, {"x": s})[0] for s in x])


@pytest.mark.parametrize("export", list(EXPORTS))
def test_imported_vit_gets_the_fused_ops(export, tmp_path):
    path = EXPORTS[export](tmp_path / f"{export}.onnx")
    g = optimize(onnx_to_graph(path))
    fused, counts, _, _, plan = plan_for_board(
        g, load_board("stm32f746"), "auto", MemoryOptions(exact_time_s=0)
    )
    types = collections.Counter(op.type for op in fused.ops)
    assert counts == FUSED, types
    assert not PIECES & set(types), types
    src = generate_c(fused, plan, tmp_path / "model", {"command": "test"})
    host = HostModel(fused, plan, build_host(src.dir, tmp_path / "host"))
    x = np.random.default_rng(0).standard_normal((3, 1, 3, 32, 32)).astype(np.float32)
    y = host.run(x)
    assert same_bits(y, host.reference(x)), "host C differs from the IR reference"
    expected = ort_run(path, x)
    rel = np.abs(y - expected).max(axis=(1, 2)) / np.abs(expected).max(axis=(1, 2))
    assert rel.max() <= REL_TOL, rel


def _attention_model(
    scale_where: str, extra_output: bool = False, mask: float | None = None
) -> onnx.ModelProto:
    """q, k, v (1, 2, 4, 8) as inputs of one Transpose of a (1, 4, 3, 2, 8) ... kept small: the scale
    before QK^T on q, on both sides, or after; extra_output makes q * scale a model output too."""
    nodes = [
        helper.make_node("Reshape", ["x", "s5"], ["r"]),
        helper.make_node("Transpose", ["r"], ["p"], perm=[2, 0, 3, 1, 4]),
        helper.make_node("Split", ["p", "ones"], ["q5", "k5", "v5"], axis=0),
        *[helper.make_node("Reshape", [f"{n}5", "s4"], [n]) for n in "qkv"],
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
    ]
    a, b = "q", "kt"
    if scale_where in ("q", "both"):
        nodes.append(helper.make_node("Mul", ["q", "c"], ["qs"]))
        a = "qs"
    if scale_where == "both":
        nodes.append(helper.make_node("Mul", ["kt", "c"], ["kts"]))
        b = "kts"
    nodes.append(helper.make_node("MatMul", [a, b], ["scores" if mask is None else "raw"]))
    if mask is not None:  # an additive attention mask, a constant (1, 1, T, T)
        nodes.append(helper.make_node("Add", ["raw", "mask"], ["scores"]))
    nodes += [
        helper.make_node("Softmax", ["scores"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["o"]),
        helper.make_node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["ot", "s3"], ["y"]),
    ]
    inits = {
        "s5": np.array([1, 4, 3, 2, 8], np.int64), "s4": np.array([1, 2, 4, 8], np.int64),
        "s3": np.array([1, 4, 16], np.int64), "ones": np.array([1, 1, 1], np.int64),
        "c": np.array(0.5, np.float32),
    }  # fmt: skip
    if mask is not None:
        inits["mask"] = np.full((1, 1, 4, 4), mask, np.float32)
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16])]
    if extra_output:
        outputs.append(helper.make_tensor_value_info(a, TensorProto.FLOAT, [1, 2, 4, 8]))
    graph = helper.make_graph(
        nodes, "attn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 48])], outputs,
        [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("scale_where", ["q", "both"])
def test_scale_moves_after_the_scores(scale_where):
    g = canonical_attention(optimize(onnx_to_graph(_attention_model(scale_where))))
    producer = g.producer()
    softmax = next(op for op in g.ops if op.type == "softmax")
    mul = producer[softmax.inputs[0]]
    assert mul.type == "mul" and producer[mul.inputs[0]].type == "matmul"
    scale = next(g.tensors[t].data for t in mul.inputs if g.tensors[t].is_const)
    assert float(scale.reshape(-1)[0]) == (0.25 if scale_where == "both" else 0.5)


def test_a_scaled_q_read_elsewhere_is_left_alone():
    g = optimize(onnx_to_graph(_attention_model("q", extra_output=True)))
    producer = g.producer()
    softmax = next(op for op in g.ops if op.type == "softmax")
    assert producer[softmax.inputs[0]].type == "matmul"  # the q * scale stays: the model outputs it


def test_huggingface_vit_through_torch_export_fuses_too(tmp_path):
    """The PyTorch route (FILE.py:FUNCTION) shares the pass: HuggingFace's separate q/k/v projections are
    stacked there as well, and its position ids (aten.arange + add on int64) are folded at import."""
    import torch
    from hf_vit import build

    from edgexf.frontends import load_model

    loaded = load_model(f"{Path(__file__).resolve().parents[1] / 'data' / 'hf_vit.py'}:build")
    fused, counts, _, _, plan = plan_for_board(
        optimize(loaded.graph), load_board("stm32f746"), "auto", MemoryOptions(exact_time_s=0)
    )
    assert counts == FUSED and not PIECES & {op.type for op in fused.ops}
    src = generate_c(fused, plan, tmp_path / "model", {"command": "test"})
    host = HostModel(fused, plan, build_host(src.dir, tmp_path / "host"))
    x = np.random.default_rng(0).standard_normal((3, 1, 3, 32, 32)).astype(np.float32)
    y = host.run(x)
    assert same_bits(y, host.reference(x))
    model, _ = build()
    with torch.no_grad():
        expected = np.stack([model(torch.from_numpy(s)).numpy() for s in x])
    assert np.abs(y - expected).max() <= REL_TOL * np.abs(expected).max()


@pytest.mark.parametrize("mask", [0.0, 0.25])
def test_an_all_zero_mask_goes_and_another_stays(mask):
    g = optimize(onnx_to_graph(_attention_model("q", mask=mask)))
    fused = plan_for_board(g, load_board("stm32f746"), "auto", MemoryOptions(exact_time_s=0))[0]
    types = {op.type for op in fused.ops}
    assert ("attention" in types) == (mask == 0.0), types
    assert ("add" in types) == (mask != 0.0), types

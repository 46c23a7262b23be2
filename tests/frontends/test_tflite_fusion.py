"""The bundled digits ViT's .tflite files (tests/data/tflite/: litert-torch, int8 by ai-edge-quantizer)
reach the fused kernels, as `edgexf compile` builds them (passes/optimize.py, then passes/fuse.py):
TFLite's decomposed LayerNorm (MEAN, SQUARED_DIFFERENCE, RSQRT, MUL, SUB, ADD), its sigmoid form of the
tanh GELU, and attention through BATCH_MATMUL with squeezed batch axes all become the fused ops the
PyTorch path gets, with the file's own quantization parameters on what is left.

int8: the fused ops round once where TFLite's op chain rounds at every step, and the fused attention
has no int8 scores or probabilities at all (edgexf/ir/kernels_q_attention.py), so edgexf departs from
tflite-micro by more than op by op (logits: up to 43 LSB on the 32 test images here, 19 with the
attention's int8 chain, against 9 op by op, i.e. with --no-fusion), while it is closer to the float
model (relative RMS error of the dequantized logits 0.163 here, 0.186 with the int8 chain, against
TFLM's 0.193).
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
from frontends import tflite_builders as B
from model_helpers import HostModel

from edgexf.codegen.generate import generate_c
from edgexf.compress.qmath import quantize
from edgexf.frontends import load_model
from edgexf.ir.reference import run_reference
from edgexf.passes.optimize import optimize
from edgexf.pipeline import MemoryOptions, plan_for_board
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_host

DATA = Path(__file__).resolve().parents[1] / "data" / "tflite"
# ln_linear 3: the two qkv projections and the final norm, sliced to the class token, into the head
FUSED = {"attention": 2, "token_mlp": 2, "ln_linear": 3, "patch_embed": 1}
PIECES = {"mean", "sub", "mul", "rsqrt", "sigmoid", "matmul", "softmax", "transpose", "conv2d", "concat"}


@pytest.fixture(scope="module")
def digits():
    d = np.load(DATA / "vit_digits_data.npz")
    return d["x_test"][:, None], d["y_test"]


def _fused_host(g, tmp_path) -> tuple[dict, HostModel]:
    fused, counts, _, _, plan = plan_for_board(
        g, load_board("stm32f746"), "auto", MemoryOptions(exact_time_s=0)
    )
    types = {t.removeprefix("q_") for t in collections.Counter(op.type for op in fused.ops)}
    assert counts == FUSED and not PIECES & types, types
    src = generate_c(fused, plan, tmp_path / "model", {"command": "test"})
    return counts, HostModel(fused, plan, build_host(src.dir, tmp_path / "host"))


def test_float32_file_fuses_and_matches_tflm(digits, tmp_path):
    x, _ = digits
    loaded = load_model(DATA / "vit_digits_float32.tflite")
    _, host = _fused_host(optimize(loaded.graph), tmp_path)
    y = host.run(x[:8])
    assert np.array_equal(y.view(np.uint32), host.reference(x[:8]).view(np.uint32))
    tflm = loaded.original(x[:8]).reshape(y.shape)
    assert np.abs(y - tflm).max() <= 1e-5 * np.abs(tflm).max()


def test_int8_file_fuses_with_its_own_parameters(digits, tmp_path):
    x, _ = digits
    data = (DATA / "vit_digits_int8.tflite").read_bytes()
    imp, q = B.edgexf_int8(data, recognized=True)
    for name in ("add_19", "add_41", "add_53", "add_63", "fully_connected_20", "batch_matmul_30"):
        assert q.tensors[name].quant == imp.quant.params[name], name  # the file's, on what is left
    _, host = _fused_host(q, tmp_path)
    xq = quantize(x[:8], q.tensors[q.inputs[0]].quant, "int8")
    y = host.run(xq)
    assert np.array_equal(y, host.reference(xq))  # the generated C is the fused graph's reference
    # fusion changes no bit but the attention's (its own arithmetic, measured in the next test)
    unfused = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]]
    assert np.array_equal(y.argmax(-1), unfused.argmax(-1))


def test_int8_fused_whole_model_against_tflm_and_float(digits):
    x, y = digits
    loaded = load_model(DATA / "vit_digits_int8.tflite")
    _, q = B.edgexf_int8((DATA / "vit_digits_int8.tflite").read_bytes(), recognized=True)
    xq = quantize(x, q.tensors[q.inputs[0]].quant, "int8")
    f, counts, *_ = plan_for_board(q, load_board("stm32f746"), "auto", MemoryOptions(exact_time_s=0))
    assert counts == FUSED  # the int8 attention's own arithmetic, as the board runs it
    mine = run_reference(f, {f.inputs[0]: xq})[f.outputs[0]].reshape(len(x), -1)
    tflm = loaded.original.run_int(xq).reshape(len(x), -1)
    lsb = np.abs(mine.astype(np.int64) - tflm)
    float_logits = load_model(DATA / "vit_digits_float32.tflite").original(x).reshape(len(x), -1)
    out = q.tensors[q.outputs[0]].quant

    def rel_rmse(logits):
        real = (logits.astype(np.float64) - out.zero_point) * out.scale
        return np.sqrt(((real - float_logits) ** 2).mean() / (float_logits**2).mean())

    print(
        f"\nfused int8 vs TFLM: max {lsb.max()} LSB; rel RMSE vs float {rel_rmse(mine):.4f} "
        f"(TFLM {rel_rmse(tflm):.4f})"
    )
    assert lsb.max() <= 64 and (mine.argmax(1) == tflm.argmax(1)).mean() >= 0.9
    assert rel_rmse(mine) <= 1.05 * rel_rmse(tflm)
    assert (mine.argmax(1) == y).mean() >= 0.9

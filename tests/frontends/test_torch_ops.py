"""Every op a compact ViT uses, one small module each: torch.export -> IR -> C compiled by host gcc.

For each: the C output is bit-identical to the IR's NumPy reference, and within 1e-5 (relative to
the output's scale; float32 kernels with their own exp/erf/tanh) of PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import Fn, compile_host, same_bits, torch_outputs
from torch import nn

F = nn.functional


CASES = {
    "conv2d_patch": (lambda: nn.Conv2d(3, 8, kernel_size=4, stride=4), (1, 3, 8, 12)),
    "conv2d_pad_stride": (lambda: nn.Conv2d(2, 5, kernel_size=3, stride=2, padding=1), (1, 2, 7, 9)),
    "conv2d_no_bias": (lambda: nn.Conv2d(1, 4, kernel_size=2, stride=2, bias=False), (1, 1, 6, 6)),
    "linear": (lambda: nn.Linear(24, 7), (1, 5, 24)),
    "linear_no_bias": (lambda: nn.Linear(9, 3, bias=False), (2, 9)),
    "matmul_const_rhs": (lambda: Fn(lambda x, w: x @ w, (6, 4)), (1, 3, 6)),
    "matmul_batched": (lambda: Fn(lambda x: x @ x.transpose(-2, -1)), (1, 3, 5, 4)),
    "layernorm": (lambda: nn.LayerNorm(16), (1, 6, 16)),
    "layernorm_no_affine": (lambda: nn.LayerNorm(10, elementwise_affine=False, eps=1e-6), (1, 4, 10)),
    "softmax_last": (lambda: Fn(lambda x: (x * 3).softmax(-1)), (1, 2, 5, 7)),
    "softmax_middle": (lambda: Fn(lambda x: x.softmax(1)), (1, 6, 3)),
    "gelu_erf": (lambda: nn.GELU(), (1, 4, 33)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (1, 4, 33)),
    "relu": (lambda: nn.ReLU(), (1, 50)),
    "add_residual": (lambda: Fn(lambda x: x + x.relu()), (1, 5, 8)),
    "add_pos_embed": (lambda: Fn(lambda x, p: x + p, (1, 5, 8)), (1, 5, 8)),
    "add_broadcast_row": (lambda: Fn(lambda x, p: x + p, (8,)), (1, 5, 8)),
    "sub_mul_div_scalar": (lambda: Fn(lambda x: (x - 0.5) * 0.25 / 3.0), (1, 3, 4)),
    "mul_broadcast_col": (lambda: Fn(lambda x, p: x * p, (5, 1)), (1, 5, 8)),
    "div_tensor": (lambda: Fn(lambda x, p: x / (p.abs() + 1), (1, 1, 8)), (1, 5, 8)),
    "mean_tokens": (lambda: Fn(lambda x: x.mean(dim=1)), (1, 9, 16)),
    "mean_keepdim": (lambda: Fn(lambda x: x.mean(dim=-1, keepdim=True)), (1, 4, 6)),
    "flatten_transpose": (lambda: Fn(lambda x: x.flatten(2).transpose(1, 2)), (1, 8, 3, 5)),
    "permute_5d": (lambda: Fn(lambda x: x.reshape(1, 4, 3, 2, 5).permute(2, 0, 3, 1, 4)), (1, 4, 30)),
    "cat_cls_token": (
        lambda: Fn(lambda x, c: torch.cat([c.expand(1, -1, -1), x], dim=1), (1, 1, 8)),
        (1, 5, 8),
    ),
    "cat_last_axis": (lambda: Fn(lambda x: torch.cat([x, x * 2], dim=-1)), (1, 3, 4)),
    "select_cls": (lambda: Fn(lambda x: x[:, 0]), (1, 5, 8)),
    "slice_tokens": (lambda: Fn(lambda x: x[:, 1:4]), (1, 5, 8)),
    "unbind_qkv": (lambda: Fn(lambda x: x.reshape(1, 3, 3, 4).unbind(1)[2] * 2), (1, 3, 12)),
    "sdpa": (lambda: Fn(lambda x: F.scaled_dot_product_attention(x, x * 0.5, x + 1)), (1, 2, 5, 4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_host_matches_reference_and_pytorch(case, tmp_path):
    torch.manual_seed(0)
    make, shape = CASES[case]
    module = make().eval()
    x = np.random.default_rng(1).standard_normal((3,) + shape).astype(np.float32) * 2
    model = compile_host(module, torch.from_numpy(x[0]), tmp_path)
    y_c = model.run(x)
    assert same_bits(y_c, model.reference(x)), "host C differs from the IR reference"
    y_t = torch_outputs(module, x)
    scale = max(float(np.abs(y_t).max()), 1e-30)
    assert np.abs(y_c - y_t).max() <= 1e-5 * scale, f"max error {np.abs(y_c - y_t).max()} (scale {scale})"

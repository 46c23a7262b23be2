"""LayerNorm's gamma and beta folded into the linear layer that reads it, at quantization time:

    y = layernorm(x) * gamma + beta;  out = y @ W^T + b
    =>  z = layernorm(x)  (no gamma, no beta);  out = z @ W'^T + b',  W' = W diag(gamma), b' = b + W beta

The integer LayerNorm then only maps each row affinely (edgexf_kernels.h, the form without gamma; about
half the instructions of the form with them), and the linear's per-output-channel int8 weights absorb
gamma. The normalized z gets its own calibrated range (calibrate() records it under normalized_name(y)),
so W' is quantized against what the integer graph really feeds it. Costs: none in flash for the
weights (W' replaces W, b' a bias the linear had or gains: m int32), and the LayerNorm's gamma and beta
(2 d int32) are gone.

Folded where the LayerNorm's output is read by one linear layer only (its input 0, a constant 2-D W),
is no graph output, is int8 and d <= 2^15 (the plain kernel's limit); any other LayerNorm keeps gamma
and beta.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Graph, Op

PLAIN_D_MAX = 1 << 15  # quant_norm_plain.c: |S| <= 2^30 and mean16 in two 32-bit divisions


def normalized_name(y: str) -> str:
    """The calibration key of a LayerNorm's normalized value (before gamma and beta) whose output is y."""
    return f"{y}.normalized"


def foldable(g: Graph, lo: dict[str, float], dtype: dict[str, str]) -> dict[str, Op]:
    """LayerNorm op name -> the linear op its gamma and beta fold into."""
    users, folds = g.consumers(), {}
    for op in g.ops:
        if op.type != "layernorm":
            continue
        y = op.outputs[0]
        lin = users[y][0] if len(users[y]) == 1 else None
        if lin is None or lin.type != "linear" or lin.inputs[0] != y or y in g.outputs:
            continue
        w = g.tensors[lin.inputs[1]]
        d = g.tensors[y].shape[-1]
        if not w.is_const or len(w.shape) != 2 or d > PLAIN_D_MAX or dtype.get(y) != "int8":
            continue
        if normalized_name(y) in lo:
            folds[op.name] = lin
    return folds


def folded_weights(g: Graph, ln: Op, lin: Op) -> tuple[np.ndarray, np.ndarray | None]:
    """(W', b') in float64: W diag(gamma), b + W beta (b' None where the linear has no bias and the
    LayerNorm no beta)."""
    _, gamma, beta = ln.inputs
    _, w, b = lin.inputs
    wt = np.asarray(g.tensors[w].data, np.float64)
    if gamma:
        wt_g = wt * np.asarray(g.tensors[gamma].data, np.float64)[None, :]
    else:
        wt_g = wt
    bias = np.asarray(g.tensors[b].data, np.float64) if b else None
    if beta:
        shift = wt @ np.asarray(g.tensors[beta].data, np.float64)
        bias = shift if bias is None else bias + shift
    return wt_g, bias

"""Integrated ops: what the fusion pass (edgexf/passes/fuse.py) makes of a ViT's op chains.

Each computes, one row (token, or query row of one head) at a time, exactly what its chain of plain
ops computes, so that no intermediate bigger than a row ever exists in memory (the float32 ln_linear
and token_mlp: two rows, so that each weight loaded serves both):

- ln_linear:  LayerNorm -> linear, per token (the normalized row lives in scratch)
- attention:  softmax(q k^T * scale) v per head and per query row, from the packed qkv matrix
              (a row of T scores in scratch; no T x T matrix)
- token_mlp:  x + fc2(act(fc1(LayerNorm(x)))) per token, written over x (the hidden row in scratch)
- patch_embed: conv2d(stride = kernel) -> tokens [+ class token] [+ position embedding], patch by
              patch, the tokens written over the image's consumed bytes (patch_embed_delta)

q_* are their integer forms, with the parameters of every op of the chain as attributes. The references
here are the chains' own references composed, so a fused graph gives the same numbers as the unfused
one bit for bit (float32 too: the C kernels keep each sum's order); tests/passes/test_fuse.py checks it,
except q_attention, which has an arithmetic of its own (no int8 scores, no int8 probabilities:
edgexf/ir/kernels_q_attention.py) and is checked against the float chain's output instead;
and the C kernels (firmware/kernels/fused.c, quant_fused.c) are checked against these references.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import kernels_q as KQ
from edgexf.ir import kernels_ref as K
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.kernel_choice import attention_scratch, block_scratch, patch_scratch, uses_dsp, uses_wide
from edgexf.ir.kernels_q_attention import attention_s8
from edgexf.ir.opdef import ITEMSIZE, OpDef, Spec, alias_last_axis, rows_of
from edgexf.ir.ops_q import layernorm_ref


def _check(op: Op, ok: bool, what: str) -> None:
    if not ok:
        raise GraphError(f"{op.describe()}: {what}")


def _act_f32(x: np.ndarray, act: str) -> np.ndarray:
    return K.relu_f32(x) if act == "relu" else K.gelu_f32(x, act.removeprefix("gelu_"))


# ---- ln_linear ------------------------------------------------------------------------------------


def _ln_linear_infer(op, s):
    (x, _), (w, _) = s[0], s[3]
    _check(op, len(w) == 2 and x[-1] == w[1], f"x {list(x)} @ W {list(w)}^T does not fit")
    return [(x[:-1] + (w[0],), "float32" if op.type == "ln_linear" else "int8")]


def _ln_linear_ref(op, a, s):
    x, gamma, beta, w, b = a
    return [K.linear_f32(K.layernorm_f32(x, gamma, beta, op.attrs["eps"]), w, b)]


def _q_ln_linear_ref(op, a, s):
    x, gamma, beta, w, bias, mult, shift = a
    at = op.attrs
    h = layernorm_ref(x, gamma, beta, at, "ln_")
    return [KQ.linear_s8(h, w, bias, mult, shift, at["out_zp"])]


def _ln_linear_scratch(op, s):
    k = s[0][0][-1]
    if uses_dsp(op):  # a block of normalized rows, and their widening
        return block_scratch(op, k, [(k, s[3][0][0])], rows_of(s[0]))
    if op.type == "ln_linear":  # two normalized rows (the float kernel runs rows in pairs)
        return min(rows_of(s[0]), 2) * k * 4
    return k  # one normalized row


# ---- attention ------------------------------------------------------------------------------------


def _attention_infer(op, s):
    (qkv, dtype) = s[0]
    heads = op.attrs["heads"]
    _check(op, len(qkv) >= 2 and qkv[-1] % (3 * heads) == 0, f"qkv {list(qkv)} is not 3 x {heads} heads")
    return [(qkv[:-1] + (qkv[-1] // 3,), dtype)]


def _split_heads(qkv: np.ndarray, heads: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., T, 3D) -> q, k, v each (..., H, T, dh), as reshape(T, 3, H, dh) + permute + unbind."""
    t, d3 = qkv.shape[-2:]
    x = qkv.reshape(qkv.shape[:-2] + (t, 3, heads, d3 // (3 * heads)))
    x = np.moveaxis(x, -3, 0)  # (3, ..., T, H, dh)
    q, k, v = (np.swapaxes(x[i], -3, -2) for i in range(3))  # (..., H, T, dh)
    return q, k, v


def _merge_heads(o: np.ndarray) -> np.ndarray:
    """(..., H, T, dh) -> (..., T, H * dh)."""
    o = np.swapaxes(o, -3, -2)
    return np.ascontiguousarray(o).reshape(o.shape[:-2] + (o.shape[-2] * o.shape[-1],))


def _attention_ref(op, a, s):
    qkv, scale = a
    q, k, v = _split_heads(qkv, op.attrs["heads"])
    scores = K.matmul_f32(q, np.swapaxes(k, -1, -2))
    if scale is not None:
        scores = K.mul_f32(scores, scale)
    return [_merge_heads(K.matmul_f32(K.softmax_f32(scores), v))]


def _q_attention_ref(op, a, s):
    qkv, exp_table = a
    at = op.attrs
    q, k, v = _split_heads(qkv, at["heads"])
    return [
        _merge_heads(
            attention_s8(q, k, v, exp_table, at["q_zp"], at["k_zp"], at["v_zp"], at["exp"], at["av"])
        )
    ]


def _attention_scratch(op, s):
    (*_, t, d3), dtype = s[0]
    if uses_dsp(op):  # a head's keys and values widened to int16, and two rows of each step
        return attention_scratch(t, d3 // (3 * op.attrs["heads"]))
    return t * (4 if op.type == "q_attention" else ITEMSIZE[dtype])  # one row of T scores (int32 or float)


def _attention_macs(op, i, o):
    t, d = o[0][0][-2], o[0][0][-1]
    return 2 * t * t * d


# ---- token_mlp ------------------------------------------------------------------------------------


def _token_mlp_infer(op, s):
    (x, xd), (w1, _), (w2, _) = s[0], s[3], s[8 if op.type == "q_token_mlp" else 5]
    _check(op, len(w1) == 2 and w1[1] == x[-1], f"fc1 {list(w1)} does not take rows of {x[-1]}")
    _check(op, len(w2) == 2 and w2 == (x[-1], w1[0]), f"fc2 {list(w2)} does not map {w1[0]} to {x[-1]}")
    return [(x, xd if op.type == "token_mlp" else op.attrs["res"]["dtype"])]


def _token_mlp_ref(op, a, s):
    x, gamma, beta, w1, b1, w2, b2 = a
    h = _act_f32(K.linear_f32(K.layernorm_f32(x, gamma, beta, op.attrs["eps"]), w1, b1), op.attrs["act"])
    return [K.add_f32(x, K.linear_f32(h, w2, b2))]


def _q_token_mlp_ref(op, a, s):
    x, gamma, beta, w1, b1, m1, s1, table, w2, b2, m2, s2 = a
    at = op.attrs
    h = layernorm_ref(x, gamma, beta, at, "ln_")
    h = KQ.lut_s8(KQ.linear_s8(h, w1, b1, m1, s1, at["fc1_zp"]), table)
    y = KQ.linear_s8(h, w2, b2, m2, s2, at["fc2_zp"])
    r = at["res"]
    return [KQ.add_q(x, y, r["a_zp"], r["b_zp"], r["ma"], r["mb"], r["shift"], r["out_zp"], r["dtype"])]


def _token_mlp_scratch(op, s):
    d, hidden = s[0][0][-1], s[3][0][0]
    if uses_dsp(op):  # a block of each row buffer, and the widening of the wider linear input
        return block_scratch(op, 2 * d + hidden, [(d, hidden), (hidden, d)], rows_of(s[0]))
    if op.type == "token_mlp":  # normalized, hidden and fc2 rows, for two rows at a time
        return min(rows_of(s[0]), 2) * (2 * d + hidden) * 4
    return 2 * d + hidden


def _token_mlp_macs(op, i, o):
    rows, d, hidden = rows_of(o[0]), o[0][0][-1], i[3][0][0]
    return 2 * rows * d * hidden


# ---- patch_embed ----------------------------------------------------------------------------------


def _patch_embed_infer(op, s):
    (x, _), (w, _) = s[0], s[1]
    p = op.attrs["patch"]
    _check(op, len(x) == 4 and x[0] == 1 and len(w) == 4 and w[1] == x[1], "expects x (1, C, H, W)")
    _check(op, w[2:] == (p, p) and x[2] % p == 0 and x[3] % p == 0, f"image not in {p}x{p} patches")
    tokens = (x[2] // p) * (x[3] // p) + (1 if op.attrs["cls"] else 0)
    return [((1, tokens, w[0]), "float32" if op.type == "patch_embed" else op.attrs["dtype"])]


def _tokens(y: np.ndarray, cls: np.ndarray | None) -> np.ndarray:
    """conv output (..., 1, D, nh, nw) -> (..., 1, nh*nw [+1], D), the class token first."""
    t = np.swapaxes(y.reshape(y.shape[:-2] + (-1,)), -1, -2)
    if cls is not None:
        t = np.concatenate([np.broadcast_to(cls, t.shape[:-2] + (1, t.shape[-1])), t], axis=-2)
    return np.ascontiguousarray(t)


def _patch_embed_ref(op, a, s):
    x, w, b, cls, pos = a
    p = op.attrs["patch"]
    y = K.conv2d_f32(x.reshape((-1,) + x.shape[-3:]), w, b, p, 0)
    t = _tokens(y.reshape(x.shape[:-3] + y.shape[1:]), cls)
    return [K.add_f32(t, pos) if pos is not None else t]


def _q_patch_embed_ref(op, a, s):
    x, w, bias, mult, shift, cls, pos = a
    at = op.attrs
    p = at["patch"]
    y = KQ.conv2d_s8(x.reshape((-1,) + x.shape[-3:]), w, bias, mult, shift, p, 0, at["in_zp"], at["conv_zp"])
    t = _tokens(y.reshape(x.shape[:-3] + y.shape[1:]), cls)
    if pos is None:
        return [t]
    r = at["pos_add"]
    return [KQ.add_q(t, pos, r["a_zp"], r["b_zp"], r["ma"], r["mb"], r["shift"], r["out_zp"], r["dtype"])]


def patch_embed_delta(op: Op, ins: list[Spec | None], outs: list[Spec]) -> list[tuple[int, int]]:
    """Where the tokens may start: `delta` bytes below the image (0: at the image's first byte).

    The kernels read the image (C, H, W) patch row by patch row: row r reads image rows [r p, (r+1) p)
    of every channel, and only then writes that row's tokens from scratch; the class token comes last,
    once the whole image is read. After row r the image bytes read and no longer needed are, in each
    channel, its first (r+1) p W pixels; the only such run that starts at the image's first byte is
    channel 0's, (r+1) p W s_x bytes. The tokens written by then, which end (cls + (r+1) W/p) D s_y
    bytes from the tokens' start, must stay inside it, unless r is the last row (then the whole image
    has been read):
        delta = max(0, max over r < H/p - 1 of (cls + (r+1) W/p) D s_y - (r+1) p W s_x).
    So the tokens start at the image (delta 0) when D s_y <= p^2 s_x less the class token's share: an
    int8 MCUFormer (D 224 <= 400 pixels of a 20 x 20 patch) writes its 32,480 B of tokens over the first
    third of its 172,800 B image, whose other bytes are free after the op (lifetimes.py: a rest). Tokens
    wider than a patch's channel-0 pixels (int16 tokens there) start delta bytes below the image, still
    overlapping it; a one-channel image smaller than its tokens lies inside them. Channels 1 and 2 are
    never written before they are read whatever delta is: they lie above channel 0."""
    (_, _, h, wd), (_, _, d) = ins[0][0], outs[0][0]
    p, si, so = op.attrs["patch"], ITEMSIZE[ins[0][1]], ITEMSIZE[outs[0][1]]
    nw, cls = wd // p, 1 if op.attrs["cls"] else 0
    delta = max(((cls + (r + 1) * nw) * d * so - (r + 1) * p * wd * si for r in range(h // p - 1)), default=0)
    return [(0, max(0, delta))]


def _patch_embed_scratch(op, s):
    c, wd, d, p = s[0][0][1], s[0][0][3], s[1][0][0], op.attrs["patch"]
    out_bytes = 4 if op.type == "patch_embed" else ITEMSIZE[op.attrs["dtype"]]
    if uses_wide(op):  # exf_patch_embed_s8_w16: also two patches widened, their sums and one's taps
        return patch_scratch(c * p * p, wd // p, d, out_bytes)
    return (wd // p) * d * out_bytes  # one patch row of tokens


def _patch_embed_macs(op, i, o):
    c, p = i[0][0][1], op.attrs["patch"]
    return (o[0][0][1] - (1 if op.attrs["cls"] else 0)) * o[0][0][2] * c * p * p


FUSED_OPS: dict[str, OpDef] = {
    "ln_linear": OpDef(
        _ln_linear_infer,
        _ln_linear_ref,
        lambda op, i, o: rows_of(o[0]) * i[3][0][1] * i[3][0][0],
        "LayerNorm then linear, per token: x, gamma, beta, W, b",
        alias=alias_last_axis,
        scratch=_ln_linear_scratch,
    ),
    "q_ln_linear": OpDef(
        _ln_linear_infer,
        _q_ln_linear_ref,
        lambda op, i, o: rows_of(o[0]) * i[3][0][1] * i[3][0][0],
        "q_layernorm then q_linear, per token: x, gamma, beta (or none: folded into W), W, bias, mult, shift",
        alias=alias_last_axis,
        scratch=_ln_linear_scratch,
    ),
    "attention": OpDef(
        _attention_infer,
        _attention_ref,
        _attention_macs,
        "softmax(q k^T * scale) v per head and query row, from packed qkv (T, 3 x H x dh): qkv, scale",
        scratch=_attention_scratch,
    ),
    "q_attention": OpDef(
        _attention_infer,
        _q_attention_ref,
        _attention_macs,
        "integer attention per head and query row (one score requantization, unnormalized int16 weights, "
        "1/sum in the output requantization): qkv, exp table",
        scratch=_attention_scratch,
    ),
    "token_mlp": OpDef(
        _token_mlp_infer,
        _token_mlp_ref,
        _token_mlp_macs,
        "x + fc2(act(fc1(LayerNorm(x)))) per token: x, gamma, beta, W1, b1, W2, b2",
        alias=alias_last_axis,
        scratch=_token_mlp_scratch,
    ),
    "q_token_mlp": OpDef(
        _token_mlp_infer,
        _q_token_mlp_ref,
        _token_mlp_macs,
        "integer token MLP with residual: x, gamma, beta, W1, bias1, mult1, shift1, act table, W2, ...",
        alias=alias_last_axis,
        scratch=_token_mlp_scratch,
    ),
    "patch_embed": OpDef(
        _patch_embed_infer,
        _patch_embed_ref,
        _patch_embed_macs,
        "patchify conv -> tokens [+ class token] [+ position embedding]: x, W, b, cls, pos",
        alias=patch_embed_delta,
        scratch=_patch_embed_scratch,
    ),
    "q_patch_embed": OpDef(
        _patch_embed_infer,
        _q_patch_embed_ref,
        _patch_embed_macs,
        "integer patch embedding: x, W, bias, mult, shift, cls, pos",
        alias=patch_embed_delta,
        scratch=_patch_embed_scratch,
    ),
}

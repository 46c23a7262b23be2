"""ctypes wrappers for the integer kernels (firmware/kernels/quant*.c) in the host library that
conftest.py builds: NumPy integer arrays in, NumPy integer arrays out. Argument order follows the
mirrors in edgexf/ir/kernels_q.py, so a test can call both the same way."""

from __future__ import annotations

import ctypes

import numpy as np
from firmware.kernel_helpers import bind, i32, params, ptr, strides4

from edgexf.ir.kernel_choice import attention_scratch, conv_scratch, matmul_scratch

P = ctypes.c_void_p
I32 = ctypes.c_int32
I64 = ctypes.c_int64
SIGNATURES = {  # the parameter struct by reference (ctypes.byref), then the activations
    "exf_linear_s8": [P] * 3,
    "exf_conv2d_s8": [P] * 3,
    "exf_matmul_s8": [P] * 4,
    "exf_matmul_s8_dsp": [P] * 5,
    "exf_attention_s8": [P] * 4,
    "exf_attention_s8_dsp": [P] * 4,
    "exf_conv2d_s8_dsp": [P] * 4,
    "exf_lut_s8": [P] * 3,
    "exf_softmax_s8": [P] * 3,
    "exf_layernorm_s8": [P] * 3,
    "exf_layernorm_s16": [P] * 3,
    "exf_add_q": [P] * 4,
    "exf_mul_q": [P] * 4,
    "exf_mean_s8": [P] * 3,
    "exf_requant_q": [P] * 3,
    **{f"map_{fn}": [P, P, I32] for fn in ("isqrt64", "div_2p61", "bitlen64")},  # conftest's test shim
    "add_row": [P, I32, I32, P, I32, I32, P, I32, I32, P, P],  # conftest's test shim
}


def mul_params(a, b, y, sh, sa, sb, a_zp, b_zp, mult, shift, out_zp) -> ctypes.Structure:
    """exf_mul_q / exf_mul_qq's parameter struct for a * b -> y broadcast as (sh, sa, sb)."""
    sizes = {"a_bytes": a.itemsize, "b_bytes": b.itemsize, "y_bytes": y.itemsize}
    terms = {"a_zp": a_zp, "b_zp": b_zp, "mult": mult, "shift": shift, "out_zp": out_zp}
    return params("exf_mul_q_params_t", shape=sh, sa=sa, sb=sb, **sizes, **terms)


def _arr(a, dtype) -> np.ndarray:
    return np.require(a, dtype, "C")


def _out(shape, dtype, out: np.ndarray | None) -> np.ndarray:
    """A fresh output, or `out` (to call a kernel in place), which must be contiguous and of dtype."""
    if out is None:
        return np.empty(shape, dtype)
    assert out.dtype == dtype and out.flags.c_contiguous and out.shape == tuple(shape)
    return out


class QKernels:
    """The integer kernels of the compiled library; each method calls one C kernel."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        bind(lib, SIGNATURES)

    def helper(self, fn: str, x) -> np.ndarray:
        """quant_common.h's exfq_<fn> on every element of uint64 x: fn in isqrt64, div_2p61, bitlen64."""
        x = _arr(x, np.uint64)
        y = np.empty(x.shape, np.uint64 if fn == "isqrt64" else np.int64)
        getattr(self.lib, f"map_{fn}")(ptr(x), ptr(y), x.size)
        return y

    def linear(self, x, w, bias, mult, shift, out_zp) -> np.ndarray:
        x, w = _arr(x, np.int8), _arr(w, np.int8)
        bias, mult, shift = None if bias is None else i32(bias), i32(mult), i32(shift)
        (rows, k), m = x.shape, w.shape[0]
        y = np.empty((rows, m), np.int8)
        fc = {"w": w, "bias": bias, "mult": mult, "shift": shift, "out_zp": out_zp}
        p = params("exf_linear_q_params_t", fc=fc, rows=rows, k=k, m=m, x_bytes=1, y_bytes=1)
        self.lib.exf_linear_s8(ctypes.byref(p), ptr(x), ptr(y))
        return y

    def conv2d(
        self, x, w, bias, mult, shift, stride, padding, in_zp, out_zp, dilation=(1, 1), groups=1, dsp=False
    ) -> np.ndarray:
        """padding: (ph, pw) or (top, left, bottom, right). dsp: exf_conv2d_s8_dsp, with the scratch
        kernel_choice.conv_scratch sizes, followed by guard bytes it must not touch."""
        x, w = _arr(x, np.int8), _arr(w, np.int8)
        bias, mult, shift = None if bias is None else i32(bias), i32(mult), i32(shift)
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        (sh, sw), (dh, dw) = stride, dilation
        pt, pl, pb, pr = padding if len(padding) == 4 else (*padding, *padding)
        oh, ow = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
        y = np.empty((n, o, oh, ow), np.int8)
        geometry = dict(n=n, c=c, h=h, wd=wd, o=o, kh=kh, kw=kw, sh=sh, sw=sw, pt=pt, pl=pl, dh=dh, dw=dw)
        p = params("exf_conv2d_q_params_t", w=w, bias=bias, mult=mult, shift=shift, **geometry, groups=groups,
                   oh=oh, ow=ow, in_zp=in_zp, out_zp=out_zp)  # fmt: skip
        if dsp:
            size = conv_scratch(w.shape, groups, (oh, ow), stride, dilation)
            scratch = np.full(size // 4 + 16, 0x5A5A5A5A, np.uint32)
            self.lib.exf_conv2d_s8_dsp(ctypes.byref(p), ptr(x), ptr(y), ptr(scratch))
            assert np.all(scratch[-16:] == 0x5A5A5A5A), "exf_conv2d_s8_dsp wrote past its scratch"
        else:
            self.lib.exf_conv2d_s8(ctypes.byref(p), ptr(x), ptr(y))
        return y

    def matmul(self, a, b, a_zp, b_zp, mult, shift, out_zp, dsp=False) -> np.ndarray:
        """a (ba, m, k) @ b (bb, k, n) with ba, bb equal or 1 (stride 0 broadcasts). dsp: exf_matmul_s8_dsp,
        with the scratch kernel_choice.matmul_scratch sizes, followed by guard bytes it must not touch."""
        a, b = _arr(a, np.int8), _arr(b, np.int8)
        (ba, m, k), (bb, _, n) = a.shape, b.shape
        batch = max(ba, bb)
        y = np.empty((batch, m, n), np.int8)
        sa, sb = (m * k if ba > 1 else 0), (k * n if bb > 1 else 0)
        p = params("exf_matmul_q_params_t", batch=batch, m=m, k=k, n=n, a_batch_stride=sa, b_batch_stride=sb,
                   a_zp=a_zp, b_zp=b_zp, mult=mult, shift=shift, out_zp=out_zp)  # fmt: skip
        if dsp:
            scratch = np.full(matmul_scratch(m, k, n) // 4 + 16, 0x5A5A5A5A, np.uint32)
            self.lib.exf_matmul_s8_dsp(ctypes.byref(p), ptr(a), ptr(b), ptr(y), ptr(scratch))
            assert np.all(scratch[-16:] == 0x5A5A5A5A), "exf_matmul_s8_dsp wrote past its scratch"
        else:
            self.lib.exf_matmul_s8(ctypes.byref(p), ptr(a), ptr(b), ptr(y))
        return y

    def attention(self, qkv, heads, exp_table, q_zp, k_zp, v_zp, exp_rq, av, dsp=False) -> np.ndarray:
        """qkv (t, 3 heads dh) int8 -> (t, heads dh): exf_attention_s8, or (dsp) exf_attention_s8_dsp with
        the scratch kernel_choice.attention_scratch sizes, followed by guard bytes it must not touch."""
        qkv, table = _arr(qkv, np.int8), _arr(exp_table, np.int16)
        t, d3 = qkv.shape
        dh = d3 // (3 * heads)
        y = np.empty((t, heads * dh), np.int8)
        p = params("exf_attention_q_params_t", exp_table=table, t=t, heads=heads, dh=dh, q_zp=q_zp, k_zp=k_zp,
                   v_zp=v_zp, exp_mult=exp_rq[0], exp_shift=exp_rq[1], av_mult=av[0], av_shift=av[1],
                   out_zp=av[2])  # fmt: skip
        if dsp:
            scratch = np.full(attention_scratch(t, dh) // 4 + 16, 0x5A5A5A5A, np.uint32)
            self.lib.exf_attention_s8_dsp(ctypes.byref(p), ptr(qkv), ptr(y), ptr(scratch))
            assert np.all(scratch[-16:] == 0x5A5A5A5A), "exf_attention_s8_dsp wrote past its scratch"
        else:
            scores = np.empty(t, np.int32)
            self.lib.exf_attention_s8(ctypes.byref(p), ptr(qkv), ptr(y), ptr(scores))
        return y

    def lut(self, x, table, out=None) -> np.ndarray:
        x = _arr(x, np.int8) if out is None else x
        y, table = _out(x.shape, np.int8, out), _arr(table, np.int8)
        self.lib.exf_lut_s8(ctypes.byref(params("exf_lut_params_t", table=table, n=x.size)), ptr(x), ptr(y))
        return y

    def softmax(self, x, exp_table, out=None) -> np.ndarray:
        x = _arr(x, np.int8) if out is None else x
        y, exp_table = _out(x.shape, np.int8, out), i32(exp_table)
        p = params("exf_softmax_q_params_t", exp_table=exp_table, rows=x.shape[0], n=x.shape[1])
        self.lib.exf_softmax_s8(ctypes.byref(p), ptr(x), ptr(y))
        return y

    def layernorm(self, x, gamma, beta, eps_term, gshift, out_zp, out=None) -> np.ndarray:
        """exf_layernorm_s8 or exf_layernorm_s16 by x's dtype; x (rows, d)."""
        x = np.asarray(x)
        assert x.dtype in (np.int8, np.int16) and x.flags.c_contiguous
        y, gamma, beta = _out(x.shape, np.int8, out), i32(gamma), i32(beta)
        fn = self.lib.exf_layernorm_s8 if x.dtype == np.int8 else self.lib.exf_layernorm_s16
        ln = {"gamma": gamma, "beta": beta, "eps_term": eps_term, "gshift": gshift, "out_zp": out_zp}
        fn(
            ctypes.byref(params("exf_layernorm_q_params_t", ln=ln, rows=x.shape[0], d=x.shape[1])),
            ptr(x),
            ptr(y),
        )
        return y

    def layernorm_plain(self, x, eps_term, mult, mshift, out_zp, out=None) -> np.ndarray:
        """exf_layernorm_s8 or _s16 without gamma and beta (gamma NULL: mult, mshift); x (rows, d)."""
        x = np.asarray(x)
        assert x.dtype in (np.int8, np.int16) and x.flags.c_contiguous
        y = _out(x.shape, np.int8, out)
        fn = self.lib.exf_layernorm_s8 if x.dtype == np.int8 else self.lib.exf_layernorm_s16
        ln = {"gamma": None, "beta": None, "eps_term": eps_term, "mult": mult, "mshift": mshift}
        ln["out_zp"] = out_zp
        fn(
            ctypes.byref(params("exf_layernorm_q_params_t", ln=ln, rows=x.shape[0], d=x.shape[1])),
            ptr(x),
            ptr(y),
        )
        return y

    def _broadcast(self, a, b, out_dtype, out):
        shape = np.broadcast_shapes(a.shape, b.shape)
        assert len(shape) <= 4
        y = _out(shape, np.dtype(out_dtype), out)
        shape4 = (1,) * (4 - len(shape)) + tuple(shape)
        return y, i32(shape4), strides4(a, shape4), strides4(b, shape4)

    def add(self, a, b, a_zp, b_zp, ma, mb, shift, out_zp, out_dtype, out=None) -> np.ndarray:
        """exf_add_q with NumPy broadcasting (rank <= 4); a, b int8 or int16 arrays (kept as given)."""
        a, b = np.asarray(a), np.asarray(b)
        assert a.flags.c_contiguous and b.flags.c_contiguous
        y, sh, sa, sb = self._broadcast(a, b, out_dtype, out)
        add = {"a_zp": a_zp, "b_zp": b_zp, "ma": ma, "mb": mb, "shift": shift, "out_zp": out_zp}
        p = params("exf_add_q_params_t", shape=sh, sa=sa, sb=sb, a_bytes=a.itemsize, b_bytes=b.itemsize,
                   y_bytes=y.itemsize, add=add)  # fmt: skip
        self.lib.exf_add_q(ctypes.byref(p), ptr(a), ptr(b), ptr(y))
        return y

    def add_row(self, a, b, a_zp, b_zp, ma, mb, shift, out_zp, out_dtype, step=(1, 1)):
        """The fused kernels' residual add (exfq_add_row) on 1-d a, b read every step[0], step[1] elements:
        returns (y, the path exfq_add_prepare chose: 0 hi, 1 lo, 2 wide)."""
        a, b = np.asarray(a), np.asarray(b)
        assert a.ndim == b.ndim == 1 and a.flags.c_contiguous and b.flags.c_contiguous
        n = len(range(0, a.size, step[0])) if step[0] else len(range(0, b.size, step[1]))
        y, add, path = np.empty(n, out_dtype), i32([a_zp, b_zp, ma, mb, shift, out_zp]), np.zeros(1, np.int32)
        self.lib.add_row(ptr(a), a.itemsize, step[0], ptr(b), b.itemsize, step[1], ptr(y), y.itemsize, n,
                         ptr(add), ptr(path))  # fmt: skip
        return y, int(path[0])

    def mul(self, a, b, a_zp, b_zp, mult, shift, out_zp, out_dtype, out=None) -> np.ndarray:
        a = _arr(a, np.int8) if out is None or out is not a else a
        b = _arr(b, np.int8) if out is None or out is not b else b
        y, sh, sa, sb = self._broadcast(a, b, out_dtype, out)
        p = mul_params(a, b, y, sh, sa, sb, a_zp, b_zp, mult, shift, out_zp)
        self.lib.exf_mul_q(ctypes.byref(p), ptr(a), ptr(b), ptr(y))
        return y

    def mean(self, x, in_zp, mult, shift, out_zp) -> np.ndarray:
        """x (outer, n, inner) -> (outer, inner)."""
        x = _arr(x, np.int8)
        outer, n, inner = x.shape
        y = np.empty((outer, inner), np.int8)
        p = params("exf_mean_q_params_t", outer=outer, n=n, inner=inner, in_zp=in_zp, mult=mult, shift=shift,
                   out_zp=out_zp)  # fmt: skip
        self.lib.exf_mean_s8(ctypes.byref(p), ptr(x), ptr(y))
        return y

    def requant(self, x, in_zp, mult, shift, out_zp, out_dtype, out=None) -> np.ndarray:
        x = np.asarray(x)
        assert x.dtype in (np.int8, np.int16) and x.flags.c_contiguous
        y = _out(x.shape, np.dtype(out_dtype), out)
        p = params("exf_requant_q_params_t", x_bytes=x.itemsize, y_bytes=y.itemsize, n=x.size, in_zp=in_zp,
                   mult=mult, shift=shift, out_zp=out_zp)  # fmt: skip
        self.lib.exf_requant_q(ctypes.byref(p), ptr(x), ptr(y))
        return y

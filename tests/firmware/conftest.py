"""Builds firmware/kernels/*.c with host gcc into a shared library (once per session) and wraps each
kernel for ctypes: NumPy arrays in, NumPy arrays out. The float32 kernels are wrapped here (fixture ck),
the integer kernels in qkernels.py (fixture qk)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import bind, build_shim_library, i32, ptr, strides4
from firmware.qkernels import QKernels

# The flags the firmware uses: no FMA contraction, no fast-math; -Werror so host warnings fail here.
CFLAGS = ["-std=c11", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion"]

# Test-only: map a scalar kernel over an array in one ctypes call (a call per element is slow).
SHIM_C = r"""
#include "edgexf_kernels.h"
#define MAP(fn) \
    void map_##fn(const float *x, float *y, int32_t n) { \
        for (int32_t i = 0; i < n; i++) y[i] = exf_##fn(x[i]); \
    }
MAP(expf)
MAP(erff)
MAP(tanhf)
MAP(sqrtf)

/* the integer kernels' static helpers, exposed for exact tests */
#include "quant_common.h"
void map_isqrt64(const uint64_t *x, uint64_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_isqrt64(x[i]);
}
void map_div_2p61(const uint64_t *x, int64_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_div_2p61(x[i]);
}
void map_bitlen64(const uint64_t *x, int64_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_bitlen64(x[i]);
}

/* the fused kernels' residual add (quant_add.h) on its own; returns the path exfq_add_prepare chose */
#include "quant_add.h"
void add_row(const void *a, int32_t a_bytes, int32_t sa, const void *b, int32_t b_bytes, int32_t sb, void *y,
             int32_t y_bytes, int32_t n, const int32_t *add, int32_t *path) {
    const exf_add_terms_t t = {add[0], add[1], add[2], add[3], add[4], add[5]};
    const exfq_add_t p = exfq_add_prepare(a_bytes, b_bytes, &t);
    exfq_add_row(&p, a, a_bytes, sa, b, b_bytes, sb, y, y_bytes, n);
    *path = p.path;
}

/* exfq_mul_prepare's choice (quant_mul.h): {path, ls} */
#include "quant_mul.h"
void mul_path(int32_t a_bytes, int32_t b_bytes, int32_t a_zp, int32_t b_zp, int32_t mult, int32_t shift,
              int32_t out_zp, int32_t *out) {
    const exfq_mul_t p = exfq_mul_prepare(a_bytes, b_bytes, a_zp, b_zp, mult, shift, out_zp);
    out[0] = p.path;
    out[1] = p.ls;
}
"""

P = ctypes.c_void_p
I32 = ctypes.c_int32
SIGNATURES = {
    "exf_linear_f32": [P, P, P, P, I32, I32, I32],
    "exf_matmul_f32": [P, P, P] + [I32] * 6,
    "exf_conv2d_f32": [P, P, P, P] + [I32] * 16,
    "exf_layernorm_f32": [P, P, P, P, I32, I32, ctypes.c_float],
    "exf_softmax_f32": [P, P, I32, I32],
    "exf_gelu_f32": [P, P, I32],
    "exf_gelu_tanh_f32": [P, P, I32],
    "exf_relu_f32": [P, P, I32],
    "exf_mean_f32": [P, P, I32, I32, I32],
    **{f"exf_{op}_f32": [P, P, P, P, P, P] for op in ("add", "sub", "mul", "div")},
    "exf_where_f32": [P] * 8,
    "exf_copy_rows": [P, I32, P, I32, I32, I32],
    "exf_permute": [P, P, I32, I32, P, P],
    **{f"map_{fn}": [P, P, I32] for fn in ("expf", "erff", "tanhf", "sqrtf")},
}


def _f32(a) -> np.ndarray:
    return np.require(a, np.float32, "C")  # np.ascontiguousarray would make a 0-d array 1-d


def _out(shape, out: np.ndarray | None) -> np.ndarray:
    """A fresh output, or `out` (to call a kernel in place), which must be contiguous float32."""
    if out is None:
        return np.empty(shape, np.float32)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape == tuple(shape)
    return out


class CKernels:
    """The compiled kernel library; each method calls one C kernel on NumPy arrays."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        bind(lib, SIGNATURES)

    def map(self, fn: str, x) -> np.ndarray:
        """exf_<fn> on every element: fn in expf, erff, tanhf, sqrtf."""
        x = _f32(x)
        y = np.empty_like(x)
        getattr(self.lib, f"map_{fn}")(ptr(x), ptr(y), x.size)
        return y

    def linear(self, x, w, b=None) -> np.ndarray:
        x, w = _f32(x), _f32(w)
        b = None if b is None else _f32(b)
        rows, k = x.shape
        y = np.empty((rows, w.shape[0]), np.float32)
        self.lib.exf_linear_f32(ptr(x), ptr(w), ptr(b), ptr(y), rows, k, w.shape[0])
        return y

    def matmul(self, a, b) -> np.ndarray:
        """a (ba, m, k) @ b (bb, k, n) with ba, bb equal or 1 (stride 0 broadcasts)."""
        a, b = _f32(a), _f32(b)
        (ba, m, k), (bb, _, n) = a.shape, b.shape
        batch = max(ba, bb)
        y = np.empty((batch, m, n), np.float32)
        sa, sb = (m * k if ba > 1 else 0), (k * n if bb > 1 else 0)
        self.lib.exf_matmul_f32(ptr(a), ptr(b), ptr(y), batch, m, k, n, sa, sb)
        return y

    def conv2d(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1) -> np.ndarray:
        """padding: (ph, pw) or (top, left, bottom, right)."""
        x, w = _f32(x), _f32(w)
        b = None if b is None else _f32(b)
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        (sh, sw), (dh, dw) = stride, dilation
        pt, pl, pb, pr = padding if len(padding) == 4 else (*padding, *padding)
        oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
        ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
        y = np.empty((n, o, oh, ow), np.float32)
        self.lib.exf_conv2d_f32(
            ptr(x), ptr(w), ptr(b), ptr(y), n, c, h, wd, o, kh, kw, sh, sw, pt, pl, dh, dw, groups, oh, ow
        )
        return y

    def layernorm(self, x, gamma=None, beta=None, eps=1e-5, out=None) -> np.ndarray:
        x = _f32(x) if out is None else x
        gamma = None if gamma is None else _f32(gamma)
        beta = None if beta is None else _f32(beta)
        y = _out(x.shape, out)
        self.lib.exf_layernorm_f32(ptr(x), ptr(gamma), ptr(beta), ptr(y), x.shape[0], x.shape[1], eps)
        return y

    def softmax(self, x, out=None) -> np.ndarray:
        x = _f32(x) if out is None else x
        y = _out(x.shape, out)
        self.lib.exf_softmax_f32(ptr(x), ptr(y), x.shape[0], x.shape[1])
        return y

    def unary(self, name: str, x, out=None) -> np.ndarray:
        """exf_<name>_f32 for name in gelu, gelu_tanh, relu."""
        x = _f32(x) if out is None else x
        y = _out(x.shape, out)
        getattr(self.lib, f"exf_{name}_f32")(ptr(x), ptr(y), x.size)
        return y

    def mean(self, x) -> np.ndarray:
        """x (outer, n, inner) -> (outer, inner)."""
        x = _f32(x)
        outer, n, inner = x.shape
        y = np.empty((outer, inner), np.float32)
        self.lib.exf_mean_f32(ptr(x), ptr(y), outer, n, inner)
        return y

    def binary(self, op: str, a, b, out=None) -> np.ndarray:
        """exf_<op>_f32 with NumPy broadcasting of a and b (rank <= 4), as the code generator lowers it."""
        a = _f32(a) if out is None or out is not a else a
        b = _f32(b) if out is None or out is not b else b
        shape = np.broadcast_shapes(a.shape, b.shape)
        assert len(shape) <= 4
        y = _out(shape, out)
        shape4 = (1,) * (4 - len(shape)) + tuple(shape)

        sa, sb, sh = strides4(a, shape4), strides4(b, shape4), i32(shape4)
        getattr(self.lib, f"exf_{op}_f32")(ptr(a), ptr(b), ptr(y), ptr(sh), ptr(sa), ptr(sb))
        return y

    def copy_rows(
        self,
        src: np.ndarray,
        src_offset: int,
        src_stride: int,
        dst: np.ndarray,
        dst_offset: int,
        dst_stride: int,
        rows: int,
        row_bytes: int,
    ) -> None:
        """exf_copy_rows on the bytes of src and dst (offsets and strides in bytes)."""
        self.lib.exf_copy_rows(
            src.ctypes.data + src_offset,
            src_stride,
            dst.ctypes.data + dst_offset,
            dst_stride,
            rows,
            row_bytes,
        )

    def permute(self, x: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
        """np.transpose(x, perm) by exf_permute: y's dim k walks x's dim perm[k]."""
        x = np.require(x, requirements="C")
        y = np.empty(tuple(x.shape[p] for p in perm), x.dtype)
        elem_strides = [s // x.itemsize for s in x.strides]
        shape, in_strides = i32(y.shape), i32([elem_strides[p] for p in perm])
        self.lib.exf_permute(ptr(x), ptr(y), x.itemsize, x.ndim, ptr(shape), ptr(in_strides))
        return y


@pytest.fixture(scope="session")
def ck(tmp_path_factory) -> CKernels:
    """Kernels + test shim, with the firmware's float flags."""
    return CKernels(build_shim_library(tmp_path_factory.mktemp("kernels"), SHIM_C, CFLAGS))


@pytest.fixture(scope="session")
def qk(ck) -> QKernels:
    return QKernels(ck.lib)

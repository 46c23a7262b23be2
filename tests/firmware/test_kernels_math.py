"""The float32 math kernels (activation.c, exf_conv2d_f32 as conv1d, exf_logf/exf_log1pf in math.c):
C (host gcc, the firmware's float flags) == NumPy mirror bit for bit, mirror ~ float64 / PyTorch.

Tolerances against float64, in ulps of the float32 result (measured maxima in brackets):
- logf, log1pf < 0.9 ulp [0.86]: range reduction is exact and the leading term f is exact, so the error
  is the last rounding plus a small share of the polynomial's.
- exp < 1 ulp on [-87, 88] [0.97] (exf_expf); outside, it saturates at exf_expf(-87) / exf_expf(88).
- sigmoid 2.5 ulp [2.25], silu 3.5 ulp [3.2], softplus 2 ulp [1.6]: an exp of < 1 ulp, then an add, a
  division and (silu) a multiply, each rounding once; for arguments below -87 exf_expf's clamp leaves an
  absolute error: < 1.7e-38 (sigmoid, softplus / beta), < 1.5e-36 (silu, which returns -0.0 there).
- tanh 1e-7 absolute (exf_tanhf), rsqrt 2 ulp [1.5] (sqrt and the division each round), sqrt exact.
- sum, conv1d: gamma_k * sum|terms| per element (see test_kernels.py), against torch in float32.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from firmware.kernel_helpers import assert_bits_equal, bind, build_shim_library, ptr

from edgexf.ir import kernels_math_ref as km
from edgexf.ir import kernels_ref as ref
from edgexf.targets.toolchain import COMMON_CFLAGS

U = 2.0**-24
TINY = float(np.finfo(np.float32).tiny)
rng = np.random.default_rng(20250301)

P, I32, F32 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_float
UNARY = ("exp", "sigmoid", "silu", "tanh", "rsqrt", "sqrt")
SIGNATURES = {
    **{f"exf_{name}_f32": [P, P, I32] for name in UNARY},
    "exf_softplus_f32": [P, P, I32, F32, F32],
    "exf_sum_f32": [P, P, I32, I32, I32],
    "exf_conv2d_f32": [P, P, P, P] + [I32] * 16,
    "map_logf": [P, P, I32],
    "map_log1pf": [P, P, I32],
}
# map a scalar function over an array in one ctypes call
SHIM_C = r"""
#include "edgexf_kernels.h"
#define MAP(fn) \
    void map_##fn(const float *x, float *y, int32_t n) { \
        for (int32_t i = 0; i < n; i++) y[i] = exf_##fn(x[i]); \
    }
MAP(logf)
MAP(log1pf)
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> ctypes.CDLL:
    """Every kernel plus the shim, with the firmware's flags (toolchain.COMMON_CFLAGS) and -Werror."""
    flags = [*COMMON_CFLAGS, "-Werror", "-Wdouble-promotion"]
    lib = build_shim_library(tmp_path_factory.mktemp("kernels_math"), SHIM_C, flags)
    bind(lib, SIGNATURES)
    return lib


def f32(a) -> np.ndarray:
    return np.require(a, np.float32, "C")


def call_unary(lib, name: str, x: np.ndarray, *extra, in_place: bool = False) -> np.ndarray:
    """exf_<name>_f32 on x (or map_<name> for the scalar logs); in_place: y is x's own memory."""
    x = f32(x).copy()
    y = x if in_place else np.empty_like(x)
    fn = getattr(lib, f"map_{name}" if name.startswith("log") else f"exf_{name}_f32")
    fn(ptr(x), ptr(y), x.size, *extra)
    return y


def ulps(y: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|y - exact| in units of the float32 spacing at exact (normal range: the spacing at TINY below)."""
    spacing = np.spacing(np.maximum(np.abs(exact), TINY).astype(np.float32)).astype(np.float64)
    return np.abs(y.astype(np.float64) - exact) / spacing


def assert_ulps(y: np.ndarray, exact: np.ndarray, bound: float, x: np.ndarray) -> None:
    u = ulps(y, exact)
    assert u.max() <= bound, f"{u.max():.3f} ulp > {bound} at x={x.flat[u.argmax()]!r}"


BIG = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-30, -1e-30, 1e-7, 100.0, -100.0, 87.0, -87.0,
                88.0, -88.0, 88.7, 89.0, -104.0, 1e30, -1e30, 3e38, -3e38], np.float32)  # fmt: skip


def sample(n: int = 400_000) -> np.ndarray:
    """Uniform on [-100, 100], normal, tiny magnitudes down to 1e-38, and BIG."""
    tiny = rng.uniform(-1, 1, n // 4) * 10.0 ** rng.uniform(-38, 0, n // 4)
    parts = [rng.uniform(-100, 100, n), rng.standard_normal(n) * 4, tiny, BIG]
    return np.concatenate(parts).astype(np.float32)


X = sample()
X64 = X.astype(np.float64)
with np.errstate(over="ignore"):
    SIGMOID64 = 1 / (1 + np.exp(-X64))  # exp overflows to inf below -709: sigmoid 0, as it should


# ---- scalar logs ---------------------------------------------------------------------------------


def float_bits(n: int) -> np.ndarray:
    """n random bit patterns (every float: negative, subnormal, inf and NaN too) and the special values."""
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    specials = np.array(
        [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, np.inf, -np.inf, np.nan, 1e-45, 1.41421356], np.float32
    )
    return np.concatenate([bits, specials, BIG])


@pytest.mark.parametrize("fn", ["logf", "log1pf"])
def test_logs_c_equals_mirror(lib, fn):
    x = float_bits(1_000_000)
    assert_bits_equal(call_unary(lib, fn, x), getattr(ref, fn)(x))


def test_logf_accuracy_and_specials(lib):
    x = np.concatenate([
        rng.integers(1, 0x7F800000, 1_000_000, dtype=np.int64).astype(np.uint32).view(np.float32),  # all > 0
        np.arange(0x3F000000, 0x40000000, 16, dtype=np.uint32).view(np.float32),  # [0.5, 2), dense
    ])  # fmt: skip
    exact = np.log(x.astype(np.float64))
    assert_ulps(call_unary(lib, "logf", x), exact, 0.9, x)
    y = call_unary(lib, "logf", np.array([0.0, -0.0, 1.0, np.inf, -1.0, -np.inf, np.nan], np.float32))
    assert list(y[:4]) == [-np.inf, -np.inf, 0.0, np.inf] and np.isnan(y[4:]).all()


def test_log1pf_accuracy_and_specials(lib):
    below_one = rng.integers(0, 0x3F800000, 1_000_000, dtype=np.int64).astype(np.uint32).view(np.float32)
    x = np.concatenate([below_one, -below_one[below_one < 1], np.float32(1) + rng.exponential(1e4, 200_000)])
    x = x.astype(np.float32)
    exact = np.log1p(x.astype(np.float64))
    nonzero = exact != 0
    assert_ulps(call_unary(lib, "log1pf", x[nonzero]), exact[nonzero], 0.9, x[nonzero])
    y = call_unary(lib, "log1pf", np.array([0.0, -0.0, 1e-45, -1.0, np.inf, -2.0, np.nan], np.float32))
    assert_bits_equal(y[:3], np.array([0.0, -0.0, 1e-45], np.float32))  # log1p(x) = x for tiny x, signs kept
    assert y[3] == -np.inf and y[4] == np.inf and np.isnan(y[5:]).all()


# ---- elementwise ---------------------------------------------------------------------------------

MIRRORS = {"exp": km.exp_f32, "sigmoid": km.sigmoid_f32, "silu": km.silu_f32, "tanh": km.tanh_f32,
           "rsqrt": km.rsqrt_f32, "sqrt": km.sqrt_f32}  # fmt: skip
SOFTPLUS = [(1.0, 20.0), (2.0, 5.0), (0.5, 20.0), (1.0, 100.0)]  # (beta, threshold)


@pytest.mark.parametrize("name", UNARY)
def test_unary_c_equals_mirror_and_in_place(lib, name):
    x = np.concatenate([X, np.array([np.inf, -np.inf, np.nan], np.float32)])
    y = MIRRORS[name](x)
    assert_bits_equal(call_unary(lib, name, x), y)
    assert_bits_equal(call_unary(lib, name, x, in_place=True), y)


@pytest.mark.parametrize("beta,threshold", SOFTPLUS)
def test_softplus_c_equals_mirror_and_in_place(lib, beta, threshold):
    x = np.concatenate([X, np.array([np.inf, -np.inf, np.nan], np.float32)])
    y = km.softplus_f32(x, beta, threshold)
    assert_bits_equal(call_unary(lib, "softplus", x, beta, threshold), y)
    assert_bits_equal(call_unary(lib, "softplus", x, beta, threshold, in_place=True), y)


def test_exp_accuracy_and_saturation():
    inside = (X >= -87) & (X <= 88)
    assert_ulps(km.exp_f32(X[inside]), np.exp(X64[inside]), 1.0, X[inside])
    lo, hi = km.exp_f32(np.float32(-87)), km.exp_f32(np.float32(88))
    assert np.all(km.exp_f32(X[X < -87]) == lo) and np.all(km.exp_f32(X[X > 88]) == hi)


def test_sigmoid_silu_accuracy():
    sig = SIGMOID64
    above = X >= -87
    assert_ulps(km.sigmoid_f32(X[above]), sig[above], 2.5, X[above])
    assert_ulps(km.silu_f32(X[above]), X64[above] * sig[above], 3.5, X[above])
    assert np.abs(km.sigmoid_f32(X[~above]) - sig[~above]).max() < 1.7e-38
    assert np.abs(km.silu_f32(X[~above]) - X64[~above] * sig[~above]).max() < 1.5e-36


@pytest.mark.parametrize("beta,threshold", SOFTPLUS)
def test_softplus_accuracy(beta, threshold):
    """Against torch's own float64 softplus (the same threshold branch: beta is a power of 2)."""
    exact = F.softplus(torch.from_numpy(X64), beta, threshold).numpy()
    y = km.softplus_f32(X, beta, threshold)
    above = X64 * beta >= -87
    assert_ulps(y[above], exact[above], 2.0, X[above])
    assert np.abs(y[~above] - exact[~above]).max(initial=0) < 1.7e-38 / beta


def test_tanh_rsqrt_sqrt_accuracy():
    assert np.abs(km.tanh_f32(X) - np.tanh(X64)).max() <= 1e-7
    pos = np.abs(X[X != 0])
    assert_ulps(km.rsqrt_f32(pos), 1 / np.sqrt(pos.astype(np.float64)), 2.0, pos)
    exact_sqrt = np.sqrt(pos.astype(np.float64))
    # correctly rounded (53 >= 2 * 24 + 2 bits)
    assert_bits_equal(km.sqrt_f32(pos), exact_sqrt.astype(np.float32))
    # torch 2.13's own float32 CPU sqrt is not: about 1 in 6 results are 1 ulp off
    assert_ulps(torch.sqrt(torch.from_numpy(pos)).numpy(), exact_sqrt, 1.0, pos)
    assert_bits_equal(
        km.rsqrt_f32(np.array([0.0, -0.0, -1.0], np.float32)), np.array([np.inf, -np.inf, np.nan], np.float32)
    )


@pytest.mark.parametrize("name", ["exp", "sigmoid", "silu", "softplus"])
def test_no_inf_or_nan_where_torch_has_none(lib, name):
    """Finite inputs up to +-3e38: never inf or NaN unless torch's float32 gives one too (exp above 88.72:
    torch inf, ours saturates at ~1.65e38)."""
    torch_fn = {"exp": torch.exp, "sigmoid": torch.sigmoid, "silu": F.silu, "softplus": F.softplus}[name]
    theirs = torch_fn(torch.from_numpy(X)).numpy()
    ours = call_unary(lib, name, X, *((1.0, 20.0) if name == "softplus" else ()))
    bad = ~np.isfinite(ours)
    assert not bad.any(), f"{name} gave {ours[bad][:4]} at x={X[bad][:4]}"
    if name == "exp":
        assert np.isinf(theirs[X > 88.8]).all()  # torch's own exp overflows there
    else:
        assert np.isfinite(theirs).all()


# ---- sum -----------------------------------------------------------------------------------------


def call_sum(lib, x: np.ndarray, axis: int) -> np.ndarray:
    x = f32(x)
    outer, n, inner = int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1 :]))
    y = np.empty(x.shape[:axis] + x.shape[axis + 1 :], np.float32)
    lib.exf_sum_f32(ptr(x), ptr(y), outer, n, inner)
    return y


@pytest.mark.parametrize("shape,axis", [((7, 5, 3), 0), ((7, 5, 3), 1), ((7, 5, 3), 2), ((1, 1), 1),
                                        ((2, 197, 16), 1), ((4, 33), -1)])  # fmt: skip
def test_sum(lib, shape, axis):
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 0.5
    axis %= len(shape)
    y = km.sum_f32(x, axis - len(shape))
    assert_bits_equal(call_sum(lib, x, axis), y)
    abs_sum = np.abs(x.astype(np.float64)).sum(axis=axis)
    n = shape[axis]
    bound = 2 * (n * U / (1 - n * U)) * abs_sum + 1e-30
    assert np.all(np.abs(y - torch.sum(torch.from_numpy(x), dim=axis).numpy()) <= bound)
    assert (
        km.sum_f32(x, axis - len(shape), keepdims=True).shape
        == torch.sum(torch.from_numpy(x), dim=axis, keepdim=True).shape
    )


def test_sum_large_magnitudes(lib):
    x = np.array([[1e30, -1e30, 1.0], [3e38, 3e38, -3e38], [-0.0, -0.0, -0.0]], np.float32)
    y = km.sum_f32(x, -1)
    assert_bits_equal(call_sum(lib, x, 1), y)
    assert y[0] == 1.0 and y[1] == np.inf and y[2] == 0 and not np.signbit(y[2])  # in order, from +0.0


# ---- conv1d --------------------------------------------------------------------------------------


def call_conv1d(lib, x, w, b, stride, padding, groups) -> np.ndarray:
    x, w = f32(x), f32(w)
    b = None if b is None else f32(b)
    (n, c, length), (o, _, k) = x.shape, w.shape
    ol = (length + 2 * padding - k) // stride + 1
    y = np.empty((n, o, ol), np.float32)
    # a 1-D convolution runs as the 2-D one of a one-row image (edgexf/codegen/kernels_math.py)
    dims = (n, c, 1, length, o, 1, k, 1, stride, 0, padding, 1, 1, groups, 1, ol)
    lib.exf_conv2d_f32(ptr(x), ptr(w), ptr(b), ptr(y), *dims)
    return y


@pytest.mark.parametrize(
    "n,c,length,o,k,stride,padding,groups",
    [
        (1, 16, 4, 16, 4, 1, 3, 16),  # Mamba: depthwise, causal padding d_conv - 1 over a window of d_conv
        (2, 6, 11, 6, 3, 1, 1, 6),  # depthwise, 'same'
        (2, 4, 9, 5, 3, 2, 1, 1),  # groups = 1, stride 2
        (1, 3, 7, 2, 7, 1, 0, 1),  # one output per channel
        (1, 4, 5, 6, 2, 3, 2, 2),  # grouped, stride above the kernel size
        (1, 1, 1, 1, 1, 1, 0, 1),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d(lib, n, c, length, o, k, stride, padding, groups, bias):
    x, w = rng.standard_normal((n, c, length)).astype(np.float32), rng.standard_normal((o, c // groups, k))
    w = w.astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32) if bias else None
    y = km.conv1d_f32(x, w, b, stride, padding, groups)
    assert_bits_equal(call_conv1d(lib, x, w, b, stride, padding, groups), y)
    t = torch.from_numpy
    theirs = F.conv1d(t(x), t(w), None if b is None else t(b), stride, padding, 1, groups).numpy()
    abs_b = None if b is None else t(np.abs(b)).double()
    abs_x, abs_w = t(np.abs(x)).double(), t(np.abs(w)).double()
    abs_sum = F.conv1d(abs_x, abs_w, abs_b, stride, padding, 1, groups).numpy()
    terms = c // groups * k + 1
    assert np.all(np.abs(y - theirs) <= 2 * (terms * U / (1 - terms * U)) * abs_sum + 1e-30)


def test_conv1d_skips_padding_taps_and_large_values(lib):
    """A -0.0 bias stays -0.0 where every tap is padding; inf weights do not turn padding into NaN."""
    x = np.array([[[1e30, -1e30, 0.0]]], np.float32)
    w = np.array([[[np.inf, 1.0, 2.0]]], np.float32)
    b = np.array([-0.0], np.float32)
    y = call_conv1d(lib, x, w, b, 1, 4, 1)
    assert_bits_equal(y, km.conv1d_f32(x, w, b, 1, 4, 1))
    assert np.signbit(y[0, 0, 0]) and y[0, 0, 0] == 0 and not np.isnan(y[0, 0, :2]).any()

"""The float32 kernel library: C (host gcc) == NumPy mirror bit for bit, mirror ~ PyTorch, and the
kernels build warning-free for Cortex-M7.

Tolerances against PyTorch, and why:
- dot products (linear, matmul, conv2d, mean): any summation order of k terms is within
  gamma_k * sum|terms| of the exact sum (Higham, Accuracy and Stability, eq. 3.5), gamma_k = k*u/(1-k*u),
  u = 2^-24; ours and PyTorch's differ by at most twice that. The bound is per element, from |x| @ |w|.
- softmax: relative, (2n + 8) * u: both sides sum n terms (n*u each) and call an exp of a few ulp on the
  same rounded argument x - max; absolute 1e-37 for exf_expf's clamp (1.6e-38 where torch gives 0).
- gelu: our erf/tanh are within 2.7e-7 / 1e-7 absolute, times 0.5|x|, plus a few roundings: 1.5e-7 |x|
  + 4u |y| from the float64 GELU. PyTorch's float32 GELU is itself up to 2.7e-7 |x| off, so 5e-7 |x|.
- layernorm: 1e-5 absolute and relative (outputs are O(1); PyTorch sums the variance in another order),
  plus the mean's rounding error (gamma_d * mean|x|) times inv = 1/sqrt(var + eps) times |gamma|:
  a constant row of 0.1 has var 0, inv 316, and a mean a few ulp off, so y is 3e-5, not 0.
"""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from firmware.kernel_helpers import assert_bits_equal, broadcast_pair, i32, ptr, strides4
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_ref as ref
from edgexf.resources import firmware_dir

KERNEL_DIR = firmware_dir() / "kernels"

U = 2.0**-24
rng = np.random.default_rng(20240611)


def assert_within(ours: np.ndarray, theirs: torch.Tensor, bound) -> None:
    theirs = theirs.detach().numpy()
    err = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    excess = err - bound
    assert excess.max(initial=-1.0) <= 0, f"worst error {err.flat[excess.argmax()]:.3g} > bound"


def dot_bound(abs_sum: torch.Tensor, k: int) -> np.ndarray:
    """Twice gamma_k times the per-element sum of |terms|."""
    return 2 * (k * U / (1 - k * U)) * abs_sum.double().numpy() + 1e-30


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.require(a, requirements="C"))  # keeps 0-d arrays 0-d


def randn(*shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# ---- scalar math -------------------------------------------------------------------------------

SPECIAL = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-38, 1e-30, -1e-7, 0.5, -0.5, 1.0, -1.0, 3.0, -87.0, -87.5,
                    -88.0, -100.0, -103.0, -150.0, 88.0, 88.5, 100.0, 3e38, -3e38, np.inf, -np.inf],
                   np.float32)  # fmt: skip


def sample(lo: float, hi: float) -> np.ndarray:
    """1M uniform points, 200k small magnitudes down to 1e-30, and the special values."""
    small = rng.uniform(-1, 1, 200_000) * 10.0 ** rng.uniform(-30, 0, 200_000)
    return np.concatenate([rng.uniform(lo, hi, 1_000_000), small, SPECIAL]).astype(np.float32)


@pytest.mark.parametrize("fn", ["expf", "erff", "tanhf"])
def test_scalar_math_c_equals_mirror(ck, fn):
    x = np.concatenate([sample(-100, 100), np.array([np.nan], np.float32)])
    c, mirror = ck.map(fn, x), getattr(ref, fn)(x)
    assert np.isnan(c[-1]) and np.isnan(mirror[-1])
    assert_bits_equal(c[:-1], mirror[:-1])


def test_expf_accuracy_and_clamp(ck):
    x = sample(-87, 88)
    x = x[(x >= -87) & (x <= 88)]
    y, exact = ck.map("expf", x).astype(np.float64), np.exp(x.astype(np.float64))
    ulps = np.abs(y - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.0, f"max error {ulps.max():.2f} ulp at x={x[ulps.argmax()]!r}"
    # clamped outside [-87, 88]: never 0, inf or subnormal
    lo, hi = ck.map("expf", np.array([-87.0], np.float32))[0], ck.map("expf", np.array([88.0], np.float32))[0]
    assert np.all(ck.map("expf", np.array([-87.5, -100, -150, -np.inf], np.float32)) == lo)
    assert np.all(ck.map("expf", np.array([88.5, 100, np.inf], np.float32)) == hi)
    assert lo >= np.finfo(np.float32).tiny and np.isfinite(hi)


def test_erff_accuracy(ck):
    x = sample(-6, 6)
    exact = torch.special.erf(t(x.astype(np.float64))).numpy()
    err = np.abs(ck.map("erff", x) - exact)
    assert err.max() <= 2.7e-7, f"max abs error {err.max():.3g} at x={x[err.argmax()]!r}"
    # relative accuracy near 0 (the Taylor branch), where GELU's x * erf(x) needs it
    # within 3u relative: the constant 2/sqrt(pi), the sum p in [1, 2) and x * p each round once
    small = (np.abs(x) < 1e-3) & (np.abs(x) > 1e-37)  # results not subnormal
    assert np.max(np.abs(ck.map("erff", x[small]) / exact[small] - 1)) <= 3 * U


def test_tanhf_accuracy(ck):
    x = sample(-10, 10)
    err = np.abs(ck.map("tanhf", x) - np.tanh(x.astype(np.float64)))
    assert err.max() <= 1e-7, f"max abs error {err.max():.3g} at x={x[err.argmax()]!r}"


def test_sqrtf_correctly_rounded(ck):
    bits = np.concatenate([
        rng.integers(0, 0x7F800001, 1_000_000, dtype=np.int64).astype(np.uint32),  # all finite >= 0
        np.arange(0, 1 << 16, dtype=np.uint32),  # subnormals
        np.arange(0x3F800000 - (1 << 15), 0x3F800000 + (1 << 15), dtype=np.uint32),  # around 1.0
    ])  # fmt: skip
    x = np.concatenate([bits.view(np.float32), np.array([-0.0, np.inf], np.float32)])
    assert_bits_equal(ck.map("sqrtf", x), np.sqrt(x))
    assert np.isnan(ck.map("sqrtf", np.array([-1.0, -np.inf, np.nan], np.float32))).all()


# ---- dot products ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows,k,m", [(1, 1, 1), (3, 5, 7), (17, 64, 33), (65, 128, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(ck, rows, k, m, bias):
    x, w = randn(rows, k), randn(m, k)
    b = randn(m) if bias else None
    y = ref.linear_f32(x, w, b)
    assert_bits_equal(ck.linear(x, w, b), y)
    theirs = F.linear(t(x), t(w), None if b is None else t(b))
    abs_b = None if b is None else t(np.abs(b)).double()
    abs_sum = F.linear(t(np.abs(x)).double(), t(np.abs(w)).double(), abs_b)
    assert_within(y, theirs, dot_bound(abs_sum, k + 1))


def test_linear_mirror_keeps_leading_dims():
    x, w, b = randn(2, 3, 4, 6), randn(5, 6), randn(5)
    assert_bits_equal(ref.linear_f32(x, w, b), ref.linear_f32(x.reshape(-1, 6), w, b).reshape(2, 3, 4, 5))


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 9), k=st.integers(1, 40), m=st.integers(1, 12), bias=st.booleans(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_linear_random_shapes(ck, rows, k, m, bias, seed):
    g = np.random.default_rng(seed)
    x, w = g.standard_normal((rows, k), np.float32), g.standard_normal((m, k), np.float32)
    b = g.standard_normal(m, np.float32) if bias else None
    assert_bits_equal(ck.linear(x, w, b), ref.linear_f32(x, w, b))


@pytest.mark.parametrize("sa,sb", [((1, 1, 1), (1, 1, 1)), ((3, 5, 7), (3, 7, 4)), ((4, 9, 16), (1, 16, 9)),
                                   ((1, 6, 8), (5, 8, 3))])  # fmt: skip
def test_matmul(ck, sa, sb):
    a, b = randn(*sa), randn(*sb)
    y = ref.matmul_f32(a, b)
    assert_bits_equal(ck.matmul(a, b), y)
    abs_sum = torch.matmul(t(np.abs(a)).double(), t(np.abs(b)).double())
    assert_within(y, torch.matmul(t(a), t(b)), dot_bound(abs_sum, sa[-1]))


def test_matmul_mirror_broadcasts_several_batch_dims(ck):
    """(2, 1, m, k) @ (3, k, n): the code generator makes one C call per outer index."""
    a, b = randn(2, 1, 4, 5), randn(3, 5, 6)
    y = ref.matmul_f32(a, b)
    assert y.shape == (2, 3, 4, 6)
    assert_bits_equal(np.stack([ck.matmul(a[i], b) for i in range(2)]), y)


@pytest.mark.parametrize(
    "n,c,h,w,o,kh,kw,stride,padding",
    [
        (1, 1, 1, 1, 1, 1, 1, (1, 1), (0, 0)),
        (1, 3, 8, 8, 4, 2, 2, (2, 2), (0, 0)),  # ViT patch embedding
        (2, 2, 7, 5, 3, 3, 3, (1, 1), (1, 1)),
        (1, 3, 9, 6, 2, 3, 2, (2, 3), (2, 1)),  # odd sizes, padding wider than the stride
        (1, 1, 4, 4, 1, 3, 3, (1, 1), (2, 2)),  # corner outputs with a single tap
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(ck, n, c, h, w, o, kh, kw, stride, padding, bias):
    x, wt = randn(n, c, h, w), randn(o, c, kh, kw)
    b = randn(o) if bias else None
    y = ref.conv2d_f32(x, wt, b, stride, padding)
    assert_bits_equal(ck.conv2d(x, wt, b, stride, padding), y)
    tb = None if b is None else t(b)
    theirs = F.conv2d(t(x), t(wt), tb, stride, padding)
    abs_b = None if b is None else t(np.abs(b)).double()
    abs_sum = F.conv2d(t(np.abs(x)).double(), t(np.abs(wt)).double(), abs_b, stride, padding)
    assert_within(y, theirs, dot_bound(abs_sum, c * kh * kw + 1))


@pytest.mark.parametrize(
    "c,o,k,stride,padding,dilation,groups",
    [
        (4, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise 3x3, 'same'
        (6, 12, (3, 2), (2, 1), (1, 0, 2, 1), (1, 1), 3),  # grouped, channel multiplier 2, asymmetric pads
        (2, 3, (3, 3), (1, 2), (2, 2), (2, 3), 1),  # dilated, taps jumping over the image's edge
        (3, 3, (2, 3), (3, 2), (0, 2, 1, 0), (2, 1), 3),  # all at once, stride above the kernel
    ],
)
def test_conv2d_grouped_dilated_asymmetric(ck, c, o, k, stride, padding, dilation, groups):
    """The ONNX/TFLite geometries (depthwise, dilation, SAME_UPPER pads) against torch."""
    x, wt, b = randn(2, c, 9, 8), randn(o, c // groups, *k), randn(o)
    y = ref.conv2d_f32(x, wt, b, stride, padding, dilation, groups)
    assert_bits_equal(ck.conv2d(x, wt, b, stride, padding, dilation, groups), y)
    pt, pl, pb, pr = padding if len(padding) == 4 else (*padding, *padding)
    xp = F.pad(t(x), (pl, pr, pt, pb))  # torch pads both sides alike: pad first, convolve unpadded
    theirs = F.conv2d(xp, t(wt), t(b), stride, 0, dilation, groups)
    np.testing.assert_allclose(y, theirs.numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_skips_padding_taps(ck):
    """A -0.0 bias stays -0.0 where every tap is padding; 0 * w would have made it +0.0."""
    x, w, b = randn(1, 1, 2, 2), randn(1, 1, 3, 3), np.array([-0.0], np.float32)
    y = ck.conv2d(x, w, b, (1, 1), (3, 3))
    assert np.signbit(y[0, 0, 0, 0]) and y[0, 0, 0, 0] == 0
    assert_bits_equal(y, ref.conv2d_f32(x, w, b, 1, 3))


# ---- row reductions ----------------------------------------------------------------------------


def equal_rows(d: int) -> np.ndarray:
    return np.stack([np.full(d, v, np.float32) for v in (0.0, 1.0, -3.5, 0.1)])


@pytest.mark.parametrize("rows,d", [(1, 1), (4, 7), (33, 64), (5, 97)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(ck, rows, d, affine):
    x = np.concatenate([randn(rows, d) * 3 + 1, equal_rows(d)])
    gamma, beta = (randn(d), randn(d)) if affine else (None, None)
    y = ref.layernorm_f32(x, gamma, beta, 1e-5)
    assert_bits_equal(ck.layernorm(x, gamma, beta, 1e-5), y)
    in_place = x.copy()
    ck.layernorm(in_place, gamma, beta, 1e-5, out=in_place)
    assert_bits_equal(in_place, y)
    tg, tb = (None, None) if gamma is None else (t(gamma), t(beta))
    theirs = F.layer_norm(t(x), (d,), tg, tb, 1e-5)
    inv = 1 / np.sqrt(x.astype(np.float64).var(axis=1, keepdims=True) + 1e-5)
    mean_err = 2 * (d * U / (1 - d * U)) * np.abs(x).mean(axis=1, keepdims=True) * inv
    assert_within(y, theirs, 1e-5 + 1e-5 * np.abs(y) + mean_err * (1 if gamma is None else np.abs(gamma)))
    exact_rows = y[-4:-1]  # mean exact, so x - mean = 0 and y = beta
    assert np.all(exact_rows == (0 if beta is None else beta))


@pytest.mark.parametrize("rows,n", [(1, 1), (3, 2), (8, 17), (65, 197)])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_softmax(ck, rows, n, scale):
    x = np.concatenate([randn(rows, n) * scale, equal_rows(n) * scale])
    y = ref.softmax_f32(x)
    assert_bits_equal(ck.softmax(x), y)
    in_place = x.copy()
    ck.softmax(in_place, out=in_place)
    assert_bits_equal(in_place, y)
    theirs = F.softmax(t(x), dim=-1)
    assert_within(y, theirs, (2 * n + 8) * U * np.abs(y) + 1e-37)
    assert np.all(y[-4:] == np.float32(1) / np.float32(n))


def test_softmax_extreme_rows(ck):
    x = np.array([[3e38, -3e38, 0.0], [-np.inf, 0.0, 1.0], [-1e30, -1e30, -1e30]], np.float32)
    y = ref.softmax_f32(x)
    assert_bits_equal(ck.softmax(x), y)
    assert np.allclose(y, F.softmax(t(x), dim=-1).numpy(), rtol=1e-6, atol=1e-37)


@pytest.mark.parametrize("shape,axis", [((1, 1, 1), 1), ((3, 7, 5), 1), ((2, 197, 64), 1), ((4, 9), 0),
                                        ((4, 9), 1), ((2, 3, 4, 5), (1, 2))])  # fmt: skip
def test_mean(ck, shape, axis):
    x = randn(*shape) + 0.5
    y = ref.mean_f32(x, axis)
    axes = (axis,) if isinstance(axis, int) else axis
    outer, n = math.prod(shape[: axes[0]]), math.prod(shape[axes[0] : axes[-1] + 1])
    c = ck.mean(x.reshape(outer, n, -1))
    assert_bits_equal(c.reshape(y.shape), y)
    abs_mean = torch.mean(t(np.abs(x)).double(), dim=axes)
    assert_within(y, torch.mean(t(x), dim=axes), dot_bound(abs_mean, n) + 2 * U * np.abs(y))
    assert ref.mean_f32(x, axis, keepdims=True).shape == torch.mean(t(x), dim=axes, keepdim=True).shape


# ---- elementwise -------------------------------------------------------------------------------

ELEMENTWISE_X = np.concatenate([randn(100_003) * 3, SPECIAL[np.isfinite(SPECIAL)]])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(ck, approximate):
    x = ELEMENTWISE_X
    y = ref.gelu_f32(x, approximate)
    name = "gelu" if approximate == "none" else "gelu_tanh"
    assert_bits_equal(ck.unary(name, x), y)
    in_place = x.copy()
    ck.unary(name, in_place, out=in_place)
    assert_bits_equal(in_place, y)
    exact = F.gelu(t(x.astype(np.float64)), approximate=approximate)
    assert_within(y, exact, 1.5e-7 * np.abs(x) + 4 * U * np.abs(y) + 1e-37)
    # torch's own float32 GELU is further off (its vectorized erf: up to 2.7e-7 |x| from exact). Near
    # FLT_MAX some of its CPU paths overflow (x (1 + erf) before the 0.5: gelu(3e38) = inf on AVX-512
    # machines): those few inputs are compared with the float64 result above only.
    theirs = F.gelu(t(x), approximate=approximate)
    fin = torch.isfinite(theirs).numpy()
    bound = 5e-7 * np.abs(x) + 4 * U * np.abs(y) + 1e-37
    assert_within(y[fin], theirs[fin], bound[fin])


def test_relu(ck):
    x = np.concatenate([ELEMENTWISE_X, np.array([-0.0, np.nan], np.float32)])
    y = ref.relu_f32(x)
    assert_bits_equal(ck.unary("relu", x), y)
    assert y[-1] == 0 and not np.signbit(y[-2])
    assert np.array_equal(y[:-1], F.relu(t(x[:-1])).numpy())  # values, so -0.0 == +0.0
    ck.unary("relu", x, out=x)
    assert_bits_equal(x, y)


BINARY = {"add": (ref.add_f32, torch.add), "sub": (ref.sub_f32, torch.sub), "mul": (ref.mul_f32, torch.mul),
          "div": (ref.div_f32, torch.div)}  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)))
def test_binary_broadcasting(ck, data, op):
    """C == mirror == torch, bit for bit: one correctly rounded operation per element."""
    sa, sb = broadcast_pair(data.draw)
    a, b = randn(*sa), randn(*sb)
    mirror, torch_op = BINARY[op]
    y = mirror(a, b)
    assert_bits_equal(ck.binary(op, a, b), y)
    assert_bits_equal(torch_op(t(a), t(b)).numpy(), y)


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_in_place(ck, op):
    a, b, row = randn(2, 3, 4, 5), randn(2, 3, 4, 5), randn(5)
    y = BINARY[op][0](a, b)
    ck.binary(op, a, b, out=a)
    assert_bits_equal(a, y)
    y = BINARY[op][0](row, b)
    ck.binary(op, row, b, out=b)  # the broadcast operand is a, y overwrites b
    assert_bits_equal(b, y)


WHERE_SHAPES = [((2, 3, 4, 5), (2, 3, 4, 5), (2, 3, 4, 5)), ((2, 3, 4, 5), (5,), (3, 1, 1)),
                ((2, 1, 4, 1), (1, 3, 1, 5), (4, 5)), ((7,), (1,), (7,)), ((3, 1), (1, 6), (1,))]  # fmt: skip


@pytest.mark.parametrize("sa,sb,sc", WHERE_SHAPES)
def test_where_broadcasting(ck, sa, sb, sc):
    """exf_where_f32 over the shared broadcast walk: merged axes (same shapes), rows and columns."""
    a, b, cond = randn(*sa), randn(*sb), (randn(*sc) > 0).astype(np.uint8)
    shape = np.broadcast_shapes(sa, sb, sc)
    shape4 = (1,) * (4 - len(shape)) + tuple(shape)
    y = np.empty(shape, np.float32)
    strides = [strides4(np.ascontiguousarray(v), shape4) for v in (cond, a, b)]
    ck.lib.exf_where_f32(ptr(cond), ptr(a), ptr(b), ptr(y), ptr(i32(shape4)), *map(ptr, strides))
    assert_bits_equal(y, np.where(cond.astype(bool), a, b))


def test_div_by_zero_and_specials(ck):
    a = np.array([1.0, -1.0, 0.0, np.inf, 1e-45, 3e38], np.float32)
    b = np.array([0.0, 0.0, 0.0, np.inf, 2.0, 0.1], np.float32)
    y = ck.binary("div", a, b)
    assert np.array_equal(y, ref.div_f32(a, b), equal_nan=True)
    assert np.isinf(y[0]) and np.isnan(y[2]) and np.isinf(y[5])


# ---- data movement -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int16])
def test_copy_rows_concat_and_slice(ck, dtype):
    a, b = (rng.integers(-100, 100, s).astype(dtype) for s in [(2, 3, 5), (2, 4, 5)])
    out = np.zeros((2, 7, 5), dtype)
    item = out.itemsize
    # concat on axis 1: per input, 2 rows of (its axis-1 length * 5) elements into rows of 35
    ck.copy_rows(a, 0, 15 * item, out, 0, 35 * item, 2, 15 * item)
    ck.copy_rows(b, 0, 20 * item, out, 15 * item, 35 * item, 2, 20 * item)
    assert np.array_equal(out, np.concatenate([a, b], axis=1))
    x = rng.integers(-100, 100, (4, 8, 6)).astype(dtype)
    sl = np.zeros((4, 3, 2), dtype)  # x[:, 2:5, 1:3]: one call per (i, j) row of 2 elements is 12 rows
    for i in range(4):
        ck.copy_rows(x, ((i * 8 + 2) * 6 + 1) * item, 6 * item, sl, i * 6 * item, 2 * item, 3, 2 * item)
    assert np.array_equal(sl, x[:, 2:5, 1:3])


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=6), data=st.data(),
       dtype=st.sampled_from([np.int8, np.int16, np.float32, np.float64]))  # fmt: skip
def test_permute_random(ck, shape, data, dtype):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = rng.integers(-1000, 1000, shape).astype(dtype)
    assert np.array_equal(ck.permute(x, perm), np.transpose(x, perm))


# ---- target build ------------------------------------------------------------------------------

ARM_FLAGS = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard", "-std=c11", "-O2",
             "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion"]  # fmt: skip


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not on PATH")
def test_arm_build_is_warning_free_and_needs_only_memcpy_memset(tmp_path):
    """-Wdouble-promotion too: a double op would be soft-float on this single-precision FPU. The kernels
    need nothing from the C library but memcpy and memset (gcc turns byte-filling loops into memset):
    no libm, no division helpers, no printf."""
    objects = []
    for src in sorted(KERNEL_DIR.glob("*.c")):
        obj = tmp_path / (src.stem + ".o")
        done = subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, "-c", str(src), "-o", str(obj)],
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, f"{src.name}:\n{done.stderr}"
        objects.append(str(obj))
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        pytest.skip("arm-none-eabi-nm not on PATH: undefined symbols not checked")
    syms = subprocess.run([nm, "-g", *objects], capture_output=True, text=True, check=True).stdout.split("\n")
    undefined = {s.split()[-1] for s in syms if s.strip().startswith("U ")}
    defined = {s.split()[-1] for s in syms if len(s.split()) == 3}
    assert undefined - defined <= {"memcpy", "memset"}, f"kernels need {sorted(undefined - defined)}"

"""The arithmetic the quantization pass relies on: parameters, multipliers, tables."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from edgexf.compress.qmath import (
    SOFTMAX_EXP_ONE,
    activation_params,
    dequantize,
    layernorm_constants,
    multiplier,
    pair_multipliers,
    quantize,
    quantize_weight,
    softmax_exp_table,
    unary_table,
)
from edgexf.errors import QuantizationError
from edgexf.ir.graph import QParams

rng = np.random.default_rng(7)


@pytest.mark.parametrize(
    "lo,hi", [(-1.0, 3.0), (0.0, 6.0), (-5.0, -1.0), (0.2, 0.3), (0.0, 0.0), (-1e-3, 1e4)]
)
def test_int8_params_cover_the_range_and_hold_zero_exactly(lo, hi):
    p = activation_params(lo, hi, "int8")
    assert -128 <= p.zero_point <= 127 and p.scale > 0
    # 0.0 is a code (zero padding and ReLU's zeros are exact), and the range ends are within half a step
    assert dequantize(quantize(np.array([0.0]), p, "int8"), p)[0] == 0.0
    for v in (min(lo, 0.0), max(hi, 0.0)):
        assert abs(dequantize(quantize(np.array([v]), p, "int8"), p)[0] - v) <= p.scale / 2 + 1e-7


def test_int16_params_are_symmetric():
    p = activation_params(-2.0, 5.0, "int16")
    assert p.zero_point == 0 and p.scale == pytest.approx(5.0 / 32767)


def test_weights_are_symmetric_per_channel():
    w = rng.standard_normal((6, 5)) * np.array([[1e-3], [1], [10], [0.5], [0], [3]])
    q, p = quantize_weight(w, axis=0)
    assert q.dtype == np.int8 and p.zero_point == 0 and p.axis == 0 and len(p.scale) == 6
    assert q.min() >= -127 and np.all(
        np.abs(q[[0, 1, 2, 3, 5]]).max(axis=1) == 127
    )  # each channel uses its range
    assert np.all(q[4] == 0)
    back = q * np.array(p.scale)[:, None]
    assert np.all(np.abs(back - w) <= np.array(p.scale)[:, None] / 2 + 1e-12)


@pytest.mark.parametrize("real", [1.0 / 3, 0.5, 0.999999999, 1.0, 2.5e-3, 1e-12, 3e-19, 1e-25, 700.0])
def test_multiplier_is_normalised_and_exact_to_31_bits(real):
    (m,), (s,) = multiplier(real)
    assert 1 <= s <= 62
    if s < 62:
        assert 2**30 <= m < 2**31
        assert abs(Fraction(int(m), 2 ** int(s)) - Fraction(real)) <= Fraction(real) * Fraction(1, 2**30)
    else:  # below 2^-32: shift saturates, precision is what 62 bits give
        assert abs(m * 2.0**-62 - real) <= 2.0**-63


def test_multiplier_zero_and_out_of_range():
    assert multiplier(0.0)[0][0] == 0
    with pytest.raises(QuantizationError, match="too large"):
        multiplier(2.0**31)
    with pytest.raises(QuantizationError):
        multiplier(-1.0)


def test_pair_multipliers_share_a_shift():
    ma, mb, s = pair_multipliers(0.75, -0.001)
    assert 2**30 <= abs(ma) < 2**31 and mb < 0
    assert ma / 2**s == pytest.approx(0.75, rel=2**-30) and mb / 2**s == pytest.approx(-0.001, rel=1e-6)


def test_unary_table_is_the_function_at_every_code():
    x, y = QParams(0.05, -10), QParams(0.02, 3)
    table = unary_table(np.tanh, x, y)
    codes = np.arange(-128, 128)
    expect = np.clip(np.round(np.tanh((codes + 10) * 0.05) / 0.02) + 3, -128, 127)
    assert table.dtype == np.int8 and np.array_equal(table, expect)


def test_softmax_table_is_exp_of_the_difference():
    t = softmax_exp_table(0.1)
    assert t[255] == SOFTMAX_EXP_ONE and t.dtype == np.int32
    assert t[255 - 10] == round(math.exp(-1.0) * 65536)
    assert np.all(np.diff(t.astype(np.int64)) >= 0)


def test_layernorm_constants_keep_gamma_in_range():
    g, b = rng.standard_normal(16) * 3, rng.standard_normal(16)
    G, B, eps_term, gshift = layernorm_constants(g, b, 1e-5, 16, 0.05, QParams(0.04, 2))
    assert np.abs(G).max() <= 2**30 and 0 <= gshift <= 22
    assert np.allclose(G / 2**gshift, g / 0.04, atol=2**-gshift) and np.allclose(
        B / 2**gshift, b / 0.04, atol=2**-gshift
    )
    assert eps_term == round(16 * 16 * 1e-5 / 0.05**2)


def test_quantize_clamps_values_past_float64_without_a_warning():
    """A table over values near 0 (1 / sqrt(x) of an ONNX RMSNorm) meets numbers whose quotient by the
    scale overflows: they clamp to the range's ends, and numpy's overflow warning no longer prints."""
    import warnings

    from edgexf.compress.qmath import quantize as q8
    from edgexf.ir.graph import QParams

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = q8(np.array([1e308, -1e308, 0.0]), QParams(1e-10, 3), "int8")
    assert out.tolist() == [127, -128, 3]

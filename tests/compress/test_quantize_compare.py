"""The integer thresholds of an int8 comparison with a constant (edgexf/compress/quantize_compare.py):
for every code q, q <cmp> k holds exactly when the real value scale * (q - zero_point) <cmp> t does, the
real value and t taken exactly (fractions.Fraction), for thresholds on, just beside and between the
grid of representable values, beyond the code range, and infinite."""

from __future__ import annotations

import operator
from fractions import Fraction

import numpy as np
import pytest

from edgexf.compress.quantize_compare import threshold_code
from edgexf.ir.graph import QParams

OPS = {
    "greater": operator.gt,
    "greater_equal": operator.ge,
    "less": operator.lt,
    "less_equal": operator.le,
    "equal": operator.eq,
}


def thresholds(p: QParams) -> list[float]:
    s, z = p.scale, p.zero_point
    on_grid = [float(np.float32(s * (q - z))) for q in (-128, -100, -1, 0, 1, 57, 127)]
    beside = [float(np.nextafter(np.float32(t), np.float32(d))) for t in on_grid for d in (-np.inf, np.inf)]
    exact = [s * (q - z) for q in (-128, 3, 127)]  # in float64: exactly on the grid for a power-of-2 scale
    return on_grid + beside + exact + [s * 0.5, -s * 2.5, 1e6, -1e6, 0.0, -0.0, np.inf, -np.inf]


@pytest.mark.parametrize("params", [QParams(0.0123, -7), QParams(2.0**-5, 3), QParams(0.1, 127)])
@pytest.mark.parametrize("cmp", sorted(OPS))
def test_code_comparison_is_the_real_comparison(params, cmp):
    fn = OPS[cmp]
    s, z = Fraction(params.scale), params.zero_point
    for t in thresholds(params):
        k = threshold_code(t, params, "int8", cmp)
        assert -129 <= k <= 128
        for q in range(-128, 128):
            real = s * (q - z)
            want = fn(real, Fraction(t)) if np.isfinite(t) else fn(float(real), t)
            assert fn(q, k) == want, (t, q, k)

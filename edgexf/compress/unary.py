"""The float functions that the int8 pass turns into 256-entry tables (q_lut), computed in float64.

Each takes the dequantized int8 codes x and the float op (for its attributes). A table is exact at the
input's resolution: its only error is the int8 rounding of its input and output, so a function whose
output varies fast where its input is coarse (exp of a wide range, rsqrt near 0) is only as good as the
input's scale allows (edgexf/compress/quantize.py widens no ranges for it).
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: np.ndarray, op) -> np.ndarray:
    if op.attrs.get("approximate") == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _softplus(x: np.ndarray, op) -> np.ndarray:
    beta, threshold = op.attrs.get("beta", 1.0), op.attrs.get("threshold", 20.0)
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def _rsqrt(x: np.ndarray, op) -> np.ndarray:
    # codes at or below 0 (below the +eps add's output range) map to 1e30: the output range's top
    return 1.0 / np.sqrt(np.maximum(x, 1e-60))


UNARY = {
    "relu": lambda x, op: np.maximum(x, 0.0),
    "gelu": _gelu,
    "exp": lambda x, op: np.exp(x),
    "silu": lambda x, op: x / (1.0 + np.exp(-x)),
    "softplus": _softplus,
    "rsqrt": _rsqrt,
    "sigmoid": lambda x, op: 0.5 * (1.0 + np.tanh(0.5 * x)),  # = 1 / (1 + e^-x), without overflow
    "tanh": lambda x, op: np.tanh(x),
    "sqrt": lambda x, op: np.sqrt(np.maximum(x, 0.0)),
    "erf": lambda x, op: _erf(x),
    "log": lambda x, op: np.log(np.maximum(x, 1e-60)),  # codes at or below 0: the output range's bottom
}

"""The float functions that the int8 pass turns into 256-entry tables (q_lut), computed in float64: the int8
form of an elementwise op, named by its OpDef (int8_table) beside its reference and its C kernel.

Each takes the dequantized int8 codes x and the float op (for its attributes). A table is exact at the
input's resolution: its only error is the int8 rounding of its input and output, so a function whose
output varies fast where its input is coarse (exp of a wide range, rsqrt near 0) is only as good as the
input's scale allows (edgexf/compress/quantize.py widens no ranges for it). The pass
reads them through edgexf/compress/unary.py UNARY.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: np.ndarray, op) -> np.ndarray:
    if op.attrs.get("approximate") == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def softplus(x: np.ndarray, op) -> np.ndarray:
    beta, threshold = op.attrs.get("beta", 1.0), op.attrs.get("threshold", 20.0)
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def rsqrt(x: np.ndarray, op) -> np.ndarray:
    # codes at or below 0 (below the +eps add's output range) map to 1e30: the output range's top
    return 1.0 / np.sqrt(np.maximum(x, 1e-60))


def relu(x: np.ndarray, op) -> np.ndarray:
    return np.maximum(x, 0.0)


def exp(x: np.ndarray, op) -> np.ndarray:
    return np.exp(x)


def silu(x: np.ndarray, op) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def sigmoid(x: np.ndarray, op) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow


def tanh(x: np.ndarray, op) -> np.ndarray:
    return np.tanh(x)


def sqrt(x: np.ndarray, op) -> np.ndarray:
    return np.sqrt(np.maximum(x, 0.0))


def erf(x: np.ndarray, op) -> np.ndarray:
    return _erf(x)


def log(x: np.ndarray, op) -> np.ndarray:
    return np.log(np.maximum(x, 1e-60))  # codes at or below 0: the output range's bottom

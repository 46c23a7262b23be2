"""Inputs for the integer kernel tests: random and edge-case arrays, multipliers, and the comparison."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

rng = np.random.default_rng(20240612)
INT32_MAX = 2**31 - 1


def assert_same(c: np.ndarray, mirror: np.ndarray) -> None:
    assert c.dtype == mirror.dtype and c.shape == mirror.shape, (c.dtype, c.shape, mirror.dtype, mirror.shape)
    diff = c != mirror
    if diff.any():
        i = np.flatnonzero(diff)[0]
        raise AssertionError(
            f"{diff.sum()} of {c.size} differ; first at {i}: C {c.flat[i]} mirror {mirror.flat[i]}"
        )


def s8(*shape, g=rng) -> np.ndarray:
    return g.integers(-128, 128, shape).astype(np.int8)


def mult_shift(real: float, size: int | None = None, g=rng):
    """mult in [2^30, 2^31) and shift with mult / 2^shift = real times a random factor in [0.5, 2]."""
    r = real * 2.0 ** g.uniform(-1, 1, size)
    shift = 30 - np.floor(np.log2(r)).astype(np.int64)  # r * 2^shift in [2^30, 2^31)
    mult = np.minimum(np.round(r * 2.0**shift), INT32_MAX).astype(np.int64)
    return (int(mult), int(shift)) if size is None else (mult, shift)


def equal_rows(n: int, dtype=np.int8) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.stack([np.full(n, v, dtype) for v in (info.min, -1, 0, 5, info.max)])


def draw_int(draw, dtype, shape) -> np.ndarray:
    info = np.iinfo(dtype)
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(info.min, info.max + 1, shape).astype(dtype)

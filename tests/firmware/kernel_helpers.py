"""What the float and integer ctypes wrappers (conftest.py, qkernels.py) and their tests share:
binding signatures, pointers, rank-4 broadcast strides, and a hypothesis strategy for broadcasting."""

from __future__ import annotations

import ctypes

import numpy as np
from hypothesis import strategies as st


def assert_bits_equal(c: np.ndarray, mirror: np.ndarray) -> None:
    """Bit for bit, NaNs included (sign and payload)."""
    assert c.dtype == mirror.dtype == np.float32 and c.shape == mirror.shape
    diff = c.view(np.uint32) != mirror.view(np.uint32)
    if diff.any():
        i = np.flatnonzero(diff)[0]
        first = f"first at {i}: C {c.flat[i]!r} mirror {mirror.flat[i]!r}"
        raise AssertionError(f"{diff.sum()} of {c.size} differ; {first}")


def bind(lib: ctypes.CDLL, signatures: dict[str, list]) -> None:
    """Declare each function's argument types (all kernels return void)."""
    for name, argtypes in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = None


def ptr(a: np.ndarray | None) -> int | None:
    """The array's address; the caller keeps the array alive (a temporary would be freed at once)."""
    return None if a is None else a.ctypes.data


def i32(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int32)


def strides4(t: np.ndarray, shape4: tuple[int, ...]) -> np.ndarray:
    """Element strides of t seen as rank 4 and broadcast to shape4 (0 on broadcast axes)."""
    s = (1,) * (4 - t.ndim) + t.shape
    contiguous = np.cumprod((1,) + s[:0:-1])[::-1]  # row-major element strides of s
    return i32([0 if s[k] == 1 and shape4[k] != 1 else contiguous[k] for k in range(4)])


def broadcast_pair(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes of rank <= 4 that broadcast together (hypothesis: pass data.draw)."""
    rank = draw(st.integers(0, 4))
    full = draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))

    def operand():  # fmt: skip
        drop = draw(st.integers(0, rank))
        return tuple(1 if draw(st.booleans()) else s for s in full[drop:])

    return operand(), operand()

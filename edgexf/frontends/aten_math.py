"""aten ops of recurrent models' step functions (Mamba, LMU, mambapy's MambaBlock.step) -> IR math ops.

ATEN_MATH is merged into aten_ops.ATEN (one table). The names are those torch.export (torch 2.13)
produces: `torch.split(x, [a, b])` is aten.split_with_sizes, `x.chunk(2)` aten.chunk, `x ** 2`
aten.pow.Tensor_Scalar, `nn.Conv1d` aten.conv1d (aten.conv1d.padding with padding='same' or 'valid'),
`p.float()` aten.to.dtype after an aten._assert_tensor_metadata. A 3-D aten.convolution (a decomposed
program) reaches _conv1d through torch_export's conv2d handler.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:  # aten_ops imports this module to build its table
    from edgexf.frontends.torch_export import AtenConverter


def _unary(type: str) -> Callable[[AtenConverter, dict], str]:
    return lambda c, a: c.op(type, [a["self"]])


def _softplus(c: AtenConverter, a: dict) -> str:
    beta, threshold = float(a.get("beta", 1)), float(a.get("threshold", 20))
    if beta == 0 or not math.isfinite(beta) or not math.isfinite(threshold):
        raise c.refuse(f"beta={beta}, threshold={threshold} (beta finite and nonzero, threshold finite)")
    return c.op("softplus", [a["self"]], {"beta": beta, "threshold": threshold})


def _neg(c: AtenConverter, a: dict) -> str:
    return c.op("mul", [a["self"], c.scalar(-1.0)])  # x * -1 flips the sign bit exactly, as -x does


def _pow(c: AtenConverter, a: dict) -> str:
    x, e = a["self"], a["exponent"]
    if isinstance(e, bool) or not isinstance(e, int | float):
        raise c.refuse(f"exponent {e!r} (only a number: 2, 3, 0.5 or 1)")
    if e == 2:
        return c.op("mul", [x, x])  # torch computes x * x for exponent 2: the same bits
    if e == 0.5:
        return c.op("sqrt", [x])  # as torch does (ours correctly rounded; torch 2.13 CPU sqrt not always)
    if e == 1:
        return x
    if e == 3:  # the tanh GELU's x**3 (HuggingFace's NewGELU): (x * x) * x, within 2 ulp of torch's pow
        return c.op("mul", [c.op("mul", [x, x]), x])
    raise c.refuse(f"exponent {e} (only 2, 3, 0.5 and 1; write other powers as products)")


def _sum(c: AtenConverter, a: dict) -> str:
    x, dims = a["self"], a.get("dim")
    if a.get("dtype") not in (None, torch.float32):
        raise c.refuse(f"dtype={a['dtype']} (only float32)")
    shape = c.shape(x)
    rank = len(shape)
    if rank == 0:
        raise c.refuse("a 0-D input (nothing to sum over)")
    dims = sorted(d % rank for d in (dims if dims else range(rank)))
    if dims != list(range(dims[0], dims[-1] + 1)):
        raise c.refuse(f"dim={dims} (only consecutive axes)")
    # adjacent axes are one axis of their product (the kernel sums them in row-major order)
    merged = list(shape[: dims[0]]) + [math.prod(shape[d] for d in dims)] + list(shape[dims[-1] + 1 :])
    y = c.op("sum", [c.reshape(x, merged)], {"axis": dims[0] - len(merged), "keepdims": False})
    if a.get("keepdim"):
        y = c.reshape(y, [1 if i in dims else d for i, d in enumerate(shape)])
    return y


# ---- split, chunk: one slice op per piece --------------------------------------------------------


def _pieces(c: AtenConverter, x: str, dim: int, sizes: list[int]) -> list[str]:
    from edgexf.frontends.aten_ops import slice_of  # at call time: aten_ops imports this module

    if any(s <= 0 for s in sizes) or sum(sizes) != c.shape(x)[dim]:
        raise c.refuse(f"pieces of {sizes} along an axis of {c.shape(x)[dim]} (only nonempty pieces)")
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    return [slice_of(c, x, dim, s, s + n) for s, n in zip(starts, sizes)]


def _even_sizes(n: int, size: int) -> list[int]:
    return [min(size, n - s) for s in range(0, n, size)]


def _split_with_sizes(c: AtenConverter, a: dict) -> list[str]:
    x = a["self"]
    return _pieces(c, x, a.get("dim", 0) % len(c.shape(x)), [int(s) for s in a["split_sizes"]])


def _split(c: AtenConverter, a: dict) -> list[str]:
    x = a["self"]
    dim = a.get("dim", 0) % len(c.shape(x))
    return _pieces(c, x, dim, _even_sizes(c.shape(x)[dim], int(a["split_size"])))


def _chunk(c: AtenConverter, a: dict) -> list[str]:
    """torch.chunk: pieces of ceil(n / chunks), the last smaller (so maybe fewer than `chunks`)."""
    x = a["self"]
    dim = a.get("dim", 0) % len(c.shape(x))
    n = c.shape(x)[dim]
    return _pieces(c, x, dim, _even_sizes(n, -(-n // int(a["chunks"]))))


# ---- conv1d --------------------------------------------------------------------------------------


def _conv1d(c: AtenConverter, a: dict) -> str:
    x, w, b = a["input"], a["weight"], a.get("bias")
    if a.get("transposed"):
        raise c.refuse("transposed=True")
    stride, dilation = (list(a.get(k) or [1]) for k in ("stride", "dilation"))
    padding, k = a.get("padding") or [0], c.shape(w)[-1]
    if any(d != 1 for d in dilation):
        raise c.refuse(f"dilation={dilation} (only dilation 1)")
    if isinstance(padding, str):
        if padding == "same" and stride == [1] and (k - 1) % 2 == 0:
            padding = [(k - 1) // 2]
        elif padding == "valid":
            padding = [0]
        else:
            raise c.refuse(f"padding='{padding}' with kernel {k}, stride {stride} (uneven padding)")
    if len(stride) != 1 or len(padding) != 1:
        raise c.refuse(f"stride={stride}, padding={padding} (one value each for a 1-D convolution)")
    shape = c.shape(x)
    if len(shape) not in (2, 3):
        raise c.refuse(f"a {len(shape)}-D input (1-D convolution takes (N, C, L) or (C, L))")
    attrs = {"stride": int(stride[0]), "padding": int(padding[0]), "groups": int(a.get("groups") or 1)}
    if len(shape) == 3:
        return c.op("conv1d", [x, w, b or ""], attrs)
    y = c.op("conv1d", [c.reshape(x, [1, *shape]), w, b or ""], attrs)  # unbatched: (C, L) -> (O, L')
    return c.reshape(y, list(c.shape(y)[1:]))


# ---- dtype bookkeeping that mambapy's `self.A_log.float()` exports to ------------------------------


def _to_dtype(c: AtenConverter, a: dict) -> str:
    x = a["self"]
    if a["dtype"] != torch.float32:
        raise c.refuse(f"dtype={a['dtype']} (the compiled model is float32 throughout)")
    value = c.const_value(x)
    if value is not None and value.dtype != np.float32:
        return c.b.add_const(c.node.name, value.astype(np.float32))
    if c.b.tensor(x).dtype != "float32":
        raise c.refuse(f"a {c.b.tensor(x).dtype} input (only float32 activations)")
    return x


def _assert_metadata(c: AtenConverter, a: dict) -> None:
    """A check torch.export inserts (dtype, device, layout); shapes and dtypes here are static: no code."""
    return None


ATEN_MATH: dict[str, Callable[[AtenConverter, dict], Any]] = {
    "aten.exp.default": _unary("exp"),
    "aten.silu.default": _unary("silu"),
    "aten.softplus.default": _softplus,
    "aten.sigmoid.default": _unary("sigmoid"),
    "aten.tanh.default": _unary("tanh"),
    "aten.rsqrt.default": _unary("rsqrt"),
    "aten.sqrt.default": _unary("sqrt"),
    "aten.neg.default": _neg,
    "aten.pow.Tensor_Scalar": _pow,
    "aten.sum.dim_IntList": _sum,
    "aten.sum.default": _sum,
    "aten.split_with_sizes.default": _split_with_sizes,
    "aten.split.Tensor": _split,
    "aten.chunk.default": _chunk,
    "aten.conv1d.default": _conv1d,
    "aten.conv1d.padding": _conv1d,
    "aten.to.dtype": _to_dtype,
    "aten._assert_tensor_metadata.default": _assert_metadata,
}

"""Quantize with parameters given by the model file (a full-integer .tflite) instead of calibrated ones.

    float graph (weights dequantized from the file)  +  FileQuant (the file's scale / zero point of
    every tensor, its int8 weights and int32 biases)   =>   the integer graph of edgexf/ir/ops_q.py

The integer ops are those of the calibrated path (edgexf/compress/quantize.py: Quantizer, whose
handlers this subclass reuses): only where the numbers come from differs.
- Every activation takes the file's parameters; reshape/transpose/slice/concat groups must agree.
- Weights and biases are the file's own integers (same int8 bytes, same int32 biases); the
  requantization multiplier is TFLite's: float32(s_x * s_w) / s_y, rounded to 31 bits.
- A squared difference (LayerNorm's variance in TFLite's decomposition) has no int8 tensor for
  a - b: it is computed in int16 (symmetric, |a| + |b| in range) and squared into the int8 output.

Kernels stay edgexf's (one rounding, round half up; edgexf's tables for softmax, rsqrt, sigmoid), so
outputs are close to TFLM's, not bit-identical: benchmarks/tflite_agreement.py measures by how much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgexf.compress.groups import move_groups
from edgexf.compress.qmath import LIMITS, SOFTMAX_OUT, multiplier, scalar_multiplier
from edgexf.compress.quantize import QuantizedGraph, Quantizer
from edgexf.errors import QuantizationError
from edgexf.ir.graph import Graph, Op, QParams


@dataclass
class FileQuant:
    """A pre-quantized model's own numbers, by IR tensor name."""

    params: dict[str, QParams]  # activations and integer constants
    ints: dict[str, np.ndarray]  # constants as the file stores them (IR layout): int8 weights, int32 biases
    int16: set[str] = field(default_factory=set)  # intermediates the importer chose to keep in int16

    def to_dict(self) -> dict:
        return {"tensors": len(self.params), "integer_constants": len(self.ints), "int16": sorted(self.int16)}


def int16_params(*operands: QParams | None) -> QParams:
    """Symmetric int16 parameters covering a - b for int8 operands with these parameters."""
    if any(p is None or not isinstance(p.scale, float) for p in operands):
        raise QuantizationError("a squared difference needs per-tensor int8 parameters on both operands")
    top = sum(max(abs(-128 - p.zero_point), abs(127 - p.zero_point)) * p.scale for p in operands)
    return QParams(top / LIMITS["int16"][1], 0)


class _FileQuantizer(Quantizer):
    def __init__(self, g: Graph, fq: FileQuant):
        self.fq = fq
        super().__init__(g, None, set())

    def _assign(self, int16: set[str]) -> None:
        g = self.g
        groups = move_groups(g)
        self.params, self.dtype = {}, {}
        for members in groups.members().values():
            acts = [n for n in members if not g.tensors[n].is_const]
            if not acts:
                continue
            found = {self.fq.params[n] for n in acts if n in self.fq.params}
            if len(found) != 1:
                what = "no quantization parameters" if not found else f"{len(found)} different parameters"
                raise QuantizationError(
                    f"tensor(s) {', '.join(sorted(acts)[:4])} have {what} in the model file (tensors "
                    "joined by reshape/transpose/slice/concat share one scale and zero point)"
                )
            p = found.pop()
            dtype = "int16" if any(n in self.fq.int16 for n in acts) else "int8"
            for n in members:
                self.params[n], self.dtype[n] = p, dtype

    def handlers(self) -> dict[str, Callable[[Op], None]]:
        mine = {"linear": self.dot, "conv2d": self.dot, "matmul": self.matmul, "softmax": self.softmax}
        return super().handlers() | mine

    def const_q(self, base: str, data: np.ndarray) -> str:
        """A constant operand: the file's int8 values and parameters where it has them."""
        p = self.fq.params.get(base)
        if base in self.fq.ints and p is not None and isinstance(p.scale, float):
            return self.const(f"{base}.q", self.fq.ints[base].astype(np.int8), p)
        return super().const_q(base, data)

    def binary(self, op: Op) -> None:
        """As the calibrated pass, except that a mul may read int16 operands (a squared difference)."""
        if op.type != "mul" or not any(self.dtype.get(n) == "int16" for n in op.inputs if n):
            return super().binary(op)
        a, b = (self.operand(op, n, int8=False) for n in op.inputs)
        pa, pb, py = self.q(a), self.q(b), self.params[op.outputs[0]]
        mult, shift = scalar_multiplier(pa.scale * pb.scale / py.scale)
        attrs = dict(a_zp=pa.zero_point, b_zp=pb.zero_point, mult=mult, shift=shift)
        self.emit("q_mul", op, [a, b], attrs | {"out_zp": py.zero_point, "dtype": self.dtype[op.outputs[0]]})

    def matmul(self, op: Op) -> None:
        """As the calibrated pass, with TFLite's multiplier: float32(s_a * s_b) / s_y."""
        a, b = (self.operand(op, n) for n in op.inputs)
        pa, pb, py = self.q(a), self.q(b), self.params[op.outputs[0]]
        mult, shift = scalar_multiplier(
            float(np.float32(pa.scale) * np.float32(pb.scale)) / float(np.float32(py.scale))
        )
        attrs = dict(a_zp=pa.zero_point, b_zp=pb.zero_point, mult=mult, shift=shift, out_zp=py.zero_point)
        self.emit("q_matmul", op, [a, b], attrs)

    def softmax(self, op: Op) -> None:
        p = self.params[op.outputs[0]]
        if (p.zero_point, np.float32(p.scale)) != (SOFTMAX_OUT.zero_point, np.float32(SOFTMAX_OUT.scale)):
            raise QuantizationError(
                f"{op.describe()}: the file's softmax output has scale {p.scale:.6g}, zero point "
                f"{p.zero_point}; edgexf's int8 softmax writes scale 1/256, zero point -128 (as TFLite's "
                "int8 softmax does)"
            )
        super().softmax(op)

    def dot(self, op: Op) -> None:
        """linear / conv2d with the file's int8 weights (per channel) and int32 biases."""
        x, w, b = op.inputs
        if w not in self.fq.ints:
            return super().dot(op)
        wq = self.fq.ints[w].astype(np.int8)
        wp = self.fq.params[w]
        m = wq.shape[0]
        sw = np.broadcast_to(np.asarray(wp.scale, np.float32), (m,))
        xq = self.operand(op, x)
        sx, zx = self.q(xq).scale, self.q(xq).zero_point
        y = op.outputs[0]
        sy, zy = self.params[y].scale, self.params[y].zero_point
        if b and b in self.fq.ints:
            bias = self.fq.ints[b].astype(np.int64).reshape(-1)
        elif b:
            bias = np.round(np.asarray(self.g.tensors[b].data, np.float64) / (sx * sw.astype(np.float64)))
        else:
            bias = np.zeros(m, np.int64)
        if op.type == "linear":  # (x - zx) . w = x . w - zx * sum(w): the zero point goes into the bias
            bias = bias - zx * wq.astype(np.int64).reshape(m, -1).sum(axis=1)
        lo, hi = LIMITS["int32"]
        if np.any(bias < lo) or np.any(bias > hi):
            raise QuantizationError(f"{op.describe()}: a bias does not fit int32")
        # as TFLite: the product s_x * s_w in float32, divided by s_y in double
        real = (np.float32(sx) * sw).astype(np.float64) / np.float64(np.float32(sy))
        mult, shift = multiplier(real)
        wp = QParams(tuple(float(s) for s in sw), 0, 0)
        inputs = [xq, *self.dot_constants(op, wq, wp, bias, mult, shift)]
        attrs = {"out_zp": zy}
        if op.type == "conv2d":
            keep = {k: v for k, v in op.attrs.items() if k in ("stride", "padding", "groups", "dilation")}
            attrs = keep | {"in_zp": zx, "out_zp": zy}
        self.emit(f"q_{op.type}", op, inputs, attrs)


def quantize_with_file_params(graph: Graph, fq: FileQuant) -> QuantizedGraph:
    """The integer graph computing `graph` with the model file's own quantization (see module doc)."""
    qz = _FileQuantizer(graph, fq)
    qg = qz.run()
    return QuantizedGraph(qg, sorted(n for n in fq.int16 if n in qg.tensors))


def quantize_from_file(
    graph: Graph, fq: FileQuant, source: str, data: Path | None = None, samples: int = 256
) -> tuple[Graph, dict]:
    """`edgexf compile` of a pre-quantized model: the integer graph and report.json's "quantization"
    entry; with data (the test set: there is no calibration set), the per-layer errors against the
    float graph of the same (dequantized) weights."""
    from edgexf.compress.layer_errors import layer_errors
    from edgexf.datasets import as_samples, load_npz

    q = quantize_with_file_params(graph, fq).graph
    t = q.tensors
    report = {
        "dtype": "int8",
        "weights": "int8 per output channel and int32 biases, as stored in the model file",
        "activations": "int8 per tensor with the model file's scale and zero point",
        "requantization": "round(acc * mult / 2^shift), ties toward +inf, int64 intermediate",
        "calibration": {
            "file": str(data) if data else None,
            "method": f"parameters from the model file ({source})",
        },
        "file_params": fq.to_dict(),
        "int16_tensors": sorted(n for n in fq.int16 if n in t),
        "input": t[q.inputs[0]].quant.to_dict(),
        "output": t[q.outputs[0]].quant.to_dict(),
        "layer_error_samples": 0,
        "layers": None,
    }
    if data is not None:
        x = as_samples(load_npz(data)[0], graph.io_shape(graph.inputs[0]), f"{data} (array x)")[:samples]
        report |= {"layer_error_samples": len(x), "layers": layer_errors(graph, q, x)}
    return q, report

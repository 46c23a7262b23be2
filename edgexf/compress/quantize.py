"""Post-training quantization: a float graph and calibrated ranges -> an integer graph (int8, some int16).

Each float op becomes the integer op of edgexf/ir/ops_q.py that computes it, with every constant the
kernel needs (int8 weights, int32 biases, multipliers and shifts, tables) worked out here. Tensors
keep their names, so the float and integer graphs can be compared layer by layer.

Which tensors share parameters: reshape, transpose, slice and concat move bytes without arithmetic, and
max, maximum and pad pick among their inputs' values, so their inputs and outputs form one group with one
scale, zero point and type (a constant joining a concat, such as a class token, or a pad value, is
quantized in the group's parameters, and its value is in the group's range); so do compare's two tensors.

int16: tensors chosen with `int16` patterns ("residual" = every add/sub output, or fnmatch globs on
tensor names; edgexf/compress/int16_select.py) stay int16 (symmetric) when everything that writes them
can write int16 (add, sub, requant, data movement). A consumer with only an int8 kernel reads an int8
copy made by a q_requant.

Recurrent (streaming) graphs: a state and its next state are one group (the C copies the next state's
bytes into the state), symmetric (zero point 0: edgexf_reset() zeroes the bytes, which must mean 0.0),
with the range of both over every step of the calibration sequences. The "state" pattern keeps the
states and the add that updates them in int16; there, linear (q_linear_q) and mul can write int16 too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgexf.compress.calibrate import Ranges
from edgexf.compress.fold_layernorm import foldable, folded_weights, normalized_name
from edgexf.compress.groups import MOVES, move_groups
from edgexf.compress.int16_select import has_scalar, select_int16
from edgexf.compress.qmath import (
    LIMITS,
    SOFTMAX_OUT,
    activation_params,
    bias_scale_floor,
    layernorm_constants,
    layernorm_plain_constants,
    multiplier,
    pair_multipliers,
    quantize,
    quantize_weight,
    scalar_multiplier,
    softmax_exp_table,
    unary_table,
)
from edgexf.compress.quantize_compare import quantize_compare
from edgexf.compress.unary import UNARY
from edgexf.errors import QuantizationError
from edgexf.ir.graph import Graph, Op, QParams, Tensor, source_module, unique_name
from edgexf.ir.opdef import ConvGeometry

INT16_OUTPUTS = ("add", "sub")  # float ops whose integer form can write int16
# ... and in a recurrent graph also these: q_linear_q (int16 in/out) has no DSP or fused kernel, so only
# the recurrence, where the state's precision carries over every step, is worth it
INT16_OUTPUTS_STREAMING = (*INT16_OUTPUTS, "mul", "linear")
SOFTMAX_MAX_ROW = 16384  # the int8 softmax's int32 sum holds this many 2^16 entries

BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


@dataclass
class QuantizedGraph:
    graph: Graph
    int16: list[str]  # tensors kept in int16
    int16_refused: dict[str, str] = field(default_factory=dict)  # chosen, but kept int8: why


class Quantizer:
    def __init__(self, g: Graph, ranges: Ranges, int16: set[str]):
        if len(g.inputs) != 1:
            raise QuantizationError("quantization handles single-input graphs only")
        if g.tensors[g.inputs[0]].dtype != "float32":
            raise QuantizationError("the graph is not a float32 graph (already quantized?)")
        self.g, self.ranges = g, ranges
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.int8_copies: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        self._assign(int16)
        # LayerNorm -> the linear its gamma and beta go into; the linear's name -> (LayerNorm, z's name)
        self.ln_folds = foldable(g, ranges.lo if ranges else {}, self.dtype)  # a file's scales: no fold
        self.folded_into: dict[str, tuple[Op, str]] = {}

    # ---- parameters for every activation -------------------------------------------------------

    def _assign(self, int16: set[str]) -> None:
        g = self.g
        groups = move_groups(g)
        for state, nxt in g.states:  # the C copies the next state's bytes into the state: one group
            groups.union(state, nxt)
        states = set(g.state_inputs())
        producer = g.producer()
        self.params: dict[str, QParams] = {}
        self.dtype: dict[str, str] = {}
        for members in groups.members().values():
            if all(g.tensors[n].is_const for n in members):
                continue
            lo, hi = self._range(members)
            dtype = "int8"
            chosen = [n for n in members if n in int16]
            if chosen:
                why = self._int16_blocker(members, producer)
                if why:
                    self.refused.update({n: why for n in chosen})
                else:
                    dtype = "int16"
            fixed = any(producer.get(n) is not None and producer[n].type == "softmax" for n in members)
            symmetric = any(n in states for n in members)  # zeroed bytes must mean 0.0
            if symmetric:
                params = activation_params(lo, hi, dtype, symmetric=True)
            elif fixed and dtype == "int8":
                params = SOFTMAX_OUT
            else:
                params = activation_params(lo, hi, dtype)
            for n in members:
                self.params[n], self.dtype[n] = params, dtype

    def _range(self, members: list[str]) -> tuple[float, float]:
        lo, hi = np.inf, -np.inf
        for n in members:
            t = self.g.tensors[n]
            a, b = (
                (float(t.data.min()), float(t.data.max()))
                if t.is_const
                else (self.ranges.lo[n], self.ranges.hi[n])
            )
            lo, hi = min(lo, a), max(hi, b)
        return lo, hi

    def _int16_blocker(self, members: list[str], producer: dict[str, Op]) -> str | None:
        for n in members:
            if n in self.g.inputs:
                return f"it shares parameters with the graph input {n!r}, which is int8"
            op = producer.get(n)
            if op is None or op.type in MOVES:
                continue
            writers = INT16_OUTPUTS_STREAMING if self.g.is_streaming else INT16_OUTPUTS
            if op.type not in writers or has_scalar(self.g, op):  # a scalar operand: a table, int8
                return f"{op.describe()} writes it, and has an int8 output only"
        return None

    # ---- building the integer graph ------------------------------------------------------------

    def unique(self, base: str) -> str:
        return unique_name(base, self.tensors, self.g.tensors)

    @staticmethod
    def owner(op: Op) -> str:
        """What a table is named after: the op's module and type ("blocks.0.attn.softmax"), a LayerNorm's
        constants its module ("blocks.0.norm1", where gamma is no module's .weight); else the op's name."""
        module = source_module(op.source)
        if not module:
            return op.name
        return module if op.type == "layernorm" else f"{module}.{op.type}"

    def dot_constants(self, op: Op, wq: np.ndarray, wp: QParams, bias, mult, shift) -> list[str]:
        """A linear's or convolution's constants, named after its float weight W (W.q) and bias b (b.q),
        the per-channel multipliers and shifts after W's module ("blocks.0.attn.qkv.mult")."""
        _, w, b = op.inputs
        base = w.removesuffix(".weight")
        return [
            self.const(f"{w}.q", wq, wp),
            self.const(f"{b or base + '.bias'}.q", np.asarray(bias).astype(np.int32)),
            self.const(f"{base}.mult", mult),
            self.const(f"{base}.shift", shift),
        ]

    def const(self, base: str, value: np.ndarray, quant: QParams | None = None) -> str:
        name = self.unique(base)
        value = np.ascontiguousarray(value)
        self.tensors[name] = Tensor(name, tuple(value.shape), str(value.dtype), value, quant)
        return name

    def activation(self, name: str) -> str:
        if name not in self.tensors:
            t = self.g.tensors[name]
            self.tensors[name] = Tensor(name, t.shape, self.dtype[name], None, self.params[name])
        return name

    def emit(self, type: str, op: Op, inputs: list[str], attrs: dict, output: str | None = None) -> None:
        out = output or op.outputs[0]
        self.activation(out)
        name = op.name if output is None else self.unique(f"{op.name}.{type}")
        self.ops.append(Op(type, name, inputs, [out], attrs, op.source))

    def operand(self, op: Op, name: str, int8: bool = True) -> str:
        """An input as the integer op reads it: an int8 copy of an int16 tensor where int8 is needed;
        a constant quantized per-tensor (asymmetric int8) from its own range."""
        t = self.g.tensors[name]
        if t.is_const:
            return self.const_q(name, t.data)
        self.activation(name)
        if not int8 or self.dtype[name] == "int8":
            return name
        if name not in self.int8_copies:
            lo, hi = self._range([name])
            params = activation_params(lo, hi, "int8")
            copy = self.unique(f"{name}.int8")
            self.tensors[copy] = Tensor(copy, t.shape, "int8", None, params)
            mult, shift = scalar_multiplier(self.params[name].scale / params.scale)
            attrs = dict(in_zp=0, mult=mult, shift=shift, out_zp=params.zero_point, dtype="int8")
            self.ops.append(Op("q_requant", self.unique(f"{name}.to_int8"), [name], [copy], attrs, op.source))
            self.int8_copies[name] = copy
        return self.int8_copies[name]

    def const_q(self, base: str, data: np.ndarray) -> str:
        params = activation_params(float(data.min()), float(data.max()), "int8")
        return self.const(f"{base}.q", quantize(data, params, "int8"), params)

    def q(self, name: str) -> QParams:
        return self.tensors[name].quant

    # ---- one method per float op type ----------------------------------------------------------

    def dot(self, op: Op) -> None:
        x, w, b = op.inputs
        if not self.g.tensors[w].is_const:
            raise QuantizationError(f"{op.describe()}: the weight is not a constant, so it has no int8 form")
        y = op.outputs[0]
        wide = op.type == "linear" and "int16" in (self.dtype[x], self.dtype[y])  # q_linear_q
        wf, bf = self.g.tensors[w].data, (self.g.tensors[b].data if b else None)
        if op.name in self.folded_into:  # reads the normalized z: gamma and beta in W and b
            ln, xq = self.folded_into[op.name]
            wf, bf = folded_weights(self.g, ln, op)
        else:
            xq = self.operand(op, x, int8=not wide)
        sx, zx = self.q(xq).scale, self.q(xq).zero_point
        floor = bias_scale_floor(bf, sx) if bf is not None else None  # thin low-rank factors
        wq, wp = quantize_weight(wf, axis=0, min_scale=floor)
        sw = np.asarray(wp.scale)
        sy, zy = self.params[y].scale, self.params[y].zero_point
        bias = np.zeros(len(sw)) if bf is None else np.asarray(bf, np.float64) / (sx * sw)
        bias = np.round(bias)
        if op.type == "linear":  # (x - zx) . w = x . w - zx * sum(w): the zero point goes into the bias
            bias = bias - zx * wq.astype(np.int64).reshape(len(sw), -1).sum(axis=1)
        lo, hi = LIMITS["int32"]
        if np.any(bias < lo) or np.any(bias > hi):
            raise QuantizationError(f"{op.describe()}: a bias does not fit int32 at scale {sx:.3g}")
        mult, shift = multiplier(sx * sw / sy)
        inputs = [xq, *self.dot_constants(op, wq, wp, bias, mult, shift)]
        attrs = {"out_zp": zy}
        if wide:
            # the C accumulates in int64; requantize needs |acc * mult| < 2^62, so |acc| < 2^31
            xmax = 32768 if self.tensors[xq].dtype == "int16" else 256  # |x - zx| for int8
            if np.abs(bias).max() + wq.shape[1] * xmax * 127 >= 2**31:
                raise QuantizationError(
                    f"{op.describe()}: {wq.shape[1]} int16 inputs could overflow the accumulator's 2^31"
                )
            return self.emit("q_linear_q", op, inputs, attrs | {"dtype": self.dtype[y]})
        if op.type == "conv2d":
            geo = ConvGeometry.of(op)
            attrs = {"stride": geo.stride, "padding": geo.pads, "dilation": geo.dilation}
            attrs |= {"groups": geo.groups, "in_zp": zx, "out_zp": zy}
        elif op.type == "conv1d":  # stride, padding, dilation and groups as they are
            attrs = dict(op.attrs, in_zp=zx, out_zp=zy)
        self.emit(f"q_{op.type}", op, inputs, attrs)

    def matmul(self, op: Op) -> None:
        a, b = (self.operand(op, n) for n in op.inputs)
        pa, pb, py = self.q(a), self.q(b), self.params[op.outputs[0]]
        mult, shift = scalar_multiplier(pa.scale * pb.scale / py.scale)
        attrs = dict(a_zp=pa.zero_point, b_zp=pb.zero_point, mult=mult, shift=shift, out_zp=py.zero_point)
        self.emit("q_matmul", op, [a, b], attrs)

    def lut(self, op: Op, x: str, fn, scalar: float | None = None) -> None:
        """scalar: the factor c of a table for x * c (a mul or a division by a constant), kept as an
        attribute so a fusion can fold it into another multiplier (the int8 attention's scores)."""
        xq = self.operand(op, x)
        table = unary_table(fn, self.q(xq), self.params[op.outputs[0]])
        attrs = {"fn": op.type} | ({} if scalar is None else {"scalar": scalar})
        self.emit("q_lut", op, [xq, self.const(f"{self.owner(op)}.table", table)], attrs)

    def unary(self, op: Op) -> None:
        self.lut(op, op.inputs[0], lambda x: UNARY[op.type](x, op))

    def binary(self, op: Op) -> None:
        a, b = op.inputs
        ta, tb = self.g.tensors[a], self.g.tensors[b]
        fn = BINARY[op.type]
        if tb.is_const and tb.numel == 1:
            c = float(tb.data.reshape(()))
            scalar = {"mul": c, "div": 1.0 / c if c else None}.get(op.type)
            return self.lut(op, a, lambda x: fn(x, c), scalar)
        if ta.is_const and ta.numel == 1:
            c = float(ta.data.reshape(()))
            return self.lut(op, b, lambda x: fn(c, x), c if op.type == "mul" else None)
        y = op.outputs[0]
        py, dtype = self.params[y], self.dtype[y]
        if op.type in ("add", "sub"):
            aq, bq = self.operand(op, a, int8=False), self.operand(op, b, int8=False)
            pa, pb = self.q(aq), self.q(bq)
            sign = -1.0 if op.type == "sub" else 1.0
            ma, mb, shift = pair_multipliers(pa.scale / py.scale, sign * pb.scale / py.scale)
            attrs = dict(a_zp=pa.zero_point, b_zp=pb.zero_point, ma=ma, mb=mb, shift=shift)
            return self.emit("q_add", op, [aq, bq], attrs | {"out_zp": py.zero_point, "dtype": dtype})
        if op.type == "div":
            if not tb.is_const:
                raise QuantizationError(
                    f"{op.describe()}: division by a tensor that is not constant has no int8 kernel"
                )
            with np.errstate(divide="ignore"):
                recip = np.float32(1.0) / tb.data
            if not np.all(np.isfinite(recip)):
                raise QuantizationError(f"{op.describe()}: divides by zero")
            bq = self.const_q(f"{b}.reciprocal", recip)
        else:
            bq = self.operand(op, b, int8=not self.g.is_streaming)  # a recurrent graph: h (int16) * dA
        aq = self.operand(op, a, int8=not self.g.is_streaming)
        pa, pb = self.q(aq), self.q(bq)
        mult, shift = scalar_multiplier(pa.scale * pb.scale / py.scale)
        attrs = dict(a_zp=pa.zero_point, b_zp=pb.zero_point, mult=mult, shift=shift)
        self.emit("q_mul", op, [aq, bq], attrs | {"out_zp": py.zero_point, "dtype": dtype})

    def layernorm(self, op: Op) -> None:
        x, gamma, beta = op.inputs
        xq = self.operand(op, x, int8=False)
        d = self.g.tensors[x].shape[-1]
        g = self.g.tensors[gamma].data if gamma else np.ones(d)
        b = self.g.tensors[beta].data if beta else np.zeros(d)
        if op.name in self.ln_folds:  # z = the normalized x in its own range; gamma, beta in the linear
            y = op.outputs[0]
            key = normalized_name(y)
            pz = activation_params(self.ranges.lo[key], self.ranges.hi[key], "int8")
            z = self.unique(normalized_name(y))
            self.tensors[z] = Tensor(z, self.g.tensors[y].shape, "int8", None, pz)
            self.folded_into[self.ln_folds[op.name].name] = (op, z)
            eps_term, mult, mshift = layernorm_plain_constants(op.attrs["eps"], d, self.q(xq).scale, pz)
            attrs = dict(eps_term=eps_term, mult=mult, mshift=mshift, out_zp=pz.zero_point)
            self.ops.append(Op("q_layernorm", op.name, [xq, "", ""], [z], attrs, op.source))
            return
        py = self.params[op.outputs[0]]
        G, B, eps_term, gshift = layernorm_constants(g, b, op.attrs["eps"], d, self.q(xq).scale, py)
        base = gamma.removesuffix(".weight") if gamma.endswith(".weight") else self.owner(op)
        inputs = [xq, self.const(f"{base}.gamma", G), self.const(f"{base}.beta", B)]
        self.emit("q_layernorm", op, inputs, dict(eps_term=eps_term, gshift=gshift, out_zp=py.zero_point))

    def softmax(self, op: Op) -> None:
        xq = self.operand(op, op.inputs[0])
        n = self.tensors[xq].shape[-1]
        if n > SOFTMAX_MAX_ROW:
            raise QuantizationError(
                f"{op.describe()}: rows of {n} exceed the int8 softmax's {SOFTMAX_MAX_ROW}"
            )
        table = softmax_exp_table(self.q(xq).scale)
        self.emit("q_softmax", op, [xq, self.const(f"{self.owner(op)}.exp", table)], {})

    def mean(self, op: Op) -> None:
        xq = self.operand(op, op.inputs[0])
        n = self.g.tensors[op.inputs[0]].shape[op.attrs["axis"]] if op.type == "mean" else 1  # sum: n = 1
        px, py = self.q(xq), self.params[op.outputs[0]]
        mult, shift = scalar_multiplier(px.scale / (n * py.scale))
        attrs = dict(op.attrs, in_zp=px.zero_point, mult=mult, shift=shift, out_zp=py.zero_point)
        self.emit("q_mean", op, [xq], attrs)

    def move(self, op: Op) -> None:
        inputs = []
        for n in op.inputs:
            t = self.g.tensors[n]
            if t.is_const:  # e.g. a class token: in the group's parameters and type
                p, dt = self.params[op.outputs[0]], self.dtype[op.outputs[0]]
                inputs.append(self.const(f"{n}.q", quantize(t.data, p, dt), p))
            else:
                inputs.append(self.activation(n))
        self.emit(op.type, op, inputs, dict(op.attrs))

    def handlers(self) -> dict:
        """Float op type -> the method that emits its integer form (a subclass may add or replace)."""
        return {
            "linear": self.dot, "conv2d": self.dot, "conv1d": self.dot, "matmul": self.matmul,
            "layernorm": self.layernorm, "softmax": self.softmax, "mean": self.mean, "sum": self.mean,
            **{t: self.unary for t in UNARY}, **{t: self.binary for t in BINARY},
            **{t: self.move for t in MOVES}, "compare": lambda op: quantize_compare(self, op),
        }  # fmt: skip

    def run(self) -> Graph:
        handlers = self.handlers()
        g = self.g
        for name in g.inputs:
            if self.dtype[name] != "int8":
                raise QuantizationError(f"graph input {name!r} must be int8")
            self.activation(name)
        for name in g.state_inputs():
            self.activation(name)
        missing = sorted({op.type for op in g.ops if op.type not in handlers})
        if missing:  # all of them at once: what a kernel author needs to know
            first = next(op for op in g.ops if op.type not in handlers)
            raise QuantizationError(
                f"op type(s) {', '.join(missing)} have no int8 form (the first: {first.describe()}); "
                f"--quantize int8 handles {', '.join(sorted(handlers))}"
            )
        for op in g.ops:
            handlers[op.type](op)
        return Graph(
            g.name, self.tensors, self.ops, list(g.inputs), list(g.outputs), list(g.states), g.steps
        ).verify()


def quantize_graph(graph: Graph, ranges: Ranges, int16: list[str] | tuple[str, ...] = ()) -> QuantizedGraph:
    """The integer graph computing `graph`, with activation ranges from calibration."""
    chosen = select_int16(graph, int16)
    qz = Quantizer(graph, ranges, chosen)
    qg = qz.run()
    kept = sorted(n for n in chosen if n in qg.tensors and qg.tensors[n].dtype == "int16")
    return QuantizedGraph(qg, kept, qz.refused)

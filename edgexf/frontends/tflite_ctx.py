"""The state a TFLite operator handler works with (Ctx): the graph being built, the file's tensors,
the TFLite -> IR name map and, for an int8 model, the file's parameters of every IR tensor.

Parameters: a TFLite output keeps its own; an intermediate IR tensor (a conv before its fused
activation) gets those of the TFLite output it leads to; data movement (reshape, transpose, slice,
concat) shares its input's (edgexf/compress/fixed_qparams.py groups them), and where TFLite changes
parameters across a move a requantization (x * 1.0, an int8 table) is inserted. Constants that are
reshaped or transposed at load keep their stored integers, so the int8 pass uses the file's bytes.
"""

from __future__ import annotations

import numpy as np

from edgexf.compress.fixed_qparams import FileQuant
from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph, QParams

MOVES = ("reshape", "transpose", "slice", "concat")
FUSED = {0: None, 1: "relu"}  # ActivationFunctionType: NONE, RELU; others are refused
FUSED_NAMES = {2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


class Ctx:
    """What a handler works with: the builder, the file's tensors, and the TFLite -> IR name map."""

    def __init__(self, b: GraphBuilder, tensors, quantized: bool, where: str):
        self.b, self.tensors, self.quantized, self.where = b, tensors, quantized, where
        self.names: dict[int, str] = {}  # TFLite tensor index -> IR tensor name
        self.params: dict[str, QParams] = {}  # IR activation -> the file's parameters
        self.ints: dict[str, np.ndarray] = {}  # IR constant -> its integers as stored (IR layout)
        self.int16: set[str] = set()  # intermediates kept in int16 (a squared difference's a - b)
        self.k, self.op_name, self.cur = -1, "", None

    # ---- bookkeeping ---------------------------------------------------------------------------

    def start(self, k: int, op_name: str, op) -> None:
        self.k, self.op_name, self.cur = k, op_name, op
        outs = self.outs(op)
        self.out_params = self.tensors[outs[0]].qparams() if outs else None

    def out_name(self, op) -> str:
        outs = [int(i) for i in (op.outputs if op.outputs is not None else [])]
        return self.tensors[outs[0]].name if outs and 0 <= outs[0] < len(self.tensors) else "?"

    def source(self) -> str:
        return f"tflite operator {self.k} ({self.op_name})"

    def error(self, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"{self.where}: operator {self.k} ({self.op_name}): {what}")

    def ins(self, op, needed: int = 1) -> list[int]:
        """The operator's input indices; the first `needed` must be present (-1 marks an absent optional)."""
        idx = [int(i) for i in (op.inputs if op.inputs is not None else [])]
        if any(not -1 <= i < len(self.tensors) for i in idx) or any(i < 0 for i in idx[:needed]):
            raise ModelLoadError(
                f"{self.where}: operator {self.k} ({self.op_name}) reads a tensor index out of range"
            )
        if len(idx) < needed:
            raise ModelLoadError(
                f"{self.where}: operator {self.k} ({self.op_name}) has {len(idx)} inputs, needs {needed}"
            )
        return idx

    def outs(self, op) -> list[int]:
        idx = [int(i) for i in (op.outputs if op.outputs is not None else [])]
        if not idx or any(not 0 <= i < len(self.tensors) for i in idx):
            raise ModelLoadError(f"{self.where}: operator {self.k} has an output index out of range")
        return idx

    def bind(self, index: int, name: str) -> None:
        t = self.tensors[index]
        if index in self.names:
            raise ModelLoadError(f"{self.where}: tensor {t.name!r} is written twice")
        if self.b.tensor(name).shape != t.shape:
            raise ModelLoadError(
                f"{self.where}: operator {self.k} ({self.op_name}): output {t.name!r} is {list(t.shape)} in "
                f"the file, but the op computes {list(self.b.tensor(name).shape)}"
            )
        self.names[index] = name
        if self.quantized and t.qparams() is not None and not self.b.tensor(name).is_const:
            self.params.setdefault(name, t.qparams())

    # ---- reading inputs ------------------------------------------------------------------------

    def value(self, index: int) -> str:
        """The IR tensor holding TFLite tensor `index` (a constant is added as a float constant)."""
        if index in self.names:
            return self.names[index]
        t = self.tensors[index]
        if t.data is None:
            raise ModelLoadError(
                f"{self.where}: operator {self.k} ({self.op_name}) reads {t.name!r} before any operator "
                "writes it"
            )
        name = self.b.add_const(f"t{index}", t.dequantized())
        self.names[index] = name
        if t.type in ("INT8", "INT32") and t.qparams() is not None:
            self.ints[name], self.params[name] = t.data, t.qparams()
        return name

    def const(self, index: int) -> np.ndarray:
        """A constant operand (shape, axes, perm, begin/size): its stored values."""
        t = self.tensors[index]
        if t.data is None:
            raise self.error(f"operand {t.name!r} must be a constant (it is computed at run time)")
        return t.data

    def weight(self, index: int, perm: tuple[int, ...] | None = None, axis: int = 0) -> str:
        """A weight constant, its axes permuted to the IR layout; per-channel scales end up on `axis`."""
        t = self.tensors[index]
        if index in self.names and self.b.tensor(self.names[index]).is_const:  # e.g. DEQUANTIZE(float16)
            v = self.b.tensor(self.names[index]).data
            return self.b.add_const(f"t{index}", v if perm is None else np.transpose(v, perm))
        if t.data is None:
            raise self.error(f"the weight {t.name!r} is not a constant")
        if t.type == "INT8" and not self.quantized:
            raise UnsupportedOpError(
                f"{self.where}: operator {self.k} ({self.op_name}) has int8 weights and float32 activations "
                "(a dynamic-range / hybrid quantized model); edgexf imports float32 or full-integer int8 "
                "models: convert without dynamic-range quantization, or quantize fully (static_wi8_ai8)"
            )
        value = t.dequantized() if perm is None else np.transpose(t.dequantized(), perm)
        name = self.b.add_const(f"t{index}", value)
        if t.type == "INT8" and t.qparams() is not None:
            self.ints[name] = t.data if perm is None else np.ascontiguousarray(np.transpose(t.data, perm))
            self.params[name] = t.qparams(axis=axis if t.scale and len(t.scale) > 1 else None)
        return name

    # ---- adding IR ops -------------------------------------------------------------------------

    def op(
        self, type: str, inputs: list[str], attrs: dict | None = None, params: QParams | None = None
    ) -> str:
        name = self.b.add1(type, inputs, attrs, name=f"{self.op_name.lower()}_{self.k}", source=self.source())
        if self.quantized and type not in MOVES:
            p = params or self.out_params
            if p is not None:
                self.params[name] = p
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        return self.b.tensor(name).shape

    def reshape(self, x: str, shape) -> str:
        shape = tuple(int(d) for d in shape)
        if shape == self.shape(x):
            return x
        if self.b.tensor(x).is_const:
            return self._const_like(x, lambda v: v.reshape(shape))
        return self.op("reshape", [x], {"shape": shape})

    def _const_like(self, x: str, fn) -> str:
        """fn applied to constant x now, its stored integers too (so the int8 pass finds the file's)."""
        name = self.b.add_const(f"{x}.{self.k}", fn(self.b.tensor(x).data))
        if x in self.ints and isinstance(self.params[x].scale, float):
            self.ints[name], self.params[name] = np.ascontiguousarray(fn(self.ints[x])), self.params[x]
        return name

    def transpose(self, x: str, perm) -> str:
        perm = [int(p) for p in perm]
        if perm == sorted(perm):
            return x
        moved = [p for p in perm if self.shape(x)[p] != 1]
        if moved == sorted(moved):  # only axes of size 1 move: the same bytes
            return self.reshape(x, [self.shape(x)[p] for p in perm])
        if self.b.tensor(x).is_const:
            return self._const_like(x, lambda v: np.transpose(v, perm))
        return self.op("transpose", [x], {"perm": perm})

    def requant_to(self, x: str, p: QParams | None) -> str:
        """x with parameters p: x * 1.0, which the int8 pass makes a 256-entry table."""
        if not self.quantized or p is None or self.params_of(x) in (None, p):
            return x
        one = self.b.add_const(f"{self.op_name.lower()}_{self.k}.one", np.array(1.0, np.float32))
        return self.op("mul", [x, one], params=p)

    def params_of(self, name: str) -> QParams | None:
        """The parameters an IR activation will have (through the moves it comes from)."""
        producer = {o: op for op in self.b.ops for o in op.outputs}
        while name not in self.params and name in producer and producer[name].type in MOVES:
            name = producer[name].inputs[0]
        return self.params.get(name)

    def activation(self, x: str, fused: int) -> str:
        if fused not in FUSED:
            raise self.error(
                f"fused activation {FUSED_NAMES.get(fused, fused)} is not supported (only NONE and RELU)"
            )
        return x if FUSED[fused] is None else self.op(FUSED[fused], [x])

    def output(self, op, name: str, k: int = 0) -> None:
        """Bind the op's k-th output to `name`; a move whose output has other parameters is requantized."""
        out = self.outs(op)[k]
        if self.quantized and not self.b.tensor(name).is_const:
            name = self.requant_to(name, self.tensors[out].qparams())
        self.bind(out, name)

    def file_quant(self, graph: Graph) -> FileQuant:
        params = {n: p for n, p in self.params.items() if n in graph.tensors}
        ints = {n: v for n, v in self.ints.items() if n in graph.tensors}
        return FileQuant(params, ints, {n for n in self.int16 if n in graph.tensors})

"""TFLite frontend: a .tflite flatbuffer becomes an IR Graph, float32 or pre-quantized int8.

The file is parsed with the flatbuffer schema tflite-micro ships (schema_py_generated), checked
(identifier "TFL3", one subgraph, static shapes, tensor types edgexf runs), then each operator maps
onto IR ops through one table, TFLITE_OPS (edgexf/frontends/tflite_ops.py). Tensors keep TFLite's
layout (NHWC): a convolution becomes transpose -> conv2d (NCHW, OIHW) -> transpose, where a transpose
that moves only axes of size 1 is a reshape (no copy).

A full-integer model (int8 activations per tensor, int8 weights per channel, int32 biases; made by
ai-edge-quantizer's static_wi8_ai8 or TFLite's converter) becomes the float graph of the same
function (weights dequantized) plus the file's own parameters for every tensor (FileQuant). The
compiler then quantizes with those parameters instead of calibrating
(edgexf/compress/fixed_qparams.py), so the int8 weights and int32 biases are the file's bytes.

Every problem with the file is a ModelLoadError or UnsupportedOpError that says what is wrong and
what to do; the flatbuffer reader's own exceptions (IndexError, struct.error, ...) on damaged bytes
are caught and reported as a damaged file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgexf.compress.fixed_qparams import FileQuant
from edgexf.errors import EdgexfError, ModelLoadError, UnsupportedOpError
from edgexf.frontends.tflite_ctx import Ctx
from edgexf.frontends.tflite_ops import TFLITE_OPS
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph, GraphError, QParams

FILE_IDENTIFIER = b"TFL3"
_NUMPY = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT8": np.int8, "INT32": np.int32, "INT64": np.int64}
QUANTIZE_HOW = (
    "convert it as float32, or quantize it fully to int8 (ai-edge-quantizer's static_wi8_ai8 recipe, or "
    "TFLiteConverter with a representative_dataset and int8 inference types)"
)


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


def _enum_names(enum) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")}


@dataclass
class TfliteTensor:
    """One tensor of the subgraph, as the file describes it."""

    index: int
    name: str
    shape: tuple[int, ...]
    type: str  # the schema's TensorType name: FLOAT32, INT8, INT32, ...
    data: np.ndarray | None  # constants: the stored values, in the stored type
    scale: tuple[float, ...] | None
    zero_point: tuple[int, ...] | None
    axis: int  # the quantized dimension of a per-channel scale

    def qparams(self, axis: int | None = None) -> QParams | None:
        if not self.scale:
            return None
        if len(self.scale) == 1:
            return QParams(float(self.scale[0]), int(self.zero_point[0]) if self.zero_point else 0)
        return QParams(tuple(float(s) for s in self.scale), 0, self.axis if axis is None else axis)

    def dequantized(self) -> np.ndarray:
        """A constant's real values (float32): int8 through its scale(s), float16 widened."""
        if self.type in ("FLOAT32", "FLOAT16"):
            return self.data.astype(np.float32)
        if self.type == "INT8" and self.scale:
            shape = [1] * self.data.ndim
            if len(self.scale) > 1:
                shape[self.axis] = -1
            s = np.asarray(self.scale, np.float64).reshape(shape)
            zp = self.zero_point or (0,)
            z = np.asarray(zp, np.float64).reshape(shape if len(zp) > 1 else [])
            real = (self.data.astype(np.float64) - z) * s
            if not np.all(np.abs(real) < np.finfo(np.float32).max):
                raise ModelLoadError(f"tensor {self.name!r}: its scale makes values beyond float32")
            return real.astype(np.float32)
        if self.type == "INT32" and self.scale:  # a bias: scale = s_x * s_w per channel
            real = self.data.astype(np.float64) * np.asarray(self.scale, np.float64)
            if not np.all(np.abs(real) < np.finfo(np.float32).max):
                raise ModelLoadError(f"tensor {self.name!r}: its scale makes values beyond float32")
            return real.astype(np.float32)
        raise UnsupportedOpError(
            f"tensor {self.name!r}: {self.type} constant without a scale is not a real number"
        )


def read_model(data: bytes, where: str):
    """The schema's ModelT for `data`, or a ModelLoadError saying why the bytes are not a .tflite."""
    if len(data) < 8:
        raise ModelLoadError(f"{where}: {len(data)} bytes is too short for a TFLite flatbuffer")
    if data[4:8] != FILE_IDENTIFIER:
        raise ModelLoadError(
            f"{where}: not a TFLite model: the flatbuffer file identifier (bytes 4-7) is "
            f"{bytes(data[4:8])!r}, expected {FILE_IDENTIFIER!r}; give a .tflite file written by the "
            "TFLite/LiteRT converter"
        )
    try:
        model = _schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as e:  # the generated reader raises IndexError, struct.error, ... on bad offsets
        raise ModelLoadError(
            f"{where}: the TFLite flatbuffer is damaged or truncated ({type(e).__name__}: {e}); "
            "re-export the model"
        ) from None
    if not model.subgraphs:
        raise ModelLoadError(f"{where}: the model has no subgraph")
    if len(model.subgraphs) > 1:
        raise UnsupportedOpError(
            f"{where}: the model has {len(model.subgraphs)} subgraphs (control flow such as WHILE/IF, or "
            "several signatures); edgexf imports single-subgraph models: convert without control flow"
        )
    return model


def _tensors(model, where: str) -> list[TfliteTensor]:
    schema = _schema()
    types = _enum_names(schema.TensorType)
    g = model.subgraphs[0]
    buffers = model.buffers or []
    out = []
    for i, t in enumerate(g.tensors or []):
        name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or f"t{i}")
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        tname = types.get(t.type, f"type {t.type}")
        sig = t.shapeSignature
        if (sig is not None and any(int(d) < 0 for d in sig)) or any(d < 0 for d in shape):
            raise UnsupportedOpError(
                f"{where}: tensor {name!r} has a dynamic shape (signature "
                f"{[int(d) for d in (sig if sig is not None else shape)]}); "
                "edgexf needs static shapes: convert with a fixed input shape (batch 1)"
            )
        data = None
        if (
            t.buffer
            and t.buffer < len(buffers)
            and buffers[t.buffer].data is not None
            and len(buffers[t.buffer].data)
        ):
            if tname not in _NUMPY:
                raise UnsupportedOpError(
                    f"{where}: constant tensor {name!r} is {tname}; edgexf reads {', '.join(_NUMPY)}"
                )
            raw = np.asarray(buffers[t.buffer].data, np.uint8).tobytes()
            n = int(np.prod(shape, dtype=np.int64))
            if len(raw) != n * np.dtype(_NUMPY[tname]).itemsize:
                raise ModelLoadError(
                    f"{where}: constant tensor {name!r} {list(shape)} {tname} has {len(raw)} bytes of data, "
                    f"expected {n * np.dtype(_NUMPY[tname]).itemsize}: the file is damaged"
                )
            data = np.frombuffer(raw, _NUMPY[tname]).reshape(shape)
        elif t.buffer and t.buffer >= len(buffers):
            raise ModelLoadError(f"{where}: tensor {name!r} refers to buffer {t.buffer} of {len(buffers)}")
        q = t.quantization
        scale = (
            tuple(float(s) for s in q.scale)
            if q is not None and q.scale is not None and len(q.scale)
            else None
        )
        zp = tuple(int(z) for z in q.zeroPoint) if q is not None and q.zeroPoint is not None else None
        axis = int(q.quantizedDimension) if q is not None else 0
        if scale and not all(np.isfinite(s) and s > 0 for s in scale):
            raise ModelLoadError(f"{where}: tensor {name!r} has a scale that is not finite and positive")
        if scale and len(scale) > 1 and not (0 <= axis < len(shape) and shape[axis] == len(scale)):
            raise ModelLoadError(
                f"{where}: tensor {name!r} {list(shape)} has {len(scale)} per-channel scales on axis {axis}"
            )
        if scale and zp is not None and len(zp) not in (0, 1, len(scale)):
            raise ModelLoadError(
                f"{where}: tensor {name!r} has {len(zp)} zero points for {len(scale)} scales"
            )
        out.append(TfliteTensor(i, name, shape, tname, data, scale, zp, axis))
    return out


def _check_types(tensors: list[TfliteTensor], where: str) -> bool:
    """Whether the model is full-integer int8; refuses what edgexf cannot run, saying what to do."""
    activations = [t for t in tensors if t.data is None]
    kinds = {t.type for t in activations}
    if "INT16" in kinds:
        raise UnsupportedOpError(
            f"{where}: int16 activations (16x8 quantization) are not supported; quantize with int8 "
            "activations (static_wi8_ai8), or import the float32 model and use --quantize int8 --int16 ..."
        )
    bad = sorted(kinds - {"FLOAT32", "INT8", "INT32"})
    if bad:
        raise UnsupportedOpError(
            f"{where}: activation tensors of type {', '.join(bad)} are not supported; edgexf runs float32 "
            "and int8 models"
        )
    if "INT8" not in kinds:
        return False
    for t in activations:
        if t.type == "INT8" and (not t.scale or len(t.scale) != 1):
            raise UnsupportedOpError(
                f"{where}: int8 activation {t.name!r} has no per-tensor scale; edgexf runs int8 models whose "
                "activations carry one scale and zero point each"
            )
    return True


def _short(name: str, index: int) -> str:
    """An IR name for TFLite tensor `index`: t<index>_ and the end of its (often long) name."""
    tail = re.sub(r"[^A-Za-z0-9_]", "_", name.split(";")[0].split(".")[-1])[-28:].strip("_")
    return f"t{index}_{tail}" if tail else f"t{index}"


@dataclass
class Imported:
    graph: Graph  # float32 (an int8 model's weights dequantized)
    quant: FileQuant | None  # a full-integer model's own parameters
    names: dict[int, str]  # TFLite tensor index -> IR tensor name (for per-tensor comparisons)


def convert(data: bytes, name: str = "model", where: str = "<bytes>") -> Imported:
    """The float graph of the model and, for a full-integer model, the file's parameters (FileQuant)."""
    model = read_model(data, where)
    try:
        return _convert(model, name, where)
    except EdgexfError:
        raise
    except GraphError as e:
        raise ModelLoadError(f"{where}: the model is inconsistent: {e}") from None
    except Exception as e:  # a damaged file that still parsed: indices or options out of range
        raise ModelLoadError(
            f"{where}: the TFLite model is malformed ({type(e).__name__}: {e}); re-export the model"
        ) from None


def _convert(model, name: str, where: str) -> Imported:
    schema = _schema()
    g = model.subgraphs[0]
    tensors = _tensors(model, where)
    quantized = _check_types(tensors, where)
    inputs = [int(i) for i in (g.inputs if g.inputs is not None else [])]
    outputs = [int(i) for i in (g.outputs if g.outputs is not None else [])]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedOpError(
            f"{where}: the model has {len(inputs)} inputs and {len(outputs)} outputs; edgexf compiles "
            "models with one input and one output"
        )
    for i in inputs + outputs:
        if not 0 <= i < len(tensors) or tensors[i].data is not None:
            raise ModelLoadError(f"{where}: graph input/output {i} is not a non-constant tensor")
    ctx = Ctx(GraphBuilder(name), tensors, quantized, where)
    x = tensors[inputs[0]]
    if x.type not in ("FLOAT32", "INT8"):
        raise UnsupportedOpError(f"{where}: the input is {x.type}; edgexf takes a float32 or int8 input")
    ctx.bind(inputs[0], ctx.b.add_input(_short(x.name, x.index), x.shape))
    names = _enum_names(schema.BuiltinOperator)
    codes = model.operatorCodes or []
    for k, op in enumerate(g.operators or []):
        if not 0 <= op.opcodeIndex < len(codes):
            raise ModelLoadError(f"{where}: operator {k} has opcode index {op.opcodeIndex} of {len(codes)}")
        code = codes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.customCode.decode("utf-8", "replace") if code.customCode else "?"
            raise UnsupportedOpError(
                f"{where}: operator {k} is the custom op {custom!r}; edgexf has no custom ops. Supported "
                f"builtin ops: {', '.join(sorted(TFLITE_OPS))}"
            )
        op_name = names.get(builtin, f"builtin code {builtin}")
        handler = TFLITE_OPS.get(op_name)
        if handler is None:
            raise UnsupportedOpError(
                f"{where}: operator {k} ({op_name}, output {ctx.out_name(op)}) is not supported; "
                f"supported TFLite ops: {', '.join(sorted(TFLITE_OPS))}"
            )
        ctx.start(k, op_name, op)
        handler(ctx, op)
    out = ctx.value(outputs[0])
    graph = ctx.b.build([out])
    return Imported(graph, ctx.file_quant(graph) if quantized else None, dict(ctx.names))


def tflite_to_graph(path_or_bytes: str | Path | bytes, name: str = "model") -> Graph:
    """The IR Graph (float32, weights dequantized for an int8 model) of a .tflite file or its bytes."""
    data, where = _read(path_or_bytes)
    return convert(data, name, where).graph


def _read(path_or_bytes: str | Path | bytes | bytearray) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), "<tflite bytes>"
    path = Path(path_or_bytes)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    return path.read_bytes(), path.name


def load_tflite(path: str | Path, name: str | None = None):
    """A LoadedModel: the graph, the file's int8 parameters (if any), and TFLM running the file as the
    original (float in, float out: an int8 model's input is quantized with its own scale and zero
    point, its output dequantized)."""
    from edgexf.frontends import LoadedModel

    data, where = _read(path)
    imported = convert(data, name or Path(path).stem, where)
    graph, quant = imported.graph, imported.quant
    shape = graph.tensors[graph.inputs[0]].shape
    example = np.zeros(shape, np.float32)
    return LoadedModel(graph, TflmRunner(data, shape), example, str(path), quant, runtime="tflite-micro")


class TflmRunner:
    """The tflite-micro interpreter on float samples (S, *input shape) -> (S, *output shape)."""

    def __init__(self, data: bytes, shape: tuple[int, ...], arena_size: int = 16 << 20):
        self.data, self.shape, self.arena_size = data, shape, arena_size
        self._it = None

    def interpreter(self):
        if self._it is None:
            from tflite_micro import runtime

            try:
                self._it = runtime.Interpreter.from_bytes(self.data, arena_size=self.arena_size)
            except Exception as e:
                raise ModelLoadError(f"tflite-micro cannot run the model: {type(e).__name__}: {e}") from None
        return self._it

    def run_int(self, q: np.ndarray) -> np.ndarray:
        """Integer (or float) samples in the model's own input type -> outputs in its output type."""
        it = self.interpreter()
        outs = []
        for s in q.reshape((-1,) + self.shape):
            it.set_input(np.ascontiguousarray(s), 0)
            it.invoke()
            outs.append(np.array(it.get_output(0)))
        return np.stack(outs)

    def io(self, which: str) -> tuple[np.dtype, float, int]:
        it = self.interpreter()
        d = it.get_input_details(0) if which == "input" else it.get_output_details(0)
        qp = d.get("quantization_parameters") or {}
        scales, zps = qp.get("scales", []), qp.get("zero_points", [])
        return np.dtype(d["dtype"]), float(scales[0]) if len(scales) else 1.0, int(zps[0]) if len(zps) else 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        dt, s, z = self.io("input")
        x = np.asarray(x, np.float32).reshape((-1,) + self.shape)
        if dt == np.int8:
            x = np.clip(np.round(x.astype(np.float64) / s) + z, -128, 127).astype(np.int8)
        y = self.run_int(x)
        dt, s, z = self.io("output")
        return ((y.astype(np.float64) - z) * s).astype(np.float32) if dt == np.int8 else y.astype(np.float32)

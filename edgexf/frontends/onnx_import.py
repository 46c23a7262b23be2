"""ONNX frontend: an ONNX model (opset 13 and later, float32) becomes an IR Graph.

    read and check the file -> graph inputs (static shapes) and initializers -> node by node:
    all inputs constant ? evaluate it now (onnx_fold.py) : ONNX_OPS[op_type] (onnx_ops.py) -> IR ops
    (decomposed LayerNorm, GELU and attention are recognized later, for every frontend: passes/optimize.py)

Values are either constants (NumPy arrays of any ONNX dtype, kept here until an IR op reads them) or IR
tensors (float32 activations). So shape arithmetic (Shape -> Gather -> Unsqueeze -> Concat -> Reshape)
folds away, and only float32 data reaches the IR. Shapes are static: a symbolic input dimension needs
`input_shapes` (`--input-shape NAME=1,3,32,32` on the command line).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx

from edgexf.errors import EdgexfError, ModelLoadError, UnsupportedOpError, first_line
from edgexf.frontends.onnx_fold import fold_node, is_foldable
from edgexf.frontends.onnx_runtime import lazy_session, run_original
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph, GraphError
from edgexf.passes.remove_dead_ops import remove_dead_ops

MIN_OPSET = 13
Value = str | np.ndarray  # an IR tensor's name, or a constant


def read_model(model: onnx.ModelProto | str | Path) -> onnx.ModelProto:
    """The model, loaded and checked by onnx.checker; any failure is a ModelLoadError naming the file."""
    if isinstance(model, onnx.ModelProto):
        where = "the ONNX model"
    else:
        path = Path(model)
        where = str(path)
        if not path.is_file():
            raise ModelLoadError(f"model file {path} does not exist")
        try:
            model = onnx.load(str(path))
        except Exception as e:  # DecodeError, RuntimeWarning, ValueError, missing external data, ...
            raise ModelLoadError(
                f"{path}: not a readable ONNX model (truncated or corrupted?): {type(e).__name__}: {e}"
            ) from None
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # ValidationError, and others for malformed protos
        raise ModelLoadError(f"{where}: onnx.checker rejects the model: {first_line(e)}") from None
    return model


def opset_of(model: onnx.ModelProto) -> int:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not versions:
        raise ModelLoadError("the model imports no default-domain (ai.onnx) opset")
    opset = versions[0]
    if opset < MIN_OPSET:
        raise ModelLoadError(
            f"the model uses ONNX opset {opset}; edgexf reads opset {MIN_OPSET} and later: re-export it with "
            f"opset_version>={MIN_OPSET} (torch.onnx.export(..., opset_version=17)), or convert it with "
            "onnx.version_converter.convert_version(model, 17)"
        )
    return opset


class OnnxConverter:
    """The state the op handlers (onnx_ops.py) work on: the builder, and each ONNX name's value."""

    def __init__(self, name: str, opset: int, used: set[str]):
        self.b = GraphBuilder(name)
        self.opset = opset
        self.used = used  # ONNX names some node or graph output reads
        self.values: dict[str, Value] = {}
        self.materialized: dict[str, str] = {}  # ONNX constant -> its IR constant
        self.node: onnx.NodeProto | None = None
        self.index = 0  # the node's position in the graph, for unnamed nodes
        self.attrs: dict = {}

    # -- the node being converted --
    def source(self) -> str:
        if self.node is None:
            return "?"
        return f"ONNX node {self.node.name or f'#{self.index}'!r} ({self.node.op_type})"

    def name(self) -> str:
        return self.node.name or self.node.op_type

    def attr(self, key: str, default=None):
        return self.attrs.get(key, default)

    def n_inputs(self) -> int:
        return len(self.node.input)

    def has(self, i: int) -> bool:
        return i < len(self.node.input) and self.node.input[i] != ""

    def value(self, i: int) -> Value:
        if not self.has(i):
            raise self.refuse(f"input {i} missing")
        return self.values[self.node.input[i]]

    def const(self, i: int) -> np.ndarray | None:
        """Input i when it is a constant (absent: None)."""
        v = self.values.get(self.node.input[i]) if self.has(i) else None
        return v if isinstance(v, np.ndarray) else None

    def const_required(self, i: int, what: str) -> np.ndarray:
        v = self.const(i)
        if v is None:
            raise self.refuse(f"a computed {what} (input {i}; only a constant {what} is supported)")
        return v

    def x(self, i: int) -> str:
        """Input i as an IR tensor (a constant becomes an IR constant, once, float32 only); absent: ""."""
        if not self.has(i):
            return ""
        onnx_name, v = self.node.input[i], self.value(i)
        if isinstance(v, str):
            return v
        if onnx_name not in self.materialized:
            self.materialized[onnx_name] = self.ir(v, onnx_name)
        return self.materialized[onnx_name]

    def ir(self, v: Value, name: str = "") -> str:
        """A value as an IR tensor: a constant array becomes a new IR constant (float32 only)."""
        if isinstance(v, str):
            return v
        if v.dtype != np.float32:
            raise self.refuse(f"a {v.dtype} constant operand (only float32 tensors are computed)")
        return self.b.add_const(name or f"{self.name()}.const", v)

    def shape(self, v: Value | int) -> tuple[int, ...]:
        if isinstance(v, int):
            v = self.value(v)
        return tuple(v.shape) if isinstance(v, np.ndarray) else self.b.tensor(v).shape

    def output_used(self, k: int) -> bool:
        return k < len(self.node.output) and self.node.output[k] in self.used

    def axis(self, axis: int, rank: int) -> int:
        """An ONNX axis (negative counts from the end) as 0..rank-1; out of range is refused."""
        axis = int(axis)
        if not -rank <= axis < rank:
            raise self.refuse(f"axis {axis} (the input has {rank} axes)")
        return axis % rank

    # -- building IR --
    def op(self, type: str, inputs: list[str], attrs: dict | None = None) -> str:
        return self.b.add1(type, inputs, attrs, name=self.name(), source=self.source())

    def scalar(self, value: float) -> str:
        return self.b.add_const(f"{self.name()}.scalar", np.array(value, dtype=np.float32))

    def reshape(self, x: str, shape) -> str:
        shape = tuple(int(d) for d in shape)
        return x if shape == self.shape(x) else self.op("reshape", [x], {"shape": shape})

    def transpose(self, x: str, perm: list[int]) -> str:
        if perm == sorted(perm):
            return x
        moved = [p for p in perm if self.shape(x)[p] != 1]  # only size-1 axes move: a reshape
        if moved == sorted(moved):
            return self.reshape(x, [self.shape(x)[p] for p in perm])
        return self.op("transpose", [x], {"perm": list(perm)})

    def refuse(self, what: str) -> UnsupportedOpError:
        from edgexf.frontends.onnx_ops import ONNX_OPS

        return UnsupportedOpError(
            f"unsupported: {self.source()} with {what}\n  supported ONNX ops: {', '.join(sorted(ONNX_OPS))}"
        )


def ints(v) -> list[int]:
    """An ONNX shape, axes or indices constant as Python ints."""
    return [int(d) for d in np.asarray(v).reshape(-1)]


def parse_input_shapes(specs: list[str] | None) -> dict[str, tuple[int, ...]] | None:
    """--input-shape values: 'NAME=1,3,32,32', or '1,3,32,32' (key "": the model's only input)."""
    if not specs:
        return None
    shapes = {}
    for spec in specs:
        name, _, dims = spec.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.replace("x", ",").split(","))
        except ValueError:
            shape = ()
        if not shape or any(d <= 0 for d in shape):
            raise ModelLoadError(f"--input-shape {spec!r}: expected NAME=D1,D2,... with positive integers")
        shapes[name.strip()] = shape
    return shapes


def _input_shape(vi: onnx.ValueInfoProto, given: dict[str, tuple[int, ...]], single: bool) -> tuple:
    t = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise ModelLoadError(f"model input {vi.name!r} is not a tensor: only tensor inputs are supported")
    if t.elem_type != onnx.TensorProto.FLOAT:
        dtype = onnx.helper.tensor_dtype_to_string(t.elem_type) if t.elem_type else "of unknown type"
        raise ModelLoadError(f"model input {vi.name!r} is {dtype}; only float32 inputs are supported")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
    shape = given.get(vi.name, given.get("") if single else None)
    if shape is not None:
        known = t.HasField("shape")
        if known and (
            len(shape) != len(dims) or any(isinstance(d, int) and d != s for d, s in zip(dims, shape))
        ):
            raise ModelLoadError(
                f"--input-shape for {vi.name!r} gives {list(shape)}; the model declares {dims}"
            )
        return tuple(shape)
    if t.HasField("shape") and 0 in dims:
        raise UnsupportedOpError(
            f"model input {vi.name!r} has dimensions {dims}: a zero-size input holds no data to compute with"
        )
    if not t.HasField("shape") or any(not isinstance(d, int) or d <= 0 for d in dims):
        shown = dims if t.HasField("shape") else "unknown (no shape in the model)"
        example = ",".join(str(d) if isinstance(d, int) and d > 0 else "1" for d in dims) or "1,3,32,32"
        raise ModelLoadError(
            f"model input {vi.name!r} has dimensions {shown}: shapes must be static. Give them with "
            f"--input-shape {vi.name}={example} (or input_shapes={{{vi.name!r}: (...)}} from Python)"
        )
    return tuple(dims)


def onnx_to_graph(
    model: onnx.ModelProto | str | Path,
    name: str = "model",
    input_shapes: dict[str, tuple[int, ...]] | None = None,
) -> Graph:
    """Convert an ONNX model (a ModelProto or a file) to a verified Graph; several inputs and outputs
    are allowed. Initializers (also those listed as graph inputs) become constants."""
    return _convert(read_model(model), name, input_shapes)


def _convert(model: onnx.ModelProto, name: str, input_shapes: dict[str, tuple[int, ...]] | None) -> Graph:
    opset = opset_of(model)
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    c = OnnxConverter(name, opset, used)
    for init in g.initializer:
        try:
            c.values[init.name] = onnx.numpy_helper.to_array(init)
        except Exception as e:
            raise ModelLoadError(f"initializer {init.name!r} cannot be read: {first_line(e)}") from None
    given = dict(input_shapes or {})
    inputs = [vi for vi in g.input if vi.name not in c.values]
    unknown = set(given) - {vi.name for vi in inputs} - {""}
    if unknown or ("" in given and len(inputs) != 1):
        raise ModelLoadError(
            f"input shapes given for {sorted(unknown) or 'an unnamed input'}; the model's inputs are "
            f"{[vi.name for vi in inputs]} (give NAME=D1,D2,...)"
        )
    for vi in inputs:
        c.values[vi.name] = c.b.add_input(vi.name, _input_shape(vi, given, len(inputs) == 1))
    for c.index, node in enumerate(g.node):
        _convert_node(c, node)
    outs = []
    for o in g.output:
        v = c.values.get(o.name)
        if not isinstance(v, str) or v in c.b.inputs:
            raise UnsupportedOpError(f"model output {o.name!r} is an input or a constant; nothing to compute")
        if v in outs:
            raise UnsupportedOpError(f"model output {o.name!r} is the same tensor as an earlier output")
        outs.append(v)
    if not outs:
        raise ModelLoadError("the ONNX graph has no outputs")
    try:
        return remove_dead_ops(c.b.build(outs))
    except GraphError as e:
        raise ModelLoadError(f"the ONNX model does not convert to a consistent graph: {e}") from None


def _convert_node(c: OnnxConverter, node: onnx.NodeProto) -> None:
    from edgexf.frontends.onnx_ops import KNOWN_ATTRS, ONNX_OPS

    c.node = node
    missing = [i for i in node.input if i and i not in c.values]
    if missing:
        raise ModelLoadError(f"{c.source()}: input {missing[0]!r} is never defined before it")
    try:
        c.attrs = {a.name: _attr_value(a) for a in node.attribute}
    except Exception as e:
        raise ModelLoadError(f"{c.source()}: unreadable attribute: {first_line(e)}") from None
    default_domain = node.domain in ("", "ai.onnx")
    inputs = [c.values[i] if i else None for i in node.input]
    try:
        if default_domain and is_foldable(node, inputs):
            outputs: list[Value] = fold_node(node, inputs, c.opset)
        else:
            handler = ONNX_OPS.get(node.op_type) if default_domain else None
            if handler is None:
                op = node.op_type if default_domain else f"{node.domain}.{node.op_type}"
                raise UnsupportedOpError(
                    f"unsupported ONNX op {op} (node {node.name or f'#{c.index}'!r})\n"
                    f"  supported ONNX ops: {', '.join(sorted(ONNX_OPS))}\n"
                    "  (any op of the default domain whose inputs are all constants is evaluated at import)"
                )
            extra = sorted(set(c.attrs) - KNOWN_ATTRS.get(node.op_type, set()))
            if extra:
                raise c.refuse(f"attribute(s) {', '.join(extra)} (not supported)")
            result = handler(c, node)
            outputs = list(result) if isinstance(result, list | tuple) else [result]
    except EdgexfError:
        raise
    except Exception as e:  # a malformed model reaching a handler, shape inference, or the evaluator
        raise ModelLoadError(f"{c.source()}: cannot convert: {first_line(e)}") from None
    for name, v in zip(node.output, outputs):
        if name and not (isinstance(v, str) and v == ""):  # "": an output nothing reads (Split)
            c.values[name] = v
    for k, name in enumerate(node.output):
        if name and name not in c.values and name in c.used:
            raise c.refuse(f"output {k} ({name!r}) used (not computed here)")


def _attr_value(a: onnx.AttributeProto):
    if a.ref_attr_name:
        raise ValueError(f"attribute {a.name} refers to a function attribute")
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return v


def load_onnx(path: str | Path, name: str | None = None, input_shapes: dict | None = None, step=None):
    """An ONNX file as a LoadedModel: its graph, onnxruntime to compare with, a random example input. A
    model with several inputs is a step model (x_t, *state) -> (y_t, *next_state): it streams, with
    `step` (onnx_streaming.StepOptions) saying how its states pair and how many steps a sample has."""
    from edgexf.frontends import LoadedModel
    from edgexf.frontends.onnx_streaming import StepOptions, as_step_graph, step_example, step_original

    path = Path(path)
    model = read_model(path)
    graph = _convert(model, name or path.stem, input_shapes)
    runtime = "onnxruntime" if importlib.util.find_spec("onnxruntime") else "onnx.reference"
    if len(graph.inputs) > 1:
        graph, io = as_step_graph(graph, model, step or StepOptions())
        session = lazy_session(model)
        return LoadedModel(
            graph, step_original(session, io, graph), step_example(graph), str(path), runtime=runtime
        )
    if step is not None and step.given:
        raise ModelLoadError(
            f"{path} has one input, so it is not a step model: --steps and --state do not apply"
        )
    shape = graph.tensors[graph.inputs[0]].shape
    example = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return LoadedModel(graph, run_original(model, graph), example, str(path), runtime=runtime)

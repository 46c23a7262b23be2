"""ONNX models through the ONNX frontend: onnx_to_graph -> IR -> C compiled by host gcc.

Every case checks that the C output is bit-identical to the IR's NumPy reference, and within
rtol 1e-5 (relative to the largest output) + atol 1e-5 of onnxruntime. Single ops are built with
onnx.helper; whole models (a small ViT at opset 13 and 17) come from torch.onnx.export.
"""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from model_helpers import HostModel, same_bits
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from edgexf.codegen.generate import generate_c
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import plan_memory
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.optimize import optimize
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.run.host import run_host
from edgexf.targets.toolchain import build_host

RTOL, ATOL = 1e-5, 1e-5
RNG = np.random.default_rng(0)


def make_model(nodes, inputs: dict, inits: dict | None = None, outputs=("y",), opset: int = 13):
    """A model of `nodes`; inputs: name -> shape (None for a symbolic dim), inits: name -> array;
    outputs: names, or name -> shape where ONNX shape inference cannot tell (CastLike)."""
    shapes = outputs if isinstance(outputs, dict) else {}
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes.get(n)) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model)  # the outputs' shapes, which onnx.checker wants


def one_op(op: str, shape, inits: dict | None = None, opset: int = 13, **attrs):
    """op(x, *inits) -> y; an init named "" marks an absent optional input."""
    names = ["x", *(inits or {})]
    node = helper.make_node(op, names, ["y"], **attrs)
    return make_model([node], {"x": shape}, {k: v for k, v in (inits or {}).items() if k}, opset=opset)


def w(*shape) -> np.ndarray:
    return (RNG.standard_normal(shape) * 0.5).astype(np.float32)


def i64(*v) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def compile_host(g: Graph, tmp) -> HostModel:
    g = optimize(g)  # as edgexf compile does: fold, recognize (LayerNorm, GELU, attention forms)
    plan = plan_memory(g, exact_time_s=0)  # the greedy planners: these tests check numbers, not arenas
    src = generate_c(g, plan, tmp / "model", {"command": "test"})
    return HostModel(g, plan, build_host(src.dir, tmp / "host"))


def ort_run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.stack([sess.run(None, {name: s})[0] for s in x])


def check(model: onnx.ModelProto, tmp, x: np.ndarray | None = None, input_shapes=None) -> Graph:
    """Compile and run on 3 samples: C == reference (bits), C ~ onnxruntime; returns the graph."""
    g = onnx_to_graph(model, "m", input_shapes)
    shape = g.tensors[g.inputs[0]].shape
    if x is None:
        x = RNG.standard_normal((3, *shape)).astype(np.float32) * 2
    host = compile_host(g, tmp)
    y_c = host.run(x)
    assert same_bits(y_c, host.reference(x)), "host C differs from the IR reference"
    assert_close(y_c, ort_run(model, x))
    return host.graph


def _pos(op: str, shape, inits: dict | None = None, opset: int = 13, **attrs):
    """op(x * x + 0.5, *inits): for ops that want positive inputs (sqrt, log, negative powers)."""
    node = helper.make_node(op, ["p", *(inits or {})], ["y"], **attrs)
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["sq"]),
        helper.make_node("Add", ["sq", "half"], ["p"]),
        node,
    ]
    return make_model(nodes, {"x": shape}, {"half": np.float32(0.5), **(inits or {})}, opset=opset)


def _two(op1: str, op2: str, shape, **attrs):
    """op2(op1(x), x): e.g. x @ transpose(x)."""
    nodes = [helper.make_node(op1, ["x"], ["t"], **attrs), helper.make_node(op2, ["x", "t"], ["y"])]
    return make_model(nodes, {"x": shape})


CASES = {
    # layers
    "matmul_const_rhs": lambda: one_op("MatMul", [1, 3, 6], {"w": w(6, 4)}),
    "matmul_batched": lambda: _two("Transpose", "MatMul", [1, 2, 3, 3], perm=[0, 1, 3, 2]),
    "matmul_partly_broadcast": lambda: make_model(  # batch (2, 1) @ (1, 3): both become (2, 3)
        [helper.make_node("Reshape", ["x", "s"], ["a"]), helper.make_node("MatMul", ["a", "b"], ["y"])],
        {"x": [2, 1, 3, 4]},
        {"s": i64(2, 1, 3, 4), "b": w(1, 3, 4, 2)},
    ),
    "gemm_transB_alpha_beta": lambda: one_op(
        "Gemm", [2, 6], {"b": w(4, 6), "c": w(4)}, transB=1, alpha=0.5, beta=2.0
    ),
    "gemm_transA_matrix_bias": lambda: one_op("Gemm", [6, 2], {"b": w(6, 4), "c": w(2, 4)}, transA=1),
    "conv2d_pads_stride": lambda: one_op(
        "Conv", [1, 2, 7, 9], {"w": w(5, 2, 3, 3), "b": w(5)}, pads=[1] * 4, strides=[2, 2]
    ),
    "conv2d_depthwise": lambda: one_op(
        "Conv", [1, 4, 6, 6], {"w": w(4, 1, 3, 3)}, group=4, pads=[1, 1, 1, 1]
    ),
    "conv2d_grouped_dilated": lambda: one_op(
        "Conv", [1, 4, 9, 9], {"w": w(6, 2, 3, 3)}, group=2, dilations=[2, 2]
    ),
    "conv2d_asymmetric_pads": lambda: one_op("Conv", [1, 2, 6, 7], {"w": w(3, 2, 2, 3)}, pads=[0, 1, 1, 2]),
    "conv2d_same_upper": lambda: one_op(
        "Conv", [1, 2, 7, 8], {"w": w(3, 2, 3, 3)}, strides=[2, 2], auto_pad="SAME_UPPER"
    ),
    "conv2d_same_lower": lambda: one_op("Conv", [1, 2, 6, 6], {"w": w(3, 2, 2, 2)}, auto_pad="SAME_LOWER"),
    "conv1d": lambda: one_op("Conv", [1, 3, 10], {"w": w(4, 3, 3), "b": w(4)}, pads=[1, 1], strides=[2]),
    "conv1d_depthwise_asym_dilated": lambda: one_op(
        "Conv", [1, 4, 12], {"w": w(4, 1, 3)}, group=4, pads=[2, 0], dilations=[2]
    ),
    # elementwise
    "add_broadcast": lambda: one_op("Add", [1, 3, 4], {"b": w(4)}),
    "sub_scalar": lambda: one_op("Sub", [1, 5], {"b": np.float32(0.25)}),
    "mul_col": lambda: one_op("Mul", [1, 3, 4], {"b": w(3, 1)}),
    "div_tensor": lambda: one_op("Div", [2, 4], {"b": np.abs(w(1, 4)) + 1}),
    "pow2": lambda: one_op("Pow", [2, 5], {"e": np.float32(2)}),
    "pow3": lambda: one_op("Pow", [2, 5], {"e": np.float32(3)}),
    "pow_half": lambda: _pos("Pow", [2, 5], {"e": np.float32(0.5)}),
    "pow_minus_half": lambda: _pos("Pow", [2, 5], {"e": np.float32(-0.5)}),
    "pow_minus_one": lambda: _pos("Pow", [2, 5], {"e": np.float32(-1)}),
    "sqrt": lambda: _pos("Sqrt", [2, 6]),
    "reciprocal": lambda: _pos("Reciprocal", [2, 6]),
    "log": lambda: _pos("Log", [2, 6]),
    "exp": lambda: one_op("Exp", [2, 6]),
    "erf": lambda: one_op("Erf", [2, 6]),
    "tanh": lambda: one_op("Tanh", [2, 6]),
    "sigmoid": lambda: one_op("Sigmoid", [2, 6]),
    "softplus": lambda: one_op("Softplus", [2, 6]),
    "relu": lambda: one_op("Relu", [2, 6]),
    "neg": lambda: one_op("Neg", [2, 6]),
    "gelu_opset20": lambda: one_op("Gelu", [2, 9], opset=20),
    "gelu_tanh_opset20": lambda: one_op("Gelu", [2, 9], opset=20, approximate="tanh"),
    "where_const_mask": lambda: make_model(
        [helper.make_node("Where", ["m", "x", "z"], ["y"])],
        {"x": [2, 4]},
        {"m": np.array([[True, False, True, True]]), "z": np.float32(-1)},
    ),
    "cumsum_exclusive_reverse": lambda: one_op("CumSum", [2, 5], {"a": i64(1)}, exclusive=1, reverse=1),
    # normalization, reductions
    "reduce_mean_last_keepdims": lambda: one_op("ReduceMean", [1, 3, 8], axes=[-1]),
    "reduce_mean_two_axes": lambda: one_op("ReduceMean", [1, 3, 4, 5], axes=[1, 2], keepdims=0),
    "reduce_mean_opset18_axes_input": lambda: one_op("ReduceMean", [2, 6], {"a": i64(0)}, opset=18),
    "reduce_sum": lambda: one_op("ReduceSum", [2, 3, 4], {"a": i64(-1)}, keepdims=0),
    "layernorm_opset17": lambda: one_op("LayerNormalization", [1, 4, 8], {"s": w(8), "b": w(8)}, opset=17),
    "layernorm_two_axes": lambda: one_op(
        "LayerNormalization", [2, 3, 4], {"s": w(3, 4)}, opset=17, axis=-2, epsilon=1e-3
    ),
    "softmax_last": lambda: one_op("Softmax", [1, 3, 7]),
    "softmax_middle": lambda: one_op("Softmax", [1, 4, 3], axis=1),
    # data movement
    "reshape_zero_minus_one": lambda: one_op("Reshape", [1, 4, 6], {"s": i64(0, -1, 3)}),
    "transpose": lambda: one_op("Transpose", [1, 2, 3, 4], perm=[0, 3, 1, 2]),
    "concat_with_const": lambda: one_op("Concat", [1, 3, 4], {"c": w(1, 1, 4)}, axis=1),
    "slice_negative_and_max": lambda: one_op(
        "Slice", [1, 6, 8], {"s": i64(1, -5), "e": i64(2**62, -1), "a": i64(1, 2)}
    ),
    "split_sizes": lambda: make_model(
        [
            helper.make_node("Split", ["x", "s"], ["a", "b"], axis=-1),
            helper.make_node("Sub", ["b", "a"], ["y"]),
        ],
        {"x": [1, 2, 6]},
        {"s": i64(3, 3)},
    ),
    "split_num_outputs_opset18": lambda: make_model(
        [helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3)],
        {"x": [1, 7]},
        outputs=("c",),
        opset=18,
    ),
    "gather_scalar_index": lambda: one_op("Gather", [1, 5, 4], {"i": np.array(-1, np.int64)}, axis=1),
    "gather_2d_indices": lambda: one_op("Gather", [1, 5, 4], {"i": i64(3, 0, -1, 1).reshape(2, 2)}, axis=1),
    "squeeze_unsqueeze": lambda: make_model(
        [
            helper.make_node("Squeeze", ["x", "a"], ["s"]),
            helper.make_node("Unsqueeze", ["s", "b"], ["y"]),
        ],
        {"x": [1, 1, 6]},
        {"a": i64(1), "b": i64(-1)},
    ),
    "flatten": lambda: one_op("Flatten", [1, 2, 3, 4], axis=2),
    "expand_broadcast": lambda: one_op("Expand", [1, 1, 4], {"s": i64(3, 1, 1)}),
    "identity_dropout_cast": lambda: make_model(
        [
            helper.make_node("Dropout", ["x"], ["d"]),
            helper.make_node("Cast", ["d"], ["c"], to=TensorProto.FLOAT),
            helper.make_node("Identity", ["c"], ["i"]),
            helper.make_node("CastLike", ["i", "f"], ["l"]),
            helper.make_node("Relu", ["l"], ["y"]),
        ],
        {"x": [2, 3]},
        {"f": np.float32(0)},
        outputs={"y": [2, 3]},
        opset=15,
    ),
}


def merge(graphs: dict[str, Graph]) -> Graph:
    """The cases side by side in one graph (inputs and outputs in case order): one gcc build for all."""
    tensors, ops, inputs, outputs = {}, [], [], []
    for case, g in graphs.items():
        rename = {n: f"{case}__{n}" for n in g.tensors}
        for n, t in g.tensors.items():
            tensors[rename[n]] = Tensor(rename[n], t.shape, t.dtype, t.data)
        for op in g.ops:
            ins, outs = [rename[n] if n else "" for n in op.inputs], [rename[n] for n in op.outputs]
            ops.append(Op(op.type, f"{case}__{op.name}", ins, outs, dict(op.attrs), op.source))
        inputs += [rename[n] for n in g.inputs]
        outputs += [rename[n] for n in g.outputs]
    return Graph("cases", tensors, ops, inputs, outputs).verify()


@pytest.fixture(scope="module")
def case_runs(tmp_path_factory) -> dict[str, tuple]:
    """case -> (model, graph, x, C output) for every case that converts, all built into one program."""
    models, graphs = {case: make() for case, make in CASES.items()}, {}
    for case, model in models.items():
        try:
            graphs[case] = remove_dead_ops(fold_constants(onnx_to_graph(model, case)))
        except Exception:
            continue  # the case's own test shows the error
    xs = {
        c: RNG.standard_normal((3, *g.tensors[g.inputs[0]].shape)).astype(np.float32) * 2
        for c, g in graphs.items()
    }
    merged = merge(graphs)
    plan = plan_memory(merged, exact_time_s=0)
    tmp = tmp_path_factory.mktemp("onnx_cases")
    exe = build_host(generate_c(merged, plan, tmp / "model", {"command": "test"}).dir, tmp / "host")
    data = b"".join(xs[c][s].tobytes() for s in range(3) for c in graphs)
    out_bytes = [g.tensors[g.outputs[0]].nbytes for g in graphs.values()]
    raw = run_host(exe, data, sum(out_bytes), timeout=60).outputs
    runs, offset = {}, 0
    ys = {c: [] for c in graphs}
    for s in range(3):
        for (c, g), nb in zip(graphs.items(), out_bytes):
            ys[c].append(
                np.frombuffer(raw[offset : offset + nb], np.float32).reshape(g.tensors[g.outputs[0]].shape)
            )
            offset += nb
    for c, g in graphs.items():
        runs[c] = (models[c], g, xs[c], np.stack(ys[c]))
    return runs


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_host_matches_reference_and_onnxruntime(case, case_runs):
    if case not in case_runs:
        onnx_to_graph(CASES[case](), case)  # raises: the reason it did not convert
    model, g, x, y_c = case_runs[case]
    assert same_bits(y_c, run_reference(g, {g.inputs[0]: x})[g.outputs[0]]), (
        "host C differs from the reference"
    )
    assert_close(y_c, ort_run(model, x))


def assert_close(y: np.ndarray, y_ort: np.ndarray) -> None:
    assert y.shape == y_ort.shape
    scale = max(float(np.abs(y_ort).max()), 1.0)
    err = float(np.abs(y - y_ort).max())
    assert err <= RTOL * scale + ATOL, f"max error {err} against onnxruntime (scale {scale})"


# ---- whole models from torch.onnx.export ------------------------------------------------------------


def export(module: nn.Module, shape, opset: int, dynamic: bool = False) -> onnx.ModelProto:
    f = io.BytesIO()
    axes = {"x": {0: "batch"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(), (torch.randn(*shape),), f, dynamo=False, opset_version=opset,
            input_names=["x"], dynamic_axes=axes,
        )  # fmt: skip
    return onnx.load_from_string(f.getvalue())


class TinyViT(nn.Module):
    """Patch conv, class token, one pre-norm block (attention, GELU MLP), head: the ViT op set."""

    def __init__(self, d: int = 16, heads: int = 2, patch: int = 4, image: int = 8, classes: int = 5):
        super().__init__()
        self.heads = heads
        self.patches = nn.Conv2d(1, d, patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, d) * 0.5)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp(self.ln2(x))
        return self.head(self.ln3(x)[:, 0])


@pytest.mark.parametrize("opset", [13, 17])
def test_vit_exported_at_opset(opset, tmp_path):
    torch.manual_seed(0)
    g = check(export(TinyViT(), (1, 1, 8, 8), opset), tmp_path)
    types = [op.type for op in g.ops]
    # opset 13 writes LayerNorm and GELU out op by op: both are recognized, nothing of them is left
    assert types.count("layernorm") == 3 and types.count("gelu") == 1
    assert not {"erf", "sqrt", "rsqrt", "div", "sub", "mean"} & set(types), types
    assert types.count("linear") == 5 and "add" in types  # biases folded into linear; residuals stay


def test_shape_arithmetic_folds_away(tmp_path):
    class Flat(nn.Module):
        def forward(self, x):
            return torch.relu(x.view(x.shape[0], -1)) * 2

    model = export(Flat(), (1, 3, 4), 13, dynamic=True)  # a dynamic batch keeps x.shape[0] computed
    assert {"Shape", "Gather", "Unsqueeze", "Concat"} <= {n.op_type for n in model.graph.node}
    g = check(model, tmp_path, input_shapes={"x": (1, 3, 4)})
    assert [op.type for op in g.ops] == ["reshape", "relu", "mul"]


def test_dynamic_batch_needs_input_shape(tmp_path):
    from edgexf.errors import ModelLoadError

    model = export(nn.Sequential(nn.Linear(6, 3), nn.Tanh()), (1, 6), 13, dynamic=True)
    with pytest.raises(ModelLoadError, match=r"'x' has dimensions \['batch', 6\].*--input-shape x=1,6"):
        onnx_to_graph(model)
    g = check(model, tmp_path, input_shapes={"x": (1, 6)})
    assert g.tensors[g.inputs[0]].shape == (1, 6)
    assert onnx_to_graph(model, input_shapes={"": (2, 6)}).tensors["x"].shape == (2, 6)  # one input: no name


def test_multiple_inputs_and_outputs():
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Relu", ["s"], ["r"])]
    model = make_model(nodes, {"a": [2, 3], "b": [3]}, outputs=("s", "r"))
    g = onnx_to_graph(model)
    assert g.inputs == ["a", "b"] and len(g.outputs) == 2
    model.graph.initializer.append(numpy_helper.from_array(w(3), "b"))  # an input with a default value
    g = onnx_to_graph(model)
    assert g.inputs == ["a"] and g.tensors[g.ops[0].inputs[1]].is_const


@pytest.mark.qemu
def test_cli_compiles_onnx_and_runs_it_in_qemu(tmp_path, capsys):
    from edgexf.cli import main

    torch.manual_seed(0)
    path = tmp_path / "vit.onnx"
    onnx.save(export(TinyViT(), (1, 1, 8, 8), 13, dynamic=True), path)
    args = ["compile", str(path), "--board", "stm32f746", "--exact-seconds", "0", "-o", str(tmp_path / "b")]
    assert main(args) == 2  # a dynamic batch: the message says how to fix it
    assert "--input-shape x=1,1,8,8" in capsys.readouterr().err
    assert main([*args, "--input-shape", "x=1,1,8,8"]) == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["host_check"]["bit_exact_with_reference"] == report["host_check"]["samples"]
    assert {"token_mlp", "attention"} <= {op["type"] for op in report["ops"]}  # the ViT fusions apply
    assert main(["run", str(tmp_path / "b"), "--emulate", "--check"]) == 0

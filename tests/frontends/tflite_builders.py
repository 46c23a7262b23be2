"""Small .tflite models built in Python with tflite-micro's model_editor (no converter needed): one op
each, float32 or int8 with TFLite's parameters (per-tensor activations, per-channel weights, int32 bias).

Also `single_op_model`: one operator of a model file cut out as a model of its own, so TFLM can run
that op on exactly the inputs edgexf's reference computed (per-op agreement).
"""

from __future__ import annotations

import copy

import numpy as np
from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as tfl

T = tfl.TensorType
OPS = tfl.BuiltinOperator


def q8(scale: float, zp: int = 0) -> me.Quantization:
    return me.Quantization(scales=[float(scale)], zero_points=[int(zp)])


def act(shape, dtype, q=None, name="t") -> me.Tensor:
    return me.Tensor(shape=tuple(shape), dtype=dtype, quantization=q, name=name)


def const(values: np.ndarray, dtype, q=None, name="c") -> me.Tensor:
    return me.Tensor(
        shape=values.shape, dtype=dtype, data=np.ascontiguousarray(values), quantization=q, name=name
    )


def model(op_code, inputs, outputs, options=None, options_type=0, graph_inputs=None) -> bytes:
    """One op, its tensors; graph inputs: the non-constant inputs (or those given)."""
    m = me.Model()
    tensors = [t for t in inputs + outputs if t is not None]
    sg = me.Subgraph(tensors=list(dict.fromkeys(tensors)))
    fb = tfl.OperatorT()
    fb.builtinOptionsType, fb.builtinOptions = options_type, options
    sg.operators.append(me.Operator(opcode=op_code, inputs=inputs, outputs=outputs, _fb=fb))
    sg.inputs = graph_inputs or [t for t in inputs if t is not None and t.buffer is None]
    sg.outputs = list(outputs)
    m.subgraphs.append(sg)
    return bytes(m.build())


def per_channel(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per channel along axis, as TFLite: scale = max|w| / 127."""
    other = tuple(i for i in range(w.ndim) if i != axis)
    s = np.maximum(np.abs(w).max(axis=other), 1e-8) / 127.0
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.clip(np.round(w / s.reshape(shape)), -127, 127).astype(np.int8), s.astype(np.float32)


def asym(lo: float, hi: float) -> tuple[float, int]:
    s = (hi - lo) / 255.0
    return s, int(np.clip(round(-128 - lo / s), -128, 127))


def fully_connected(
    int8: bool, seed: int = 0, n: int = 6, k: int = 24, m: int = 10, relu: bool = False
) -> bytes:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, k)).astype(np.float32) * 0.3
    b = rng.standard_normal(m).astype(np.float32) * 0.5
    opts = tfl.FullyConnectedOptionsT()
    opts.keepNumDims = True
    opts.fusedActivationFunction = 1 if relu else 0
    kind = tfl.BuiltinOptions.FullyConnectedOptions
    if not int8:
        x, y = act((1, n, k), T.FLOAT32, name="x"), act((1, n, m), T.FLOAT32, name="y")
        wt, bt = const(w, T.FLOAT32, name="w"), const(b, T.FLOAT32, name="b")
        return model(OPS.FULLY_CONNECTED, [x, wt, bt], [y], opts, kind)
    sx, zx = asym(-2.0, 2.5)
    sy, zy = asym(-6.0, 5.0) if not relu else asym(0.0, 5.0)
    wq, sw = per_channel(w, 0)
    bq = np.round(b / (np.float32(sx) * sw)).astype(np.int32)
    x, y = act((1, n, k), T.INT8, q8(sx, zx), "x"), act((1, n, m), T.INT8, q8(sy, zy), "y")
    wt = const(wq, T.INT8, me.Quantization(scales=list(map(float, sw)), zero_points=[0] * m, axis=0), "w")
    bt = const(
        bq, T.INT32, me.Quantization(scales=[float(sx * s) for s in sw], zero_points=[0] * m, axis=0), "b"
    )
    return model(OPS.FULLY_CONNECTED, [x, wt, bt], [y], opts, kind)


def conv(int8: bool, depthwise: bool, seed: int = 0, padding: str = "SAME", stride: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    h, w_, c, o, kh, kw = 7, 6, 3, 6, 3, 3
    wf = rng.standard_normal((1, kh, kw, o) if depthwise else (o, kh, kw, c)).astype(np.float32) * 0.3
    b = rng.standard_normal(o).astype(np.float32) * 0.2
    if depthwise:
        opts, kind, code = (
            tfl.DepthwiseConv2DOptionsT(),
            tfl.BuiltinOptions.DepthwiseConv2DOptions,
            OPS.DEPTHWISE_CONV_2D,
        )
        opts.depthMultiplier = o // c
    else:
        opts, kind, code = tfl.Conv2DOptionsT(), tfl.BuiltinOptions.Conv2DOptions, OPS.CONV_2D
    opts.padding = tfl.Padding.SAME if padding == "SAME" else tfl.Padding.VALID
    opts.strideH = opts.strideW = stride
    oh = -(-h // stride) if padding == "SAME" else (h - kh) // stride + 1
    ow = -(-w_ // stride) if padding == "SAME" else (w_ - kw) // stride + 1
    if not int8:
        x, y = act((1, h, w_, c), T.FLOAT32, name="x"), act((1, oh, ow, o), T.FLOAT32, name="y")
        return model(
            code, [x, const(wf, T.FLOAT32, name="w"), const(b, T.FLOAT32, name="b")], [y], opts, kind
        )
    axis = 3 if depthwise else 0
    sx, zx = asym(-1.5, 2.0)
    sy, zy = asym(-4.0, 4.0)
    wq, sw = per_channel(wf, axis)
    bq = np.round(b / (np.float32(sx) * sw)).astype(np.int32)
    x, y = act((1, h, w_, c), T.INT8, q8(sx, zx), "x"), act((1, oh, ow, o), T.INT8, q8(sy, zy), "y")
    wt = const(wq, T.INT8, me.Quantization(scales=list(map(float, sw)), zero_points=[0] * o, axis=axis), "w")
    bt = const(
        bq, T.INT32, me.Quantization(scales=[float(sx * s) for s in sw], zero_points=[0] * o, axis=0), "b"
    )
    return model(code, [x, wt, bt], [y], opts, kind)


BINARY_OPTIONS = {
    "ADD": (OPS.ADD, tfl.AddOptionsT, tfl.BuiltinOptions.AddOptions),
    "SUB": (OPS.SUB, tfl.SubOptionsT, tfl.BuiltinOptions.SubOptions),
    "MUL": (OPS.MUL, tfl.MulOptionsT, tfl.BuiltinOptions.MulOptions),
    "SQUARED_DIFFERENCE": (
        OPS.SQUARED_DIFFERENCE, tfl.SquaredDifferenceOptionsT, tfl.BuiltinOptions.SquaredDifferenceOptions
    ),
}  # fmt: skip
OUT_RANGE = {"ADD": (-5.0, 5.0), "SUB": (-5.0, 5.0), "MUL": (-6.0, 6.0), "SQUARED_DIFFERENCE": (0.0, 16.0)}


def binary(op: str, int8: bool, shape_a=(1, 5, 8), shape_b=(1, 5, 8), seed: int = 0) -> bytes:
    """y = op(x, c) with a constant c of shape_b."""
    code, opt_cls, kind = BINARY_OPTIONS[op]
    out = tuple(np.broadcast_shapes(shape_a, shape_b))
    cv = np.random.default_rng(seed).uniform(-3.0, 2.5, shape_b).astype(np.float32)
    if not int8:
        a, y = act(shape_a, T.FLOAT32, name="a"), act(out, T.FLOAT32, name="y")
        b = const(cv, T.FLOAT32, name="c")
    else:
        a = act(shape_a, T.INT8, q8(*asym(-2.0, 2.0)), "a")
        sb, zb = asym(-3.0, 2.5)
        b = const(np.clip(np.round(cv / sb) + zb, -128, 127).astype(np.int8), T.INT8, q8(sb, zb), "c")
        y = act(out, T.INT8, q8(*asym(*OUT_RANGE[op])), "y")
    return model(code, [a, b], [y], opt_cls(), kind)


def layernorm_pattern(op: str, int8: bool, shape=(1, 5, 8)) -> bytes:
    """m = MEAN(x, last axis, keepdims); y = op(x, m): two activations, broadcast (TFLite's LayerNorm)."""
    code, opt_cls, kind = BINARY_OPTIONS[op]
    mshape = shape[:-1] + (1,)
    if not int8:
        x, m, y = (act(s, T.FLOAT32, name=n) for s, n in ((shape, "x"), (mshape, "m"), (shape, "y")))
    else:
        x = act(shape, T.INT8, q8(*asym(-2.0, 2.0)), "x")
        m = act(mshape, T.INT8, q8(*asym(-1.0, 1.0)), "m")
        y = act(shape, T.INT8, q8(*asym(*OUT_RANGE[op])), "y")
    axes = const(np.array([len(shape) - 1], np.int32), T.INT32, name="axes")
    ro = tfl.ReducerOptionsT()
    ro.keepDims = True
    mean_op = _op(OPS.MEAN, [x, axes], [m], ro, tfl.BuiltinOptions.ReducerOptions)
    bin_op = _op(code, [x, m], [y], opt_cls(), kind)
    return _model([x, axes, m, y], [mean_op, bin_op], [x], [y])


def _op(code, inputs, outputs, options, kind) -> me.Operator:
    fb = tfl.OperatorT()
    fb.builtinOptionsType, fb.builtinOptions = kind, options
    return me.Operator(opcode=code, inputs=inputs, outputs=outputs, _fb=fb)


def _model(tensors, ops, inputs, outputs) -> bytes:
    m = me.Model()
    sg = me.Subgraph(tensors=tensors, operators=ops, inputs=inputs, outputs=outputs)
    m.subgraphs.append(sg)
    return bytes(m.build())


def unary(
    op: str, int8: bool, shape=(1, 4, 16), in_range=(-4.0, 4.0), out_q=None, options=None, kind=0
) -> bytes:
    code = getattr(OPS, op)
    if not int8:
        return model(
            code, [act(shape, T.FLOAT32, name="x")], [act(shape, T.FLOAT32, name="y")], options, kind
        )
    x = act(shape, T.INT8, q8(*asym(*in_range)), "x")
    y = act(shape, T.INT8, q8(*out_q), "y")
    return model(code, [x], [y], options, kind)


def softmax(int8: bool, beta: float = 1.0, shape=(1, 2, 5, 17)) -> bytes:
    opts = tfl.SoftmaxOptionsT()
    opts.beta = beta
    return unary(
        "SOFTMAX", int8, shape, (-6.0, 4.0), (1 / 256, -128), opts, tfl.BuiltinOptions.SoftmaxOptions
    )


def batch_matmul(int8: bool, adj_y: bool = False) -> bytes:
    opts = tfl.BatchMatMulOptionsT()
    opts.adjY = adj_y
    sa, sb, so = (2, 5, 8), ((2, 7, 8) if adj_y else (2, 8, 7)), (2, 5, 7)
    bv = np.random.default_rng(1).uniform(-1.0, 1.5, sb).astype(np.float32)
    if not int8:
        a, y = act(sa, T.FLOAT32, name="a"), act(so, T.FLOAT32, name="y")
        b = const(bv, T.FLOAT32, name="b")
    else:
        a = act(sa, T.INT8, q8(*asym(-2.0, 2.0)), "a")
        sb_, zb = asym(-1.0, 1.5)
        b = const(np.clip(np.round(bv / sb_) + zb, -128, 127).astype(np.int8), T.INT8, q8(sb_, zb), "b")
        y = act(so, T.INT8, q8(*asym(-8.0, 8.0)), "y")
    return model(OPS.BATCH_MATMUL, [a, b], [y], opts, tfl.BuiltinOptions.BatchMatMulOptions)


def mean(int8: bool, shape=(1, 6, 16)) -> bytes:
    axes = const(np.array([2], np.int32), T.INT32, name="axes")
    opts = tfl.ReducerOptionsT()
    out = shape[:-1]
    if not int8:
        x, y = act(shape, T.FLOAT32, name="x"), act(out, T.FLOAT32, name="y")
    else:
        x, y = act(shape, T.INT8, q8(*asym(-3.0, 3.0)), "x"), act(out, T.INT8, q8(*asym(-1.0, 1.0)), "y")
    return model(OPS.MEAN, [x, axes], [y], opts, tfl.BuiltinOptions.ReducerOptions)


def single_op_model(data: bytes, k: int) -> tuple[bytes, list[int], int]:
    """Operator k of `data` as a model of its own: (bytes, the original indices of its inputs in
    order, the original index of its output). Constants keep their data."""
    src = me.read(data)
    sg = src.subgraphs[0]
    op = sg.operators[k]
    copies, inputs = {}, []
    for t in op.inputs + op.outputs:
        if t is None or t.index in copies:
            continue
        data_ = t.buffer.data if t.buffer is not None and len(t.buffer.data) else None
        copies[t.index] = me.Tensor(
            shape=t.shape, dtype=t.dtype, data=data_, quantization=copy.deepcopy(t.quantization), name=t.name
        )
        if data_ is None and t not in op.outputs:
            inputs.append(t.index)
    m = me.Model()
    new = me.Subgraph(tensors=list(copies.values()))
    fb = tfl.OperatorT()
    fb.builtinOptionsType, fb.builtinOptions = op._fb.builtinOptionsType, copy.deepcopy(op._fb.builtinOptions)
    new.operators.append(
        me.Operator(
            opcode=op.opcode,
            inputs=[copies[t.index] if t is not None else None for t in op.inputs],
            outputs=[copies[t.index] for t in op.outputs],
            _fb=fb,
        )
    )
    new.inputs = [copies[i] for i in inputs]
    new.outputs = [copies[op.outputs[0].index]]
    m.subgraphs.append(new)
    return bytes(m.build()), inputs, op.outputs[0].index


def edgexf_int8(data: bytes, recognized: bool = False):
    """(Imported, integer graph) of an int8 .tflite. recognized: as `edgexf compile` quantizes it, after
    passes/optimize.py (decomposed LayerNorm and GELU become one op each); else op for op as in the file,
    every TFLite operator's output a tensor of the graph (what the per-op comparison needs)."""
    from edgexf.compress.fixed_qparams import quantize_with_file_params
    from edgexf.frontends.tflite_import import convert
    from edgexf.passes.fold_constants import fold_constants
    from edgexf.passes.optimize import optimize
    from edgexf.passes.remove_dead_ops import remove_dead_ops

    imp = convert(data)
    g = optimize(imp.graph) if recognized else remove_dead_ops(fold_constants(imp.graph))
    return imp, quantize_with_file_params(g, imp.quant).graph


def per_op_agreement(data: bytes, xq: np.ndarray) -> list[dict]:
    """Each operator of an int8 model run by TFLM alone on the inputs edgexf's reference computed for it
    (samples xq, the model's int8 input), against edgexf's output: one dict per operator."""
    from tflite_micro import runtime

    from edgexf.ir.reference import run_reference

    imp, q = edgexf_int8(data)
    env = run_reference(q, {q.inputs[0]: xq}, keep_all=True)
    src = me.read(data)
    rows = []
    for k, op in enumerate(src.subgraphs[0].operators):
        one, inputs, out = single_op_model(data, k)
        if out not in imp.names or any(i not in imp.names for i in inputs):
            continue
        it = runtime.Interpreter.from_bytes(one, arena_size=4 << 20)
        got = []
        for s in range(len(xq)):
            for j, i in enumerate(inputs):
                it.set_input(np.ascontiguousarray(env[imp.names[i]][s]), j)
            it.invoke()
            got.append(np.array(it.get_output(0)))
        mine = env[imp.names[out]].reshape((len(xq),) + got[0].shape)
        d = np.abs(mine.astype(np.int64) - np.stack(got).astype(np.int64))
        rows.append({"index": k, "op": op.opcode_name, "elements": int(d.size), "max_lsb": int(d.max()),
                     "differing": int((d > 0).sum())})  # fmt: skip
    return rows


def by_op_type(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        e = out.setdefault(r["op"], {"ops": 0, "elements": 0, "differing": 0, "max_lsb": 0})
        e["ops"] += 1
        e["elements"] += r["elements"]
        e["differing"] += r["differing"]
        e["max_lsb"] = max(e["max_lsb"], r["max_lsb"])
    for e in out.values():
        e["frac_differing"] = round(e["differing"] / e["elements"], 5)
    return out

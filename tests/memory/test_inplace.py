"""Token overwriting: every kernel that declares it may write over an input is run with its output
really sharing the input's bytes (as the planner places them), and must still equal the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import compile_graph, mamba_scan_graphs, same_bits, to_graph

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.ir.graph import DTYPES, Graph, Op, Tensor
from edgexf.ir.ops import OPS, infer_output_specs, input_specs
from edgexf.memory.lifetimes import buffers
from edgexf.models.vit import ViT, ViTConfig
from edgexf.passes.fuse import fuse

CFG = dict(image_size=8, patch_size=2, embed_dim=16, depth=1, num_heads=2, mlp_ratio=2.0)


def _random(rng, shape, dtype):
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32)
    lo, hi = (-128, 128) if dtype == "int8" else (-20000, 20000)
    return rng.integers(lo, hi, shape).astype(DTYPES[dtype])


def _graphs():
    graphs = []
    for channels in (3, 1):  # one channel: the image fits under its tokens (patch streaming)
        torch.manual_seed(0)
        g = to_graph(ViT(ViTConfig(**CFG, in_channels=channels)).eval(), torch.rand(1, channels, 8, 8))
        x = np.random.default_rng(2).random((32, 1, channels, 8, 8), dtype=np.float32)
        ranges = calibrate(g, x, "minmax", 99.99)
        q8, q16 = (quantize_graph(g, ranges, int16).graph for int16 in ((), ("residual",)))
        graphs += [g, q8, q16, fuse(g)[0], fuse(q8)[0], fuse(q16)[0]]
    return graphs + [_extra_ops(), *mamba_scan_graphs()]  # the selective scan writes over its state


def _extra_ops() -> Graph:
    """Aliasing ops a ViT does not contain: sub, div, relu, the recurrent models' activations, erf and log
    (float), q_mul and q_requant (int8 -> int16: a widening output, so the input lies in the output's upper
    half)."""
    t = {"x": Tensor("x", (2, 3, 8)), "c": Tensor("c", (3, 8), data=np.full((3, 8), 1.5, np.float32))}
    ops = []
    kinds = ("relu", "exp", "silu", "sigmoid", "tanh", "rsqrt", "sqrt", "erf", "log")
    unary = [(k, ["x"], {}) for k in kinds]
    softplus = ("softplus", ["x"], {"beta": 1.0, "threshold": 20.0})
    for i, (kind, ins, attrs) in enumerate(
        [("sub", ["x", "c"], {}), ("div", ["x", "c"], {}), *unary, softplus]
    ):
        ops.append(Op(kind, f"{kind}", ins, [f"y{i}"], attrs))
        t[f"y{i}"] = Tensor(f"y{i}", (2, 3, 8))
    t["xq"] = Tensor("xq", (2, 3, 8), "int8")
    t["cq"] = Tensor("cq", (2, 3, 8), "int8", np.arange(48, dtype=np.int8).reshape(2, 3, 8) - 20)
    t["yq"] = Tensor("yq", (2, 3, 8), "int16")
    attrs = dict(a_zp=3, b_zp=-5, mult=1 << 30, shift=33, out_zp=7, dtype="int16")
    ops.append(Op("q_mul", "q_mul", ["xq", "cq"], ["yq"], attrs))
    t["yr"] = Tensor("yr", (2, 3, 8), "int16")
    attrs = dict(in_zp=-3, mult=1 << 30, shift=24, out_zp=11, dtype="int16")
    ops.append(Op("q_requant", "q_requant", ["xq"], ["yr"], attrs))
    return Graph("extra", t, ops, ["x"], ["y0"])


def one_op_cases():
    """(op, graph) for every aliasing op found: the op alone, the input it may overwrite as the graph
    input (which dies there), other inputs constant; the first such graph where the planner does let
    the output take the input's bytes (it never lets a shared region outgrow the output)."""
    rng = np.random.default_rng(0)
    cases = {}
    for g in _graphs():
        for op in g.ops:
            if OPS[op.type].alias is None or op.type in cases:  # (one case per op type)
                continue
            outs = [(g.tensors[n].shape, g.tensors[n].dtype) for n in op.outputs]
            found = OPS[op.type].alias(op, input_specs(g, op), outs)
            if not found:
                continue
            index = found[0][0]
            tensors = {}
            for i, name in enumerate(op.inputs):
                if not name:
                    continue
                t = g.tensors[name]
                data = t.data if t.is_const or i == index else _random(rng, t.shape, t.dtype)
                tensors[name] = Tensor(name, t.shape, t.dtype, None if i == index else data, t.quant)
            for name, (shape, dtype) in zip(op.outputs, infer_output_specs(g, op)):
                tensors[name] = Tensor(name, shape, dtype)
            one = Graph(op.type, tensors, [op], [op.inputs[index]], [op.outputs[0]]).verify()
            if any(op.outputs[0] in b.tensors and op.inputs[index] in b.tensors for b in buffers(one)):
                cases[op.type] = one
    return cases


CASES = one_op_cases()


def test_every_aliasing_kernel_has_a_case():
    declared = {name for name, d in OPS.items() if d.alias is not None}
    assert declared == set(CASES), f"no in-place test for {sorted(declared - set(CASES))}"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_kernel_writing_over_its_input_equals_the_reference(tmp_path, kind):
    g = CASES[kind]
    x_name, y_name = g.inputs[0], g.outputs[0]
    (buf,) = [b for b in buffers(g) if x_name in b.tensors]
    assert y_name in buf.tensors, "the planner did not let the output overwrite the input"
    model = compile_graph(g, tmp_path)
    xo, yo = model.plan.offset_of(x_name), model.plan.offset_of(y_name)
    xs, ys = g.tensors[x_name].nbytes, g.tensors[y_name].nbytes
    assert xo < yo + ys and yo < xo + xs, "input and output do not share bytes"
    t = g.tensors[x_name]
    x = _random(np.random.default_rng(5), (6,) + t.shape, t.dtype)
    got, want = model.run(x), model.reference(x)
    assert same_bits(got, want) if got.dtype == np.float32 else np.array_equal(got, want)

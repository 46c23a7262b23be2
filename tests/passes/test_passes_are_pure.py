"""Every pass returns a new Graph and leaves the one it was given as it was: op list, attributes,
sources, tensors (names, shapes, dtypes, parameters, data), inputs, outputs and states. A pass that
changed its input would change what the caller still holds (the float graph the int8 one is compared
with, a `edgexf fit` candidate's source graph).

The graphs: timm's ViT exported at ONNX opset 13 (LayerNorm and GELU written out, q * scale before
QK^T), so the recognizers, the attention forms, low-rank, fusion and quantization all rewrite it, and
a recurrent graph with states (the toy RNN), which fusion's old chain replacement did not keep."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph
from edgexf.passes.attention_forms import canonical_attention
from edgexf.passes.common_subexpressions import merge_common_subexpressions
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.fuse import fuse
from edgexf.passes.layout_forms import simplify_layout
from edgexf.passes.lowrank_linear import lowrank_linear
from edgexf.passes.recognize import recognize_patterns
from edgexf.passes.remove_dead_ops import remove_dead_ops

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

NO_TIMM = importlib.util.find_spec("timm") is None


def snapshot(g: Graph) -> tuple:
    """Everything a pass could change, by value."""
    ops = [(op.type, op.name, list(op.inputs), list(op.outputs), repr(op.attrs), op.source) for op in g.ops]
    tensors = {
        k: (
            t.name,
            t.shape,
            t.dtype,
            t.quant,
            None if t.data is None else (t.data.dtype.str, t.data.tobytes()),
        )
        for k, t in g.tensors.items()
    }
    return g.name, ops, tensors, list(g.inputs), list(g.outputs), list(g.states), g.steps


def images(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, 1, 3, 32, 32), dtype=np.float32)


# in pipeline order, each pass given what the last one not marked "side" returned; True: it must
# rewrite the timm ViT (the ONNX importer folds constants itself)
PASSES = [
    ("fold_constants", fold_constants, False),
    ("remove_dead_ops", remove_dead_ops, False),
    ("simplify_layout", simplify_layout, False),
    ("merge_common_subexpressions", merge_common_subexpressions, False),
    ("recognize_patterns", recognize_patterns, True),
    ("canonical_attention", canonical_attention, True),
    ("lowrank_linear", lambda g: lowrank_linear(g, budget_fraction=0.5)[0], True),
    ("fuse (float), side", lambda g: fuse(g)[0], True),
    ("quantize", lambda g: quantize_graph(g, calibrate(g, images(8), "minmax", 100.0)).graph, True),
    ("fuse (int8)", lambda g: fuse(g)[0], True),
]


@pytest.fixture(scope="module")
def timm_graph(tmp_path_factory) -> Graph:
    from timm_vit import export

    return onnx_to_graph(export(tmp_path_factory.mktemp("timm") / "vit.onnx", 13))


@pytest.mark.skipif(NO_TIMM, reason="needs timm")
def test_no_pass_changes_its_input(timm_graph):
    g = timm_graph
    for name, run, rewrites in PASSES:
        before = snapshot(g)
        out = run(g)
        assert snapshot(g) == before, f"{name} changed the graph it was given"
        assert out is not g and not {id(op) for op in out.ops} & {id(op) for op in g.ops}, (
            f"{name} returned ops of its input graph: changing its result would change its input"
        )
        if rewrites:
            assert snapshot(out) != before, f"{name} did not rewrite the timm ViT: the test checks nothing"
        g = g if name.endswith("side") else out
    assert "q_attention" in {op.type for op in g.ops}  # (low-rank linears leave the MLP unfused)


def test_fusion_keeps_a_recurrent_graphs_states():
    """fuse's own chain replacement used to drop every tensor no op reads, a state among them."""
    b = GraphBuilder("rnn")
    x, s = b.add_input("x", (1, 4, 8)), b.add_input("s", (1, 4, 8))  # s: read by nothing
    ln = b.add1("layernorm", [x, b.add_const("g", np.ones(8)), b.add_const("b", np.zeros(8))], {"eps": 1e-5})
    y = b.add1("linear", [ln, b.add_const("w", np.eye(8)), ""])
    nxt = b.add1("add", [x, x])
    g = b.build([y])
    g = replace(g, inputs=[x], states=[(s, nxt)], steps=2, outputs=[y]).verify()
    before = snapshot(g)
    out, counts = fuse(g)
    assert counts["ln_linear"] == 1 and out.states == [(s, nxt)]
    assert snapshot(g) == before

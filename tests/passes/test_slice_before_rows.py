"""slice_before_rows: a slice of rows after a LayerNorm moves before it (the norm runs on fewer rows) and
computes the same values; a slice of columns, or a norm read elsewhere too, stays as it is."""

from __future__ import annotations

import numpy as np

from edgexf.ir.builder import GraphBuilder
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse import fuse
from edgexf.passes.slice_before_rows import slice_before_rows


def _vit_tail(axis: int, also_out: bool = False):
    """x (1, 5, 8) -> layernorm -> slice -> reshape (1, 8) -> linear (3): a ViT's class-token head."""
    rng = np.random.default_rng(1)
    b = GraphBuilder("g")
    x = b.add_input("x", (1, 5, 8))
    gamma = b.add_const("gamma", rng.normal(size=8).astype(np.float32))
    beta = b.add_const("beta", rng.normal(size=8).astype(np.float32))
    y = b.add1("layernorm", [x, gamma, beta], {"eps": 1e-5}, name="norm")
    end = 1 if axis == 1 else 8
    s = b.add1("slice", [y], {"axis": axis, "start": 0, "end": end}, name="cls")
    shape = (1, 8) if axis == 1 else (5, 8)
    r = b.add1("reshape", [s], {"shape": shape}, name="flat")
    w = b.add_const("w", rng.normal(size=(3, 8)).astype(np.float32))
    out = b.add1("linear", [r, w, ""], {}, name="head")
    return b.build([out, y] if also_out else [out])


def _same(a, b):
    x = np.random.default_rng(2).normal(size=(1, 5, 8)).astype(np.float32)
    ra, rb = run_reference(a, {"x": x}), run_reference(b, {"x": x})
    for k in ra:
        np.testing.assert_allclose(ra[k], rb[k], rtol=1e-5, atol=1e-5)


def test_rows_sliced_before_the_norm_then_it_folds_into_the_linear():
    g = _vit_tail(axis=1)
    moved = slice_before_rows(g)
    assert [op.type for op in moved.ops] == ["slice", "reshape", "layernorm", "linear"]
    norm = next(op for op in moved.ops if op.type == "layernorm")
    assert moved.tensors[norm.inputs[0]].shape == (1, 8)  # one row normalized, not 5
    _same(g, moved)
    assert [op.type for op in fuse(moved)[0].ops] == ["slice", "reshape", "ln_linear"]


def test_columns_or_a_norm_read_elsewhere_stay():
    for g in (_vit_tail(axis=-1), _vit_tail(axis=1, also_out=True)):
        assert [op.type for op in slice_before_rows(g).ops] == [op.type for op in g.ops]


def test_a_gathered_row_too():
    """ONNX writes the class token as Gather(axis 1, index 0): the norm runs on that row."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("g")
    x = b.add_input("x", (1, 5, 8))
    y = b.add1("layernorm", [x, "", ""], {"eps": 1e-5}, name="norm")
    attrs = {"axis": -2, "indices": [0], "indices_shape": ()}
    t = b.add1("gather", [y], attrs, name="cls")
    w = b.add_const("w", rng.normal(size=(3, 8)).astype(np.float32))
    g = b.build([b.add1("linear", [t, w, ""], {}, name="head")])
    moved = slice_before_rows(g)
    assert [op.type for op in moved.ops] == ["gather", "layernorm", "linear"]
    _same(g, moved)

"""IR invariants: verify() rejects malformed graphs; shape inference catches bad shapes early."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import GraphError, Op, Tensor
from edgexf.ir.reference import run_reference


def small_graph():
    b = GraphBuilder("g")
    x = b.add_input("x", (1, 4, 8))
    w = b.add_const("w", np.ones((3, 8), np.float32))
    y = b.add1("linear", [x, w, ""], name="fc")
    z = b.add1("softmax", [y], name="sm")
    return b.build([z])


def test_builder_infers_shapes_and_reference_runs_batched():
    g = small_graph()
    assert g.tensors["fc"].shape == (1, 4, 3)
    x = np.random.default_rng(0).standard_normal((5, 1, 4, 8)).astype(np.float32)
    y = run_reference(g, {"x": x})["sm"]
    assert y.shape == (5, 1, 4, 3)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)


def test_verify_rejects_use_before_definition():
    g = small_graph()
    g.ops.reverse()
    with pytest.raises(GraphError, match="used before it is defined"):
        g.verify()


def test_verify_rejects_wrong_declared_shape():
    g = small_graph()
    g.tensors["fc"] = Tensor("fc", (1, 4, 5))
    with pytest.raises(GraphError, match="shape inference says"):
        g.verify()


def test_verify_rejects_unknown_op_and_missing_output():
    g = small_graph()
    g.ops.append(Op("frobnicate", "f", ["sm"], ["q"]))
    with pytest.raises(GraphError, match="unknown op type"):
        g.verify()
    g = small_graph()
    g.outputs = ["nowhere"]
    with pytest.raises(GraphError, match="never produced"):
        g.verify()


def test_shape_errors_name_the_op():
    b = GraphBuilder("g")
    x = b.add_input("x", (2, 3))
    w = b.add_const("w", np.ones((4, 5), np.float32))
    with pytest.raises(GraphError, match="linear 'fc'.*does not fit"):
        b.add1("linear", [x, w, ""], name="fc")
    with pytest.raises(GraphError, match="do not broadcast"):
        b.add1("add", [x, b.add_const("c", np.ones((4,), np.float32))], name="plus")

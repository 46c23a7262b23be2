"""The ONNX loader under random input: every file gives a Graph or a clean ModelLoadError or
UnsupportedOpError, never another exception (a traceback from inside onnx, numpy or a handler).

Hypothesis draws random bytes, truncations and byte flips of a small valid model, and random attribute
values on its nodes. Any input that breaks the rule is written to tests/data/fuzz_corpus/onnx/ (named by
its hash) before the test fails; test_corpus_replays runs every file kept there. The corpus also holds
hand-made seeds (named for what they try: huge constants, bad axes, empty and truncated files).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.ir.graph import Graph

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fuzz_corpus" / "onnx"
# EDGEXF_FUZZ_EXAMPLES=5000 for a longer search; the corpus, not hypothesis' database, keeps what it finds
EXAMPLES = int(os.environ.get("EDGEXF_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def small_model() -> onnx.ModelProto:
    """conv -> relu -> transpose -> reduce-mean -> flatten -> gemm -> softmax, split, gather, concat."""
    rng = np.random.default_rng(0)
    inits = {
        "w": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
        "b": rng.standard_normal(3).astype(np.float32),
        "g": rng.standard_normal((4, 12)).astype(np.float32),
        "i": np.array([0, 2], np.int64),
        "s": np.array([1, 3], np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1], group=1),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("ReduceMean", ["t"], ["m"], axes=[1], keepdims=0),
        helper.make_node("Flatten", ["m"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "g"], ["h"], transB=1, alpha=0.5),
        helper.make_node("Softmax", ["h"], ["p"], axis=-1),
        helper.make_node("Split", ["p", "s"], ["p1", "p3"], axis=1),
        helper.make_node("Gather", ["p3", "i"], ["q"], axis=1),
        helper.make_node("Concat", ["p1", "q"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


SMALL = small_model().SerializeToString()


def load_bytes(data: bytes) -> Graph | None:
    """onnx_to_graph on a file holding data: the graph, or None for a clean refusal. Anything else is
    kept in the corpus and raised."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.onnx"
        path.write_bytes(data)
        try:
            return onnx_to_graph(path)
        except (ModelLoadError, UnsupportedOpError):
            return None
        except BaseException:
            CORPUS.mkdir(parents=True, exist_ok=True)
            (CORPUS / f"{hashlib.sha1(data).hexdigest()[:16]}.onnx").write_bytes(data)
            raise


def test_the_small_model_converts():
    assert load_bytes(SMALL) is not None


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data):
    load_bytes(data)


@FUZZ
@given(st.integers(0, len(SMALL)), st.lists(st.tuples(st.integers(0, len(SMALL) - 1), st.integers(1, 255))))
def test_truncated_and_flipped(cut, flips):
    data = bytearray(SMALL[: max(cut, 1)] if flips else SMALL[:cut])
    for pos, xor in flips:
        if pos < len(data):
            data[pos] ^= xor
    load_bytes(bytes(data))


VALUES = st.one_of(
    st.integers(-8, 8),
    st.lists(st.integers(-8, 8), max_size=6),
    st.floats(-4, 4, allow_nan=False),
    st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "tanh", "none", "x"]),
)


@FUZZ
@given(st.data())
def test_random_attribute_values(data):
    model = small_model()
    for _ in range(data.draw(st.integers(1, 3))):
        node = data.draw(st.sampled_from(list(model.graph.node)))
        names = [a.name for a in node.attribute] or ["axis"]
        name = data.draw(st.sampled_from(names + ["axis", "keepdims", "kernel_shape", "dilations"]))
        value = data.draw(VALUES)
        kept = [a for a in node.attribute if a.name != name]
        del node.attribute[:]
        kind = onnx.AttributeProto.INTS if isinstance(value, list) else None  # [] has no type of its own
        node.attribute.extend([*kept, helper.make_attribute(name, value, attr_type=kind)])
    load_bytes(model.SerializeToString())


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.onnx")), ids=lambda p: p.name)
def test_corpus_replays(path):
    load_bytes(path.read_bytes())

"""Recurrent models through ONNX: a step() export (inputs x_t and the states, outputs y_t and the next
states) streams with its state in the persistent region, float32 and int8, every step of 1000 matching
onnxruntime's run of the same file (QEMU == host == reference, bit for bit); how states pair with their
next values, and the errors when they cannot; a whole-sequence export says that it runs unrolled."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from edgexf.cli import main
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.errors import ModelLoadError
from edgexf.frontends import load_model
from edgexf.frontends.onnx_streaming import StepOptions, pair_states, parse_state_pairs
from edgexf.frontends.streaming import StepModule
from edgexf.frontends.unrolled import unrolled_sequence
from edgexf.ir.reference import run_steps
from edgexf.passes.optimize import optimize

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA))
sys.path.insert(0, str(DATA.parent))
import mambapy_model  # noqa: E402
import small_recurrent  # noqa: E402
from step_runs import run_every_step  # noqa: E402

STEPS = 1000
FLOAT_TOL = 1e-5  # float32 against onnxruntime, relative to the step's largest output: measured 4.5e-7


def export_step(module: torch.nn.Module, d: int, path: Path, names: list[str]) -> Path:
    """module.step exported as its users would: torch.onnx.export of the step function, the state as
    inputs and outputs, named (x, *names) -> (y, *[n + '_out']); x_t is (1, d)."""
    x_t = torch.randn(1, d)
    torch.onnx.export(
        StepModule(module.eval()), (x_t, *module.init_state()), str(path), dynamo=False, opset_version=17,
        input_names=["x", *names], output_names=["y", *(f"{n}_out" for n in names)],
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("onnx_steps")
    mambapy, _ = mambapy_model.build()  # 2 layers: conv FIFO and h each, mambapy's step() (a Conv node)
    lmu, _ = small_recurrent.lmu()
    return {
        "mambapy": export_step(mambapy, 6, out / "mambapy_step.onnx", ["h0", "conv0", "h1", "conv1"]),
        "lmu": export_step(lmu, 4, out / "lmu_step.onnx", ["m"]),
    }


def ort_every_step(path: Path, x: np.ndarray) -> np.ndarray:
    """onnxruntime over one sequence x (T, d) from zero state: every step's y, (T, *y)."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ins = sess.get_inputs()
    state = {i.name: np.zeros(i.shape, np.float32) for i in ins[1:]}
    ys = []
    for x_t in x:
        y, *nxt = sess.run(None, {ins[0].name: x_t[None], **state})
        state = dict(zip(state, nxt, strict=True))
        ys.append(y)
    return np.stack(ys)


def _sequences(n: int, d: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, STEPS, d)) * 0.7).astype(np.float32)


@pytest.mark.qemu
@pytest.mark.parametrize("name, dtype", [("mambapy", "float32"), ("mambapy", "int8"), ("lmu", "float32")])
def test_a_step_export_streams_in_qemu_for_1000_steps(tmp_path, models, name, dtype):
    path = models[name]
    d = 6 if name == "mambapy" else 4
    x = _sequences(1, d, seed=1)
    np.savez(tmp_path / "test.npz", x=x)  # its sequences give --steps
    args = ["compile", str(path), "--board", "stm32f746", "-o", str(tmp_path / "b"), "--test-data",
            str(tmp_path / "test.npz")]  # fmt: skip
    calib = _sequences(8, d, seed=2)
    if dtype == "int8":
        np.savez(tmp_path / "calib.npz", x=calib)
        args += ["--quantize", "int8", "--calibration", str(tmp_path / "calib.npz")]
        args += ["--calibration-method", "percentile"]
    assert main(args) == 0
    build = tmp_path / "b"
    r = json.loads((build / "report.json").read_text())
    st = r["streaming"]
    assert st["steps"] == STEPS and r["unrolled"] is None
    assert len(st["states"]) == (4 if name == "mambapy" else 1)
    y_qemu, instructions = run_every_step(build, x, emulate=True)
    y_host, _ = run_every_step(build, x, emulate=False)
    assert np.array_equal(y_qemu, y_host)
    assert len(instructions) == STEPS
    want = ort_every_step(path, x[0])[:, 0]  # (T, classes)
    ref = _reference_every_step(path, x, calib if dtype == "int8" else None)
    got = y_qemu[0, :, 0]
    assert np.array_equal(got, ref)  # every step bit-exact with the IR reference
    assert np.array_equal(ref[-1], np.load(build / "test_vectors.npz")["reference"][0, 0])
    if dtype == "float32":
        scale = np.abs(want).max(axis=1, keepdims=True)
        assert np.abs(got - want).max() <= FLOAT_TOL * scale.max()
        assert np.all(np.abs(got - want) <= FLOAT_TOL * scale)
    else:  # quantization error, not bit-exactness: the same class at most steps, close in direction
        q = r["quantization"]["output"]
        real = (got.astype(np.float32) - q["zero_point"]) * q["scale"]
        cos = (real * want).sum() / (np.linalg.norm(real) * np.linalg.norm(want))
        assert cos > 0.98 and np.mean(real.argmax(1) == want.argmax(1)) > 0.8


def _reference_every_step(path: Path, x: np.ndarray, calib: np.ndarray | None) -> np.ndarray:
    """The IR reference of the compiled graph (quantized as compile does, for int8), step by step."""
    g = optimize(load_model(path, step=StepOptions(STEPS)).graph)  # as compile does
    feed = x[:, None]  # (S, 1, T, d): the graph's io_shape per sample
    if calib is not None:
        g = quantize_graph(g, calibrate(g, calib[:, None], "percentile", progress=False), ("state",)).graph
        inp = g.tensors[g.inputs[0]].quant
        feed = np.clip(np.round(feed / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
    states: dict = {}
    ys = [
        run_steps(g, {g.inputs[0]: feed[:, :, t : t + 1]}, states=states)[g.outputs[0]] for t in range(STEPS)
    ]
    return np.stack(ys, axis=1)[0, :, 0]  # (T, classes)


# ---- pairing states with their next values --------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, outputs, given, pairs",
    [
        (["x", "h", "c"], ["y", "h_out", "c_out"], (), [("h", "h_out"), ("c", "c_out")]),
        (["x", "h", "c"], ["c_next", "y", "h_next"], (), [("h", "h_next"), ("c", "c_next")]),  # names win
        (["x", "past_k"], ["y", "present_k"], (), [("past_k", "present_k")]),
        (["x", "h", "c"], ["y", "12", "13"], (), [("h", "12"), ("c", "13")]),  # torch's numbered outputs
        (["x", "h"], ["a", "b"], (("h", "a"),), [("h", "a")]),  # --state h=a: y is b
    ],
)
def test_states_pair_by_flag_then_name_then_order(inputs, outputs, given, pairs):
    x, y, got = pair_states(inputs, outputs, given)
    assert got == pairs and x not in {s for s, _ in pairs} and y not in {n for _, n in pairs}


@pytest.mark.parametrize(
    "inputs, outputs, given, message",
    [
        (["x", "h"], ["y"], (), "needs 2 outputs, not 1"),
        (["x", "h", "c"], ["y", "c_out", "h_out"], (("h", "h_out"),), "pair every input but one"),
        (
            ["x", "h", "c"],
            ["y", "c_out", "zz"],
            (),
            "order with output 'zz' but by name with 'c_out'",
        ),
        (["x", "h", "c"], ["y", "h_out", "h_next"], (), "could pair with outputs"),
        (["x", "h"], ["y", "h2"], (("h", "nope"),), "the model's inputs are"),
    ],
)
def test_ambiguous_pairs_are_refused_clearly(inputs, outputs, given, message):
    with pytest.raises(ModelLoadError, match=message.replace("(", r"\(")):
        pair_states(inputs, outputs, given)


def test_state_flags_parse_and_say_what_they_expect():
    assert parse_state_pairs(["h=h_out", " c = c2 "]) == (("h", "h_out"), ("c", "c2"))
    with pytest.raises(ModelLoadError, match="expected IN=OUT"):
        parse_state_pairs(["h"])


def _step_file(tmp_path: Path, next_shape=(1, 3), names=("y", "h_out")) -> Path:
    """y = x W, h' = h + y (h' shaped next_shape when given so: a mismatch)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, (2, 3), np.ones(6, np.float32))
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["h", "xw"], ["hn"]),
        helper.make_node("Reshape", ["hn", "shape"], [names[1]]),
        helper.make_node("Neg", ["xw"], [names[0]]),
    ]
    shape = helper.make_tensor("shape", TensorProto.INT64, (len(next_shape),), np.array(next_shape))
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes, "step", [vi("x", TensorProto.FLOAT, (1, 2)), vi("h", TensorProto.FLOAT, (1, 3))],
        [vi(names[0], TensorProto.FLOAT, (1, 3)), vi(names[1], TensorProto.FLOAT, next_shape)], [w, shape],
    )  # fmt: skip
    path = tmp_path / "step.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_state_whose_next_value_differs_in_shape_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match=r"state input 'h' \[1, 3\] pairs with output 'h_out' \[3\]"):
        load_model(_step_file(tmp_path, next_shape=(3,)), step=StepOptions(5))


def test_steps_come_from_the_flag_or_the_test_data(tmp_path):
    path = _step_file(tmp_path)
    assert load_model(path, step=StepOptions(7)).graph.steps == 7
    assert load_model(path, step=StepOptions(data_shape=(4, 1, 9, 2))).graph.steps == 9
    with pytest.raises(ModelLoadError, match="give --steps T"):
        load_model(path)
    g = load_model(path, step=StepOptions(4)).graph
    assert [s for s, _ in g.states] == ["h"] and g.io_shape("x") == (1, 4, 2)


def test_step_options_are_refused_for_a_model_that_is_not_a_step_model(tmp_path):
    with pytest.raises(ModelLoadError, match="apply to ONNX step models"):
        load_model(f"{DATA / 'toy_rnn.py'}:build", step=StepOptions(5))


# ---- whole-sequence exports ------------------------------------------------------------------------


def test_a_whole_sequence_export_says_it_runs_unrolled(tmp_path, models, capsys):
    """edgexf's Mamba over 50 steps exported whole (its scan unrolled, a causal conv1d over time)."""
    model, example = small_recurrent.mamba(50)
    path = tmp_path / "mamba_seq.onnx"
    torch.onnx.export(model, (example,), str(path), dynamo=False, opset_version=17)
    found = unrolled_sequence(load_model(path).graph)
    assert found.steps == 50 and "unrolled" in found.evidence
    assert unrolled_sequence(load_model(models["lmu"], step=StepOptions(50)).graph) is None
    assert main(["compile", str(path), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 0
    assert "all 50 steps in one graph, unrolled: it does not stream" in capsys.readouterr().out
    r = json.loads((tmp_path / "b" / "report.json").read_text())
    assert r["streaming"] is None and r["unrolled"]["steps"] == 50 and "step(x_t" in r["unrolled"]["message"]

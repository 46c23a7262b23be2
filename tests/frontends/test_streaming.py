"""Streaming (recurrent) models: step() exported with its state, the state kept in its own region, the
C step API (reset, step) and the whole-sequence run checked against the reference and PyTorch."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from edgexf.cli import main
from edgexf.codegen.generate import generate_c
from edgexf.errors import ModelLoadError
from edgexf.frontends import load_model
from edgexf.ir.reference import run_reference, run_steps
from edgexf.memory.plan import plan_memory
from edgexf.targets.toolchain import COMMON_CFLAGS, find_tool, include_flags, model_sources

DATA = Path(__file__).parent.parent / "data"
TOY = DATA / "toy_rnn.py"


def _sequences(n: int, steps: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, steps, 3)).astype(np.float32)


def test_step_graph_has_states_and_matches_pytorch():
    m = load_model(f"{TOY}:build")
    g = m.graph
    assert g.steps == 12 and len(g.states) == 2
    assert [(s, g.tensors[s].shape) for s, _ in g.states] == [("h", (1, 8)), ("c", (1, 1, 8))]
    assert g.io_shape(g.inputs[0]) == (1, 12, 3)
    x = _sequences(20, 12)
    y = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
    np.testing.assert_allclose(y, m.original(x), rtol=1e-5, atol=1e-6)


def test_reference_continues_from_given_states():
    g = load_model(f"{TOY}:build").graph
    x = _sequences(3, 12)
    states: dict = {}
    whole = run_steps(g, {g.inputs[0]: x}, states=states)[g.outputs[0]]
    first = {}
    run_steps(g, {g.inputs[0]: x[:, :, :5]}, states=first)
    rest = run_steps(g, {g.inputs[0]: x[:, :, 5:]}, states=first)[g.outputs[0]]
    assert np.array_equal(whole, rest)  # 5 steps then 7 from where they stopped = 12 at once
    assert all(np.array_equal(states[k], first[k]) for k in states)


def _harness(g, tmp: Path) -> Path:
    src = generate_c(g, plan_memory(g), tmp / "model", {"command": "test"})
    exe = tmp / "harness"
    cmd = [find_tool("gcc"), *COMMON_CFLAGS, *include_flags(src.dir), *model_sources(src.dir),
           DATA / "stream_harness.c", "-o", exe, "-lm"]  # fmt: skip
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
    return exe


def test_c_step_api_reset_and_whole_run(tmp_path):
    g = load_model(f"{TOY}:build").graph
    exe = _harness(g, tmp_path)
    x = _sequences(1, 12, seed=3)
    out = subprocess.run([exe], input=x.tobytes(), capture_output=True, check=True).stdout
    y = np.frombuffer(out, np.float32).reshape(-1, 4)
    assert len(y) == 3 * 12 + 1
    every = run_reference(g, {g.inputs[0]: x[0]}, keep_all=True)[g.outputs[0]].reshape(12, 4)
    assert np.array_equal(y[:12], every)  # every step bit-exact with the reference
    assert np.array_equal(y[12:24], y[:12])  # reset really resets
    assert not np.allclose(y[24:36], y[:12])  # without a reset the state carries over
    assert np.array_equal(y[36], y[11])  # edgexf_run() = reset + all steps


@pytest.mark.parametrize(
    "model, features, classes",
    [
        (f"{TOY}:long", 3, 4),
        (f"{DATA / 'small_recurrent.py'}:mamba", 4, 3),
        (f"{DATA / 'small_recurrent.py'}:lmu", 4, 3),
    ],
    ids=["toy", "mamba", "lmu"],
)
def test_no_drift_over_1000_steps(tmp_path, model, features, classes):
    """Every one of 1000 steps of the host-built C bit-exact with the reference (same float operations in
    the same order, so nothing accumulates), and the last within 1e-4 of PyTorch's whole-sequence form."""
    m = load_model(model)
    g = m.graph
    exe = _harness(g, tmp_path)
    x = np.random.default_rng(5).standard_normal((1, 1, 1000, features)).astype(np.float32) * 0.5
    out = subprocess.run([exe], input=x.tobytes(), capture_output=True, check=True).stdout
    y = np.frombuffer(out, np.float32).reshape(-1, classes)[:1000]
    every = run_reference(g, {g.inputs[0]: x[0]}, keep_all=True)[g.outputs[0]].reshape(1000, classes)
    assert np.array_equal(y, every)
    expected = m.original(x)[0, 0]
    np.testing.assert_allclose(y[-1], expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_compile_reports_state_and_runs_in_qemu(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["compile", f"{TOY}:build", "--board", "stm32f746", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(120 per step x 12 steps)" in text and "state                  64 B" in text
    r = json.loads((out / "report.json").read_text())
    assert r["streaming"]["steps"] == 12 and r["streaming"]["state_bytes"] == 64
    assert r["inputs"][0]["shape"] == [1, 12, 3] and r["inputs"][0]["bytes"] == 144
    assert r["macs"] == 1440 and r["host_check"]["bit_exact_with_reference"] == 16
    assert main(["run", str(out), "--emulate", "--check"]) == 0
    assert "16/16" in capsys.readouterr().out
    # on-device evaluation: whole sequences over the serial protocol, MODEL_INFO with the state bytes
    data = tmp_path / "seq.npz"
    np.savez(data, x=_sequences(6, 12)[:, 0], y=np.arange(6) % 4)
    assert main(["eval", str(out), "--emulate", "--data", str(data)]) == 0
    ev = json.loads((out / "eval_report.json").read_text())
    assert ev["samples"] == 6
    rows = {m["name"]: m for m in ev["metrics"]}
    assert rows["target vs original"]["acc"] == 1.0 and rows["target vs original"]["l2r"] < 1e-6


def _write(tmp_path: Path, body: str) -> str:
    (tmp_path / "m.py").write_text(textwrap.dedent(body))
    return f"{tmp_path / 'm.py'}:build"


BASE = """
    import torch
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
        def forward(self, x):
            return x[:, -1]
        {step}
    def build():
        return M(), {example}
"""


@pytest.mark.parametrize(
    "step, example, message",
    [
        ("def init_state(self): return (torch.ones(1, 2),)\n        def step(self, x, h): return x, h + x",
         "torch.randn(1, 5, 2)", "not all zeros"),
        ("def init_state(self): return (torch.zeros(1, 2),)\n        def step(self, x, h): return (x + h,)",
         "torch.randn(1, 5, 2)", "must return (y_t, *next_state)"),
        ("def init_state(self): return (torch.zeros(1, 2),)\n        def step(self, x, h): return x, h + x",
         "torch.randn(5, 2)", "must be one sequence (1, T, features...)"),
    ],
)  # fmt: skip
def test_bad_streaming_models_are_refused_clearly(tmp_path, step, example, message):
    with pytest.raises(
        ModelLoadError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        load_model(_write(tmp_path, BASE.format(step=step, example=example)))


def test_a_streaming_model_quantizes_with_its_states(tmp_path):
    """int8, the running sum c in int16 (the default for a state updated by an add), h in int8 (relu is
    a table); the host build is checked bit-exact with the reference during compile."""
    calib = tmp_path / "c.npz"
    np.savez(calib, x=_sequences(8, 12)[:, 0])
    code = main(["compile", f"{TOY}:build", "--board", "stm32f746", "-o", str(tmp_path / "b"),
                 "--quantize", "int8", "--calibration", str(calib)])  # fmt: skip
    assert code == 0
    r = json.loads((tmp_path / "b" / "report.json").read_text())
    assert [s["bytes"] for s in r["streaming"]["states"]] == [8, 16]  # h int8, c int16
    assert r["host_check"]["bit_exact_with_reference"] == r["host_check"]["samples"]


def test_a_mamba_from_other_code_runs_in_qemu(tmp_path, capsys):
    """mambapy's own Mamba (two layers) through its step(): the C matches mambapy's parallel scan. Its
    adapter's init_state repeats one tuple of tensors per layer: the states must still stay apart."""
    out = tmp_path / "b"
    assert (
        main(["compile", f"{DATA / 'mambapy_model.py'}:build", "--board", "stm32f746", "-o", str(out)]) == 0
    )
    r = json.loads((out / "report.json").read_text())
    assert [s["shape"] for s in r["streaming"]["states"]] == [[1, 32, 4], [1, 32, 2]] * 2
    assert r["host_check"]["max_rel_err_vs_original"] < 1e-5
    assert main(["run", str(out), "--emulate", "--check"]) == 0
    assert "16/16 (worst relative error" in capsys.readouterr().out

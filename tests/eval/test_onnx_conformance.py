"""The ONNX backend node tests of the ops edgexf imports, through the whole compiler and host gcc
(edgexf/eval/onnx_conformance.py): none may fail, and at least as many pass as when last counted.

A case edgexf refuses at import (an int8 input, a double, an op used in training mode) is fine; a case
that compiles to a wrong answer, or that a later stage refuses or crashes on, is a bug. About 35 s on 2
idle cores (collecting the cases takes 7 s; each case about 0.15 s of one core).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess

import numpy as np
import onnx
import pytest

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.eval import onnx_conformance as conf

# Cases known to fail, each with why: keep this small, remove an entry once it passes or is refused, and
# tell the lead about every entry. Empty when last counted.
KNOWN_FAILURES: dict[str, str] = {}
# Passed when last counted (all ops, 395 cases): a drop is a regression. Raise it when more pass.
MIN_PASSED = 261


@pytest.fixture(scope="module")
def results() -> list[conf.CaseResult]:
    return conf.run_conformance(jobs=2, progress=False)


@pytest.mark.slow  # every ONNX backend node test of the ops edgexf imports
def test_no_case_fails(results):
    failed = {r.name: r.reason for r in results if r.status == "failed" and r.name not in KNOWN_FAILURES}
    assert not failed, "\n".join(f"{name}: {why}" for name, why in failed.items())
    fixed = set(KNOWN_FAILURES) - {r.name for r in results if r.status == "failed"}
    assert not fixed, f"these pass or are refused now: remove them from KNOWN_FAILURES: {sorted(fixed)}"


@pytest.mark.slow
def test_enough_cases_pass(results):
    rows = conf.summarize(results)
    print("\n" + conf.table(rows))
    total = rows[-1]
    assert total["cases"] == len(results) == 395
    assert total["passed"] >= MIN_PASSED
    assert {r["op"] for r in rows[:-1]} == set(conf.OPS)  # every op has cases


@pytest.mark.slow
def test_an_unsupported_case_says_why(results):
    refused = [r for r in results if r.status == "unsupported"]
    assert refused and all(r.reason for r in refused)
    int8 = next(r for r in results if r.name == "test_add_int8")
    assert int8.status == "unsupported" and "INT8" in int8.reason


def test_shape_inputs_become_initializers():
    (case,) = [c for c in conf.select_cases(["Reshape"]) if c.name == "test_reshape_reordered_all_dims"]
    model, kept, frozen = conf.freeze_shape_inputs(onnx.load_from_string(case.model), case.inputs)
    assert frozen == ["shape"] and len(kept) == 1 and kept[0] is case.inputs[0]
    assert [vi.name for vi in model.graph.input] == ["data"]
    assert [t.name for t in model.graph.initializer] == ["shape"]


def test_json_lines(capsys):
    assert conf.main(["--ops", "Relu,Tanh", "--json", "--jobs", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["op"] for r in rows] == ["Tanh", "Relu", "total"]  # in OPS order, then the total
    assert rows[-1]["cases"] == 4 and rows[-1]["passed"] >= 3 and rows[-1]["seconds"] > 0


def test_a_wrong_answer_fails_and_the_harness_runs_many_samples(tmp_path):
    archive = conf.build_kernel_archive(tmp_path / "kernels")
    (case,) = [c for c in conf.select_cases(["Add"]) if c.name == "test_add"]  # x + y, two (3,4,5) inputs
    wrong = dataclasses.replace(case, outputs=(case.outputs[0] + 1e-4,))
    result = conf.run_case(wrong, tmp_path / "wrong", archive)
    assert result.status == "failed" and "60/60 values off" in result.reason
    # the harness reads samples until stdin ends: every input of a sample, then the next sample
    x, y = case.inputs
    feed = np.concatenate([x.ravel(), y.ravel(), y.ravel(), y.ravel()]).tobytes()
    out = subprocess.run(
        [tmp_path / "wrong" / "model.exe"], input=feed, capture_output=True, check=True
    ).stdout
    assert np.array_equal(np.frombuffer(out, np.float32), np.concatenate([(x + y).ravel(), (2 * y).ravel()]))
    truncated = subprocess.run([tmp_path / "wrong" / "model.exe"], input=feed[:-4], capture_output=True)
    assert truncated.returncode == 2  # stdin ended inside the second sample


def test_a_frontend_crash_reported_as_a_refusal_is_a_failure(tmp_path, monkeypatch):
    def crashes(model, name="model"):
        try:
            return undefined_name  # noqa: F821
        except NameError as e:
            raise ModelLoadError(f"cannot convert: {e}") from None  # as a frontend that wraps its errors

    def refuses(model, name="model"):
        raise UnsupportedOpError("unsupported ONNX op Relu")

    (case,) = [c for c in conf.select_cases(["Relu"]) if c.name == "test_relu"]
    monkeypatch.setattr(conf, "onnx_to_graph", crashes)
    result = conf.run_case(case, tmp_path / "a", tmp_path / "no_archive_needed.a")
    assert result.status == "failed" and "crashed (NameError)" in result.reason
    monkeypatch.setattr(conf, "onnx_to_graph", refuses)
    result = conf.run_case(case, tmp_path / "b", tmp_path / "no_archive_needed.a")
    assert result.status == "unsupported" and result.reason == "unsupported ONNX op Relu"

"""report.json's JSON Schema (edgexf/schemas/report.schema.json): every compile checks its report against
it when writing (compile_report.write_build_files), so each build the suite makes is validated; here, a
real int8 build's report, what a broken one is told, docs/report.md against the schema, and the fields
that used to contradict each other."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from edgexf.compile_steps import QuantOptions
from edgexf.pipeline import MemoryOptions, compile_model
from edgexf.schemas import REPORT_SCHEMA_VERSION, report_problems, report_schema
from edgexf.schemas.report_docs import render

ROOT = Path(__file__).resolve().parents[2]


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 24), nn.Linear(24, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.fixture(scope="module")
def int8_report(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("schema")
    torch.manual_seed(0)
    model = tmp / "small.pt2"
    torch.export.save(torch.export.export(Small().eval(), (torch.randn(1, 16),)), model)
    calib = tmp / "calib.npz"
    np.savez(calib, x=np.random.default_rng(0).standard_normal((32, 1, 16), dtype=np.float32))
    quant = QuantOptions(calib)
    memory = MemoryOptions(exact_time_s=0)
    compile_model(
        model, "stm32f746", tmp / "b", max_vectors=4, quant=quant, memory=memory, log=lambda s: None
    )
    return json.loads((tmp / "b" / "report.json").read_text())


def test_an_int8_build_matches_the_schema_and_says_its_version(int8_report):
    assert report_problems(int8_report) == []
    assert int8_report["schema_version"] == REPORT_SCHEMA_VERSION == report_schema()["properties"][
        "schema_version"]["const"]  # fmt: skip
    assert set(int8_report) <= set(report_schema()["properties"])


def test_the_float_tolerance_is_null_where_it_does_not_apply(int8_report):
    """An int8 build used to report within_tolerance 0 next to ok: true."""
    check = int8_report["host_check"]
    assert check["quantized"] and check["ok"] and check["within_tolerance"] is None


@pytest.mark.parametrize(
    "damage, where",
    [
        (lambda r: r.pop("arena_bytes"), "(top level): 'arena_bytes' is a required property"),
        (lambda r: r.update(arena_bytes=-1), "arena_bytes: -1 is less than the minimum of 0"),
        (lambda r: r["kernels"].update(used="fast"), "kernels/used: 'fast' is not one of"),
        (lambda r: r.update(surprise=1), "Additional properties are not allowed ('surprise' was unexpected)"),
        (lambda r: r["inputs"][0].pop("dtype"), "inputs/0: 'dtype' is a required property"),
    ],
)
def test_a_broken_report_is_told_where(int8_report, damage, where):
    report = copy.deepcopy(int8_report)
    damage(report)
    problems = report_problems(report)
    assert any(where in p for p in problems), problems


def test_docs_report_md_is_the_schema_rendered():
    """docs/report.md is generated: `python -m edgexf.schemas.report_docs > docs/report.md`."""
    assert (ROOT / "docs" / "report.md").read_text() == render()


def test_every_field_has_a_description():
    def walk(spec, path):
        body = next((s for s in spec.get("oneOf", []) if s.get("type") == "object"), spec)
        for name, sub in body.get("properties", {}).items():
            assert sub.get("description"), f"{path}{name} has no description"
            walk(sub, f"{path}{name}.")
        items = body.get("items", {})
        for name, sub in items.get("properties", {}).items():
            assert sub.get("description"), f"{path}[].{name} has no description"

    walk(report_schema(), "")

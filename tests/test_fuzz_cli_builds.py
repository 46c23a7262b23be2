"""Damaged build directories given to every command that reads one: `run --check` (host), `run --emulate
--check`, `eval --emulate`, `layers` and `flash --dry-run`. Each file of a build deleted, emptied, cut
short or with bytes flipped; manifest.json edited into other types; and report.json edited into other
types with the manifest written again to match (what another edgexf, or an edit by hand followed by a
new manifest, would leave): every command ends with a status from the table, not 70 and not a
traceback, within its deadline.

A damage that breaks the rule is kept in tests/data/fuzz_corpus/cli_builds/ as JSON (what to do to which
file); test_corpus_replays applies each to a fresh copy of the build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_fuzz import CORPUS, Fixture, assert_clean, copy_build, fuzz, make_fixture, run_cli
from hypothesis import strategies as st

from edgexf.build_output import MANIFEST, REPORT, write_manifest

KEPT = CORPUS / "cli_builds"
OTHER_VALUES = [None, "", "x", "../../etc/passwd", -1, 0, 2**40, 1.5, float("nan"), True, [], [1, 2], {},
                {"a": 1}, [{"shape": "x"}]]  # fmt: skip


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> Fixture:
    return make_fixture(tmp_path_factory.mktemp("fuzz_builds"))


def json_paths(value, prefix=()) -> list[tuple]:
    """Every key path into a JSON value (dict keys and list indices), the value's own first."""
    paths = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            paths += json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            paths += json_paths(v, (*prefix, i))
    return paths


@st.composite
def damages(draw, fx: Fixture) -> dict:
    """What to do to the build, as JSON: {"file", "how", and "at", "xor", "path", "value" as needed}."""
    files = sorted(json.loads((fx.build / MANIFEST).read_text())["files"]) + [MANIFEST]
    how = draw(st.sampled_from(["delete", "empty", "cut", "flip", "edit", "edit", "edit"]))
    if how == "edit":  # report.json (manifest then rewritten to match) or manifest.json
        file = draw(st.sampled_from([REPORT, REPORT, REPORT, MANIFEST]))
        doc = json.loads((fx.build / file).read_text())
        path = draw(st.sampled_from(json_paths(doc)))
        value = draw(st.sampled_from([*OTHER_VALUES, "<delete>"]))
        return {"file": file, "how": how, "path": list(path), "value": value}
    file = draw(st.sampled_from(files))
    size = (fx.build / file).stat().st_size
    spec = {"file": file, "how": how}
    if how == "cut":
        spec["at"] = draw(st.integers(0, max(size - 1, 0)))
    if how == "flip":
        spec["at"] = draw(st.lists(st.integers(0, max(size - 1, 0)), min_size=1, max_size=4))
        spec["xor"] = draw(st.integers(1, 255))
    return spec


def apply(build: Path, spec: dict) -> None:
    path = build / spec["file"]
    how = spec["how"]
    if how == "delete":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "cut":
        path.write_bytes(path.read_bytes()[: spec["at"]])
    elif how == "flip":
        data = bytearray(path.read_bytes())
        for at in spec["at"]:
            if at < len(data):
                data[at] ^= spec["xor"]
        path.write_bytes(bytes(data))
    else:  # edit: one value of the JSON replaced (or deleted)
        doc = json.loads(path.read_text())
        *parents, last = spec["path"] or [None]
        if last is None:
            doc = spec["value"]
        else:
            holder = doc
            for key in parents:
                holder = holder[key]
            if spec["value"] == "<delete>":
                del holder[last]
            else:
                holder[last] = spec["value"]
        path.write_text(json.dumps(doc))
        if spec["file"] == REPORT:
            write_manifest(build)  # a build consistent with itself, whose report has other types


def commands(build: Path, fx: Fixture) -> list[list[str]]:
    return [
        ["run", str(build), "--check", "--timeout", "20"],
        ["run", str(build), "--emulate", "--check", "--timeout", "20"],
        ["eval", str(build), "--emulate", "--data", str(fx.test_data), "--limit", "2", "--timeout", "3"],
        ["layers", str(build)],
        ["flash", str(build), "--dry-run"],
    ]


def check(fx: Fixture, spec: dict, work: Path) -> None:
    build = copy_build(fx, work / "build")
    apply(build, spec)
    for argv in commands(build, fx):
        assert_clean(run_cli(argv, 60), argv)


def keep(spec: dict) -> None:
    text = json.dumps(spec, indent=1, sort_keys=True)
    KEPT.mkdir(parents=True, exist_ok=True)
    (KEPT / f"{hashlib.sha1(text.encode()).hexdigest()[:12]}.json").write_text(text + "\n")


def test_the_whole_build_passes(fx, tmp_path):
    for argv in commands(copy_build(fx, tmp_path / "build"), fx):
        outcome = run_cli(argv, 60)
        assert outcome.code == 0, outcome.err


def test_damaged_builds(fx, tmp_path):
    fuzz(damages(fx), 100, lambda spec: check(fx, spec, tmp_path), keep)


@pytest.mark.parametrize("path", sorted(KEPT.glob("*.json")), ids=lambda p: p.name)
def test_corpus_replays(fx, tmp_path, path):
    check(fx, json.loads(path.read_text()), tmp_path)

"""Fuzzing the .tflite loader: truncations, byte flips and random bytes give a Graph or a clean edgexf
error, never another exception. tests/data/fuzz_corpus/tflite/ keeps inputs that once escaped or that
reach a distinct error path (tests/data/tflite/make_fuzz_corpus.py); the whole corpus is replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
from frontends import tflite_builders as B
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgexf.errors import EdgexfError
from edgexf.frontends.tflite_import import tflite_to_graph
from edgexf.ir.graph import Graph

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fuzz_corpus" / "tflite"
SEEDS = [B.fully_connected(True), B.conv(False, False), B.softmax(True), B.layernorm_pattern("SUB", True)]


def loads_or_refuses(data: bytes) -> None:
    try:
        assert isinstance(tflite_to_graph(data), Graph)
    except EdgexfError as e:
        assert str(e) and "Traceback" not in str(e)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    kind = draw(st.sampled_from(["truncate", "flip", "random"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    raw = bytearray(draw(st.binary(min_size=0, max_size=400)))
    if len(raw) >= 8 and draw(st.booleans()):
        raw[4:8] = b"TFL3"  # past the identifier check, into the flatbuffer reader
    return bytes(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzzed_bytes_load_or_fail_cleanly(data):
    loads_or_refuses(data)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.tflite")), ids=lambda p: p.name)
def test_corpus(path):
    loads_or_refuses(path.read_bytes())


def test_corpus_is_there():
    assert len(list(CORPUS.glob("*.tflite"))) >= 10

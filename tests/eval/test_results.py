"""edgexf/eval/results.py: results survive an interruption, and resuming checks it continues the same run."""

from __future__ import annotations

import json

import pytest

from edgexf.errors import DataError
from edgexf.eval.protocol import CounterKind, DeviceInfo
from edgexf.eval.results import (
    ResultsWriter,
    SampleResult,
    check_resumable,
    device_info,
    device_record,
    read_results,
)

DEVICE = DeviceInfo(0x410FC241, 168_000_000, 0b100, CounterKind.QEMU_SYSTICK, 25_000_000, "stm32f405", "")
HEADER = {
    "model_hash": "ab" * 32,
    "data_sha256": "cd" * 32,
    "data": "test.npz",
    "device": device_record(DEVICE),
}


def _sample(i: int) -> SampleResult:
    return SampleResult(i, [bytes([i, 255, 0]), b"\x80"], 0, 1000 + i, 0.01)


def _write(path, n: int) -> None:
    with ResultsWriter.create(path, HEADER) as w:
        w.log("hello from the device")
        for i in range(n):
            w.sample(_sample(i))


def test_round_trip(tmp_path):
    path = tmp_path / "r.jsonl"
    _write(path, 3)
    r = read_results(path)
    assert r.samples == [_sample(i) for i in range(3)] and r.logs == ["hello from the device"]
    assert device_info(r.sessions[0]["device"]) == DEVICE and r.header["model_hash"] == "ab" * 32
    check_resumable(r, path, "ab" * 32, "cd" * 32)


def test_a_torn_last_line_is_cut_off_and_appending_goes_on(tmp_path):
    path = tmp_path / "r.jsonl"
    _write(path, 3)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"kind":"sample","i":3,"outp')  # killed while writing sample 3
    r = read_results(path)
    assert len(r.samples) == 3 and path.read_bytes() == whole
    with ResultsWriter.append_to(path, {"device": device_record(DEVICE)}) as w:
        w.sample(_sample(3))
    r = read_results(path)
    assert [s.index for s in r.samples] == [0, 1, 2, 3] and len(r.sessions) == 2


def test_resuming_another_model_or_data_is_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    _write(path, 1)
    r = read_results(path)
    with pytest.raises(DataError, match="model hash abababab.*this run has 0123"):
        check_resumable(r, path, "0123" * 16, "cd" * 32)
    with pytest.raises(DataError, match=r"data file \(test.npz\) sha256.*--resume"):
        check_resumable(r, path, "ab" * 32, "ee" * 32)


def test_damaged_or_foreign_files_are_refused(tmp_path):
    with pytest.raises(DataError, match="nothing to resume"):
        read_results(tmp_path / "none.jsonl")
    path = tmp_path / "r.jsonl"
    _write(path, 2)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "garbage\n" + "".join(lines[1:]))
    with pytest.raises(DataError, match="line 2"):
        read_results(path)
    path.write_text(json.dumps({"i": 0}) + "\n")
    with pytest.raises(DataError, match="header"):
        read_results(path)

"""The results of an evaluation, one JSON line per sample as it arrives, so an interruption loses nothing.

    {"kind": "header", "format": 1, "build_dir": ..., "model": ..., "model_hash": ..., "data": ...,
     "data_sha256": ..., "device": {...}, "port": ..., "started": ...}
    {"kind": "sample", "i": 0, "outputs": ["<base64>"], "status": 0, "counter": 81234, "seconds": 0.0123}
    {"kind": "log", "text": "..."}                       (the device's LOG frames, kept with the results)
    {"kind": "session", "device": {...}, "port": ..., "started": ...}   (each --resume)

Every line is flushed as it is written. Reading back tolerates a torn last line (the process was
killed while writing it): the line is cut off and that sample is run again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from edgexf.errors import DataError
from edgexf.eval.protocol import DeviceInfo

FORMAT = 1


@dataclass(frozen=True)
class SampleResult:
    index: int
    outputs: list[bytes]  # each output's raw bytes, as the device sent them
    status: int  # edgexf_run's return
    counter: int  # the raw counter (DeviceInfo.counter_value converts it)
    seconds: float  # host wall time of the sample's round trips

    def to_json(self) -> dict:
        outputs = [base64.b64encode(o).decode("ascii") for o in self.outputs]
        return {"kind": "sample", "i": self.index, "outputs": outputs, "status": self.status,
                "counter": self.counter, "seconds": round(self.seconds, 6)}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict) -> SampleResult:
        outputs = [base64.b64decode(o) for o in d["outputs"]]
        return cls(d["i"], outputs, d["status"], d["counter"], d["seconds"])


@dataclass
class Results:
    """What a results file holds: its header, the samples in order, the device's log lines."""

    header: dict
    samples: list[SampleResult] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)  # {"device", "port"}: the header's, then each resume's


def device_record(info: DeviceInfo) -> dict:
    """DEVICE_INFO as the results keep it: readable, with the raw fields device_info() needs back."""
    return info.to_dict() | {"flags": info.flags, "counter_kind": info.counter_kind}


def device_info(record: dict) -> DeviceInfo:
    r = record
    return DeviceInfo(
        int(r["cpuid"], 16),
        r["clock_hz"],
        r["flags"],
        r["counter_kind"],
        r["counter_hz"],
        r["board"],
        r["note"],
    )


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read_results(path: Path) -> Results:
    """Read a results file back, cutting off a torn last line so appending continues cleanly."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"results file {path} does not exist: nothing to resume (leave out --resume)")
    raw = path.read_bytes()
    good = raw[: raw.rfind(b"\n") + 1]  # each record is written with its newline: what follows is torn
    lines = good.split(b"\n")[:-1]
    records = []
    for n, line in enumerate(lines):
        try:
            records.append(json.loads(line))
        except ValueError as e:
            if n < len(lines) - 1:
                raise DataError(
                    f"{path}, line {n + 1}, is not a results record ({e}): the file is damaged"
                ) from e
            good = good[: len(good) - len(line) - 1]  # a last line spoilt some other way: torn too
    if len(good) < len(raw):
        with open(path, "r+b") as f:
            f.truncate(len(good))
    return _parse(path, records)


def _parse(path: Path, records: list[dict]) -> Results:
    if not records or records[0].get("kind") != "header" or records[0].get("format") != FORMAT:
        raise DataError(f"{path} does not start with an edgexf eval results header (format {FORMAT})")
    results = Results(records[0], sessions=[_session(records[0])])
    for r in records[1:]:
        kind = r.get("kind")
        if kind == "sample":
            if r["i"] != len(results.samples):
                raise DataError(
                    f"{path}: sample {r['i']} follows {len(results.samples)} samples; the file is damaged"
                )
            results.samples.append(SampleResult.from_json(r))
        elif kind == "log":
            results.logs.append(r["text"])
        elif kind == "session":
            results.sessions.append(_session(r))
    return results


def _session(record: dict) -> dict:
    return {"device": record.get("device", {}), "port": record.get("port")}


def check_resumable(results: Results, path: Path, model_hash: str, data_sha256: str) -> None:
    """A resumed run must be of the same model on the same data; else its samples would not mix."""
    h = results.header
    for what, theirs, mine in (
        ("model hash", h.get("model_hash"), model_hash),
        (f"data file ({h.get('data')}) sha256", h.get("data_sha256"), data_sha256),
    ):
        if theirs != mine:
            raise DataError(
                f"{path} holds results for {what} {str(theirs)[:16]}, this run has {mine[:16]}: they do not "
                "continue each other; leave out --resume to start afresh, or pass --results ANOTHER.jsonl"
            )


class ResultsWriter:
    """Appends records, one flushed line each."""

    def __init__(self, path: Path, mode: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, mode, encoding="utf-8")

    @classmethod
    def create(cls, path: Path, header: dict) -> ResultsWriter:
        w = cls(path, "w")
        w._write({"kind": "header", "format": FORMAT, **header, "started": now()})
        return w

    @classmethod
    def append_to(cls, path: Path, session: dict) -> ResultsWriter:
        w = cls(path, "a")
        w._write({"kind": "session", **session, "started": now()})
        return w

    def sample(self, result: SampleResult) -> None:
        self._write(result.to_json())

    def log(self, text: str) -> None:
        self._write({"kind": "log", "text": text})

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

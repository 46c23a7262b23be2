"""`edgexf eval`: run a data set through the evaluation firmware on a board (or QEMU) and report.

    data (.npz: x, optional y) -> inputs encoded per report.json (quantized for an int8 build)
    -> per sample, over the serial link: write the input, RUN, read the outputs (session.py)
    -> each result appended to the results file (JSONL) as it arrives: --resume goes on from there
    -> the original model reloaded from report["source"] for the comparison
    -> the report (summary.py): durations, counter per inference and per MAC, metrics

The board speaks docs/eval_protocol.md.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgexf.datasets import as_samples, load_npz
from edgexf.errors import DataError, EdgexfError, LinkError
from edgexf.eval import summary
from edgexf.eval.link import POLL_S, Link
from edgexf.eval.metrics import label_indices
from edgexf.eval.results import (
    ResultsWriter,
    SampleResult,
    check_resumable,
    device_record,
    read_results,
    sha256_file,
)
from edgexf.eval.session import Session, open_session
from edgexf.run.build_dir import read_report
from edgexf.run.vectors import encode_inputs

RESULTS_FILE = "eval_results.jsonl"
REPORT_FILE = "eval_report.json"
RUN_S_PER_MAC = 50e-9  # RUN's wait beyond --timeout: ~10 cycles per MAC at 200 MHz, or QEMU's pace


@dataclass
class EvalOptions:
    data: Path
    port: str | None = None  # None, without emulate: the one ST-LINK port (edgexf/eval/ports.py)
    emulate: bool = False
    limit: int | None = None
    resume: bool = False
    results: Path | None = None  # default: DIR/eval_results.jsonl
    timeout: float = 5.0  # seconds per request attempt (RUN gets more, by the model's MACs)
    baud: int = 115200
    progress: bool = True
    original: bool = True  # reload the source model for the rows that compare with it


@dataclass
class Collected:
    """What is known so far: read back from the results file (--resume), then added by this session."""

    samples: list[SampleResult] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    device: dict | None = None
    port: str | None = None
    link: dict | None = None  # this session's LinkStats


def results_path(build_dir: Path, opts: EvalOptions) -> Path:
    return Path(opts.results) if opts.results else Path(build_dir) / RESULTS_FILE


def report_path(build_dir: Path, opts: EvalOptions) -> Path:
    """DIR/eval_report.json, or X.report.json beside --results X.jsonl."""
    return Path(opts.results).with_suffix(".report.json") if opts.results else Path(build_dir) / REPORT_FILE


def evaluate(build_dir: Path, opts: EvalOptions) -> dict:
    """Evaluate; write the results and the report files; return the report (summary.build's dict)."""
    build_dir = Path(build_dir)
    report = read_report(build_dir)
    _check_build(report, build_dir, opts.emulate)
    x, labels = load_data(Path(opts.data), report, opts.limit)
    path = results_path(build_dir, opts)
    header = {"build_dir": str(build_dir), "model": report["model"], "model_hash": report["model_hash"],
              "data": str(opts.data), "data_sha256": sha256_file(opts.data)}  # fmt: skip
    got = Collected()
    if opts.resume:
        previous = read_results(path)
        check_resumable(previous, path, header["model_hash"], header["data_sha256"])
        got = Collected(previous.samples[: len(x)], previous.logs, **previous.sessions[-1])
        print(f"resuming {path}: {len(got.samples)} of {len(x)} samples done", file=sys.stderr)
    if len(got.samples) < len(x):
        encoded = encode_inputs(x, report["inputs"][0])  # (N, *shape) in the input's dtype
        _on_device(build_dir, report, opts, encoded, got, path, header)
    original, note = None, "no original-model rows: --no-original"
    if opts.original:
        print(f"running the original model ({report['source']}) on the host...", file=sys.stderr)
        original, note = original_outputs(report, x)
    about = {"build_dir": str(build_dir), "data": str(opts.data), "results": str(path), "port": got.port,
             "link": got.link, "logs": got.logs, "original_note": note}  # fmt: skip
    result = summary.build(report, got.samples, got.device, labels, original, **about)
    result["report_file"] = str(report_path(build_dir, opts))
    summary.save(result, Path(result["report_file"]))
    return result


def load_data(path: Path, report: dict, limit: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """x as (N, *input shape) float32 and labels (or None), the first `limit` samples."""
    if len(report["inputs"]) != 1:
        raise EdgexfError(f"{report['model']} has {len(report['inputs'])} inputs: eval takes one input (x)")
    x, y = load_npz(path)
    x = as_samples(x, tuple(report["inputs"][0]["shape"]), str(path))
    if y is not None and len(y) != len(x):
        raise DataError(f"{path}: x holds {len(x)} samples but y {len(y)} labels")
    out_shape = report["outputs"][0]["shape"]
    if y is not None and label_indices(y) is None and y[:1].size != math.prod(out_shape):
        raise DataError(
            f"{path}: labels y (shape {list(y.shape)}) are neither class indices (one integer per sample) "
            f"nor values of the output's shape {out_shape}"
        )
    if limit is not None:
        if limit < 1:
            raise DataError(f"--limit {limit}: give at least 1 sample")
        x, y = x[:limit], None if y is None else y[:limit]
    if len(x) == 0:
        raise DataError(f"{path}: x holds no samples")
    return x, y


def original_outputs(report: dict, x: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The source model's outputs on x, by loading report["source"] again; (None, why) when it cannot be."""
    import torch

    from edgexf.frontends import load_model
    from edgexf.frontends.onnx_streaming import StepOptions

    threads = torch.get_num_threads()
    # Sample by sample through a model small enough for a microcontroller: threads within an op buy
    # nothing and cost a synchronization per op (256 ms instead of 2 ms per digits-ViT sample on a
    # busy 2-core machine).
    torch.set_num_threads(1)
    try:
        steps = (report.get("streaming") or {}).get("steps")  # an ONNX step model's, as compiled
        step = StepOptions(steps) if steps and report["source"].endswith(".onnx") else None
        return load_model(report["source"], step=step).original(x), None
    except Exception as e:  # a user's model file may raise anything: the rows that need it are left out
        return (
            None,
            f"no original-model rows: {report['source']} could not be loaded ({type(e).__name__}: {e})",
        )
    finally:
        torch.set_num_threads(threads)


# ---- the device --------------------------------------------------------------------------------


def _on_device(build_dir, report, opts, encoded, got: Collected, path: Path, header: dict) -> None:
    """Handshake, then run every sample not yet in `got`, appending each to the results file."""
    sink = _LogSink()
    with _connect(build_dir, report, opts, sink) as link:
        try:
            session = open_session(link, report, str(build_dir), opts.timeout, _run_timeout(report, opts))
            got.device, got.port = device_record(session.device), link.port
            session_info = {"device": got.device, "port": link.port}
            with (
                ResultsWriter.append_to(path, session_info)
                if opts.resume
                else ResultsWriter.create(path, header | session_info)
            ) as writer:
                sink.attach(writer)
                _loop(session, encoded, got.samples, writer, opts.progress)
        except LinkError as e:
            e.args = (f"{e}{_saved_note(got.samples, len(encoded), path, build_dir)}",)
            raise
        except KeyboardInterrupt:
            print(_saved_note(got.samples, len(encoded), path, build_dir).strip(), file=sys.stderr)
            raise
        finally:
            got.logs += link.logs
            got.link = link.stats.to_dict()


def _loop(
    session: Session, encoded: np.ndarray, samples: list, writer: ResultsWriter, progress: bool
) -> None:
    bar = tqdm(total=len(encoded), initial=len(samples), unit="sample", file=sys.stderr, disable=not progress)
    with bar:
        for i in range(len(samples), len(encoded)):
            t0 = time.perf_counter()
            outputs, counter, status = session.run([encoded[i].tobytes()])
            result = SampleResult(i, outputs, status, counter, time.perf_counter() - t0)
            writer.sample(result)  # before anything else can fail: an interruption keeps it
            samples.append(result)
            bar.update()


class _LogSink:
    """The device's LOG lines: printed at once (above the progress bar), kept in the results file."""

    def __init__(self):
        self.writer: ResultsWriter | None = None
        self.pending: list[str] = []

    def __call__(self, text: str) -> None:
        tqdm.write(f"device: {text}", file=sys.stderr)
        if self.writer is None:
            self.pending.append(text)
        else:
            self.writer.log(text)

    def attach(self, writer: ResultsWriter) -> None:
        self.writer = writer
        for text in self.pending:  # said during the handshake, before the file had its header
            writer.log(text)
        self.pending = []


@contextlib.contextmanager
def _connect(build_dir: Path, report: dict, opts: EvalOptions, on_log) -> Iterator[Link]:
    if opts.emulate:
        with _emulated(build_dir, report, opts, on_log) as link:
            yield link
        return
    import serial

    port = opts.port or _find_port()
    try:  # a device name, or a pyserial URL: socket://HOST:PORT (QEMU, a proxy), rfc2217://...
        device = serial.serial_for_url(port, opts.baud, timeout=POLL_S)
    except (serial.SerialException, OSError) as e:
        raise LinkError(
            f"cannot open serial port {port}: {e}; check the name (edgexf eval without --port finds an "
            "ST-LINK's port), that no other program (a terminal, an IDE) holds it, and your permissions "
            "(Linux: the dialout group)"
        ) from e
    with device:
        yield Link(device, port, on_log, baud=opts.baud)


@contextlib.contextmanager
def _emulated(build_dir: Path, report: dict, opts: EvalOptions, on_log) -> Iterator[Link]:
    from edgexf.eval.emulator import EmulatedBoard
    from edgexf.targets.boards import load_board

    board = load_board(report["board"])
    elf = build_dir / report["files"]["eval_emulator_elf"]
    check = f"check that {elf} is this build's evaluation firmware (edgexf compile writes it)"
    with EmulatedBoard(board, elf) as emu:
        try:
            yield Link(emu.serial, f"QEMU {board.emulator.machine} ({emu.url})", on_log, check, baud=None)
        except LinkError as e:
            e.args = (f"{e}{_qemu_said(emu)}",)
            raise


def _qemu_said(emu) -> str:
    lines = [
        line for line in emu.output().splitlines() if line.strip() and "waiting for connection" not in line
    ]
    code = emu.exit_code()
    ended = f"QEMU exited with status {code}" if code is not None else "QEMU was still running"
    return f"\n{ended}" + (":\n" + "\n".join(f"    {line}" for line in lines[-10:]) if lines else "")


def _find_port() -> str:
    from edgexf.eval.ports import find_stlink_port  # lazily: it lists the machine's USB devices

    return find_stlink_port()


def _check_build(report: dict, build_dir: Path, emulate: bool) -> None:
    if "model_hash" not in report:
        raise EdgexfError(
            f"{build_dir} was compiled by an edgexf without on-device evaluation (report.json has no "
            "model_hash): compile it again"
        )
    if not report["files"].get("eval_emulator_elf" if emulate else "eval_elf"):
        if emulate:
            why = f"board {report['board']} has no emulator with an evaluation firmware driver"
        else:
            why = report.get("eval", {}).get("why_not") or "none was built"
        raise EdgexfError(
            f"{build_dir} has no evaluation firmware{' for QEMU' if emulate else ' for the board'}: {why}"
        )


def _run_timeout(report: dict, opts: EvalOptions) -> float:
    return opts.timeout + report["macs"] * RUN_S_PER_MAC


def _saved_note(samples: list, total: int, path: Path, build_dir: Path) -> str:
    if not samples:
        return ""
    return (
        f"\n{len(samples)} of {total} samples are saved in {path}; `edgexf eval {build_dir} --resume "
        f"...` (same --data) goes on from sample {len(samples)}"
    )

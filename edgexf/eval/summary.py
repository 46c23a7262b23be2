"""The validation report of `edgexf eval`: figures from the results, as a dict (eval_report.json) and text.

Durations come two ways: host wall time per sample (every round trip of the link: writing the input,
the inference, reading the outputs) and the device's own counter around edgexf_run() alone (cycles
on a board with DWT, SysTick ticks otherwise; under QEMU instructions, 1 per emulated ns).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgexf.eval import metrics
from edgexf.eval.results import SampleResult, device_info
from edgexf.ir.graph import DTYPES
from edgexf.run.vectors import decode_outputs


def target_outputs(samples: list[SampleResult], out_io: dict) -> np.ndarray:
    """The device's first output of each sample, decoded to real numbers: (N, *shape) float32."""
    shape = (len(samples),) + tuple(out_io["shape"])
    raw = np.frombuffer(b"".join(s.outputs[0] for s in samples), DTYPES[out_io["dtype"]]).reshape(shape)
    return decode_outputs(raw, out_io)


def build(
    report: dict,
    samples: list[SampleResult],
    device: dict,
    labels: np.ndarray | None,
    original: np.ndarray | None,
    **about,
) -> dict:
    """The report's figures. about: where things came from (build_dir, data, results, port, link, logs,
    original_note), copied in as they are."""
    out_io = report["outputs"][0]
    target = target_outputs(samples, out_io)
    labels = None if labels is None else labels[: len(samples)]
    classifier = metrics.is_classifier(tuple(out_io["shape"]), labels)
    info = device_info(device)
    counts = np.array([info.counter_value(s.counter) for s in samples])
    seconds = np.array([s.seconds for s in samples])
    r = {
        "model": report["model"],
        "board": report["board"],
        "model_hash": report["model_hash"],
        "dtype": out_io["dtype"],
        "device": device,
        "samples": len(samples),
        "failed_runs": sum(s.status != 0 for s in samples),
        "host_ms": _spread(seconds * 1e3),
        "device_ms": _spread(np.array([s.counter for s in samples]) / info.counter_hz * 1e3)
        if info.counter_hz
        else None,
        "counter": {"unit": info.counter_unit, **_spread(counts)},
        "macs": report["macs"],
        "counter_per_mac": float(counts.mean() / report["macs"]) if report["macs"] else None,
        "classifier": classifier,
        "metrics": [row.to_dict() for row in metrics.metric_rows(target, original, labels, classifier)],
        **about,
    }
    indices = metrics.label_indices(labels) if labels is not None else None
    if classifier and indices is not None:
        classes = int(np.prod(out_io["shape"]))
        r["confusion"] = metrics.confusion_matrix(indices, metrics.classes_of(target), classes).tolist()
    return r


def save(r: dict, path: Path) -> Path:
    Path(path).write_text(json.dumps(r, indent=1) + "\n")
    return Path(path)


# ---- text --------------------------------------------------------------------------------------


def format_report(r: dict) -> str:
    d = r["device"]
    cache = f"I-cache {'on' if d['icache'] else 'off'}, D-cache {'on' if d['dcache'] else 'off'}"
    lines = [
        f"{r['model']} ({r['dtype']}) on {d['board']}: {r['samples']} samples of {r.get('data', '?')}",
        f"  device         {d['core']} (CPUID {d['cpuid']}) at {d['clock_hz'] / 1e6:g} MHz, {cache}"
        + (", emulated (QEMU)" if d["emulated"] else ""),
    ]
    if d.get("note"):
        lines.append(f"  note           {d['note']}")
    lines.append(f"  port           {r.get('port')}")
    h, c = r["host_ms"], r["counter"]
    lines.append(f"  host time      {_ms(h)} per sample, all its round trips over the link")
    if r["device_ms"]:
        emulated = "; emulated time: 1 instruction = 1 ns" if d["emulated"] else ""
        lines.append(f"  device time    {_ms(r['device_ms'])} per inference{emulated}")
    lines.append(
        f"  {c['unit']:<14} {c['avg']:,.0f} per inference (min {c['min']:,.0f}, max {c['max']:,.0f})"
        + (f"; {r['counter_per_mac']:.2f} per MAC ({r['macs']:,} MACs)" if r["counter_per_mac"] else "")
    )
    if r["failed_runs"]:
        lines.append(f"  FAILED RUNS    {r['failed_runs']} samples where edgexf_run returned an error status")
    link = r.get("link")
    if link:
        lines.append(
            f"  link           {link['requests']:,} requests, {link['retries']} retries, {link['timeouts']} "
            f"timeouts, {link['bad_frames']} bad frames, {link['dropped_bytes']} stray bytes"
        )
    lines += ["", format_metrics(r["metrics"])]
    if r.get("original_note"):
        lines.append(f"  ({r['original_note']})")
    if r.get("confusion"):
        lines += ["", "confusion matrix (target vs labels; rows: label, columns: predicted)"]
        lines.append(format_confusion(r["confusion"]))
    return "\n".join(lines)


def format_metrics(rows: list[dict]) -> str:
    head = f"  {'':<20} {'acc':>8} {'rmse':>11} {'mae':>11} {'l2r':>11} {'cos':>11}"
    out = [head]
    for row in rows:
        acc = f"{row['acc']:.2%}" if row["acc"] is not None else "-"
        rest = " ".join(f"{row[k]:>11.4g}" if row[k] is not None else f"{'-':>11}" for k in metrics.NUMERIC)
        out.append(f"  {row['name']:<20} {acc:>8} {rest}")
    if not rows:
        out.append("  (no labels in the data and no original model: nothing to compare with)")
    return "\n".join(out)


def format_confusion(matrix: list[list[int]]) -> str:
    width = max(3, len(str(max(max(row) for row in matrix))) + 1)
    head = "      " + "".join(f"{j:>{width}}" for j in range(len(matrix)))
    rows = [f"  {i:>3} " + "".join(f"{v:>{width}}" for v in row) for i, row in enumerate(matrix)]
    return "\n".join([head, *rows])


def _spread(a: np.ndarray) -> dict:
    return {"avg": float(a.mean()), "min": float(a.min()), "max": float(a.max())}


def _ms(s: dict) -> str:
    return f"{s['avg']:.3f} ms (min {s['min']:.3f}, max {s['max']:.3f})"

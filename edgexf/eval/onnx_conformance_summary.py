"""The ONNX conformance run's results summed up: one row per op and a total (JSON lines for
benchmarks/onnx_conformance.py), and the table `python -m edgexf.eval.onnx_conformance` prints."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgexf.eval.onnx_conformance import CaseResult


def summary_rows(
    results: list[CaseResult], op_order: list[str], seconds: float | None = None, jobs: int | None = None
) -> list[dict]:
    """One dict per op (in op_order) and a last one, op "total": counts, the main refusals, the failing
    cases and the largest float error among passed cases."""
    rows = []
    ops = [o for o in op_order if any(r.op == o for r in results)]
    for op in [*ops, "total"]:
        rs = [r for r in results if op in ("total", r.op)]
        count = Counter(r.status for r in rs)
        errs = [r.max_abs_err for r in rs if r.status == "passed" and r.max_abs_err is not None]
        row = {
            "benchmark": "onnx_conformance",
            "op": op,
            "cases": len(rs),
            "passed": count["passed"],
            "failed": count["failed"],
            "unsupported": count["unsupported"],
            "cases_with_frozen_inputs": sum(bool(r.frozen) for r in rs),
            "max_abs_err_passed": max(errs) if errs else None,
            "unsupported_reasons": dict(
                Counter(_general(r.reason) for r in rs if r.status == "unsupported").most_common()
            ),
            "failed_cases": {r.name: r.reason for r in rs if r.status == "failed"},
        }
        if op == "total":
            row |= {"seconds": seconds, "jobs": jobs}
            row["unsupported_reasons"] = dict(list(row["unsupported_reasons"].items())[:10])
        rows.append(row)
    return rows


def _general(reason: str) -> str:
    """A refusal without its tensor and node names and its dtype, so that like refusals count together."""
    reason = re.sub(r"\s*\(node '[^']*'\)", "", reason)
    return re.sub(r"TensorProto\.\w+", "TensorProto.<type>", re.sub(r"'[^']*'", "'.'", reason))


def table(rows: list[dict]) -> str:
    lines = [f"{'op':<20}{'cases':>6}{'passed':>8}{'failed':>8}{'unsupp.':>8}  main reason unsupported"]
    for r in rows:
        reasons = r["unsupported_reasons"]
        reason = next(iter(reasons), "")[:90] + (f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else "")
        counts = f"{r['cases']:>6}{r['passed']:>8}{r['failed']:>8}{r['unsupported']:>8}"
        lines.append(f"{r['op']:<20}{counts}  {reason}")
    failed = rows[-1]["failed_cases"]
    if failed:
        lines.append("\nfailed cases:")
        lines += [f"  {name}: {why}" for name, why in failed.items()]
    return "\n".join(lines)

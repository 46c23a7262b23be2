"""Where accuracy goes: each integer layer's output against the float model's, on the calibration set.

For every op of the integer graph that computes (not q_requant copies, not data movement), its
dequantized output is compared with the float graph's tensor of the same name over the samples:
cosine similarity and RMSE (also relative to the float tensor's RMS). Errors compound: a layer's
figures include everything before it, which is what a user deciding where to spend int16 needs.
"""

from __future__ import annotations

import numpy as np

from edgexf.compress.calibrate import batches
from edgexf.compress.qmath import dequantize, quantize
from edgexf.ir.graph import Graph
from edgexf.ir.reference import run_reference

SKIP = ("q_requant", "reshape", "transpose", "slice", "concat")


def layer_errors(float_graph: Graph, int_graph: Graph, x: np.ndarray) -> list[dict]:
    """One row per integer layer, worst cosine first."""
    inp = int_graph.inputs[0]
    in_params = int_graph.tensors[inp].quant
    layers = [op for op in int_graph.ops if op.type not in SKIP and op.outputs[0] in float_graph.tensors]
    sums = {op.name: np.zeros(4) for op in layers}  # sum f*q, f*f, q*q, (f-q)^2
    count = {op.name: 0 for op in layers}
    for xb in batches(x):
        ref = run_reference(float_graph, {float_graph.inputs[0]: xb}, keep_all=True)
        xq = quantize(xb, in_params, int_graph.tensors[inp].dtype)
        got = run_reference(int_graph, {inp: xq}, keep_all=True)
        for op in layers:
            name = op.outputs[0]
            f = np.asarray(ref[name], np.float64).reshape(-1)
            q = dequantize(got[name], int_graph.tensors[name].quant).astype(np.float64).reshape(-1)
            sums[op.name] += [f @ q, f @ f, q @ q, np.sum((f - q) ** 2)]
            count[op.name] += f.size
    rows = []
    for op in layers:
        fq, ff, qq, ee = sums[op.name]
        n = count[op.name]
        rms = np.sqrt(ff / n)
        rows.append(
            {
                "layer": op.name,
                "op": op.type,
                "dtype": int_graph.tensors[op.outputs[0]].dtype,
                "cosine": float(fq / np.sqrt(ff * qq)) if ff > 0 and qq > 0 else float(ff == qq),
                "rmse": float(np.sqrt(ee / n)),
                "relative_rmse": float(np.sqrt(ee / n) / rms) if rms > 0 else 0.0,
                "source": op.source,
            }
        )
    rows.sort(key=lambda r: (r["cosine"], -r["relative_rmse"]))
    return rows


def format_layer_errors(rows: list[dict], limit: int | None = None) -> str:
    shown = rows if limit is None else rows[:limit]
    width = max([len(r["layer"]) for r in shown] + [5])
    lines = [f"  {'layer':<{width}}  {'op':<12} {'type':<6} {'cosine':>9} {'RMSE':>10} {'RMSE/RMS':>9}"]
    for r in shown:
        lines.append(
            f"  {r['layer']:<{width}}  {r['op']:<12} {r['dtype']:<6} {r['cosine']:>9.5f} "
            f"{r['rmse']:>10.4g} {r['relative_rmse']:>9.2%}"
        )
    if limit is not None and len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more (edgexf layers DIR shows all)")
    return "\n".join(lines)

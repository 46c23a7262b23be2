"""Calibration: run the float graph on sample inputs and record each activation's range.

Two methods: "minmax" (the observed extremes) and "percentile" (the p-th and (100-p)-th percentiles,
which ignore rare outliers so the common values get finer steps). The data set runs through the NumPy
reference in batches, so a large calibration set does not need every activation in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from edgexf.compress.fold_layernorm import normalized_name
from edgexf.errors import DataError
from edgexf.ir.graph import Graph
from edgexf.ir.kernels_ref import layernorm_f32
from edgexf.ir.reference import run_reference

METHODS = ("minmax", "percentile")
BATCH = 64
SAMPLES_PER_TENSOR = 1 << 20  # values kept per tensor for percentiles


@dataclass(frozen=True)
class Ranges:
    lo: dict[str, float]  # per activation tensor name
    hi: dict[str, float]
    method: str
    percentile: float | None
    samples: int

    def to_dict(self) -> dict:
        return {"method": self.method, "percentile": self.percentile, "samples": self.samples}


def batches(x: np.ndarray, size: int = BATCH) -> Iterator[np.ndarray]:
    for i in range(0, len(x), size):
        yield x[i : i + size]


def calibrate(
    graph: Graph, x: np.ndarray, method: str = "minmax", percentile: float = 99.99, progress: bool = True
) -> Ranges:
    """Ranges of every non-constant tensor of the float graph over the samples x (S, *input shape), and of
    each LayerNorm's normalized value before gamma and beta (normalized_name(y): the quantizer's fold)."""
    if method not in METHODS:
        raise DataError(f"calibration method {method!r}: choose one of {', '.join(METHODS)}")
    if method == "percentile" and not 50.0 < percentile <= 100.0:
        raise DataError(f"percentile must be in (50, 100], not {percentile}")
    if len(x) == 0:
        raise DataError("the calibration data set is empty")
    names = [t.name for t in graph.activations()]
    norms = {normalized_name(op.outputs[0]): op for op in graph.ops if op.type == "layernorm"}
    names += list(norms)
    lo = {n: np.inf for n in names}
    hi = {n: -np.inf for n in names}
    kept: dict[str, list[np.ndarray]] = {n: [] for n in names}
    n_batches = -(-len(x) // BATCH)
    rng = np.random.default_rng(0)
    for xb in tqdm(
        batches(x), total=n_batches, desc="calibrating", disable=None if progress else True, leave=False
    ):
        env = run_reference(graph, {graph.inputs[0]: xb}, keep_all=True)
        for n, op in norms.items():
            env[n] = layernorm_f32(env[op.inputs[0]], eps=op.attrs["eps"])
        for n in names:
            v = np.asarray(env[n], np.float32).reshape(-1)
            lo[n], hi[n] = min(lo[n], float(v.min())), max(hi[n], float(v.max()))
            if method == "percentile":
                cap = max(1, SAMPLES_PER_TENSOR // n_batches)
                kept[n].append(v if v.size <= cap else rng.choice(v, cap, replace=False))
    if method == "percentile":
        for n in names:
            v = np.concatenate(kept[n])
            lo[n], hi[n] = float(np.percentile(v, 100.0 - percentile)), float(np.percentile(v, percentile))
    return Ranges(lo, hi, method, percentile if method == "percentile" else None, len(x))

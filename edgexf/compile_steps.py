"""The compression steps of `edgexf compile`: --quantize and --lowrank, each the changed graph and
its entry in report.json ("quantization", "lowrank"), measured on the data the user gave."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgexf.compress.agreement import agreement
from edgexf.compress.calibrate import calibrate
from edgexf.compress.layer_errors import layer_errors
from edgexf.compress.quantize import quantize_graph
from edgexf.datasets import as_samples, load_npz
from edgexf.ir.graph import Graph
from edgexf.passes.lowrank_linear import lowrank_linear

# calibration samples the per-layer error report runs: each layer's cosine and RMSE are over every
# element of every sample (64 MNIST images: 204,800 values a layer), steady to about three digits, and
# the report took a third of an int8 compile at 256
LAYER_ERROR_SAMPLES = 64
LOWRANK_SAMPLES = 256  # samples --lowrank's cost (agreement with the model as given) is measured on


@dataclass(frozen=True)
class QuantOptions:
    """--quantize int8 and its settings (see edgexf/compress/)."""

    calibration: Path  # .npz with x
    method: str = "minmax"  # or "percentile"
    percentile: float = 99.99
    int16: tuple[str, ...] = field(default_factory=tuple)  # "residual" or tensor-name globs
    dtype: str = "int8"
    # a recurrent model's state and the add that updates it: int16 halves the LMU's int8 error on the
    # state and costs only the state's bytes (README "Recurrent models"); "int8" for the smallest state
    state_dtype: str = "int16"


def quantize_step(g: Graph, quant: QuantOptions, log: Callable[[str], None]) -> tuple[Graph, dict]:
    """The integer graph, and report.json's "quantization" entry (with the per-layer errors)."""
    x, _ = load_npz(quant.calibration)
    x = as_samples(x, g.io_shape(g.inputs[0]), f"{quant.calibration} (array x)")
    if g.is_streaming and quant.method == "minmax":
        log(
            "  note: for recurrent models --calibration-method percentile measured better (Mamba, MNIST "
            "rows: 90.5% min/max, 96.0% percentile, 96.8% with --int16 residual too; float 97.5%)"
        )
    ranges = calibrate(g, x, quant.method, quant.percentile)  # a recurrent graph: over every step
    state16 = ("state",) if g.is_streaming and quant.state_dtype == "int16" else ()
    q = quantize_graph(g, ranges, (*quant.int16, *state16))
    for name, why in sorted(q.int16_refused.items()):
        log(f"  note: {name} stays int8: {why}")
    layers = layer_errors(g, q.graph, x[:LAYER_ERROR_SAMPLES])
    tensors = q.graph.tensors
    report = {
        "dtype": quant.dtype,
        "weights": "int8, symmetric, per output channel; biases int32",
        "activations": "int8 per tensor, asymmetric (zero point); int16 symmetric where chosen",
        "requantization": "round(acc * mult / 2^shift), ties toward +inf, int64 intermediate",
        "calibration": {"file": str(quant.calibration), **ranges.to_dict()},
        "int16_patterns": [*quant.int16, *state16],
        "int16_tensors": q.int16,
        "int16_refused": q.int16_refused,
        "input": tensors[q.graph.inputs[0]].quant.to_dict(),
        "output": tensors[q.graph.outputs[0]].quant.to_dict(),
        "layer_error_samples": min(len(x), LAYER_ERROR_SAMPLES),
        "layers": layers,
    }
    return q.graph, report


def lowrank_step(
    g: Graph, fraction: float, data: Path | None, log: Callable[[str], None]
) -> tuple[Graph, dict]:
    """--lowrank: the linear layers factorized to `fraction` of their weights (no retraining), and what
    it costs, measured on `data` (the calibration set, else the test data) against the graph as it was."""
    changed, plan = lowrank_linear(g, budget_fraction=fraction)
    entry = plan.to_dict() | {"agreement": None}
    log(
        f"  low-rank: {len(plan.factorized())} of {len(plan.layers)} linear layers factorized, weights "
        f"{plan.params_before:,} -> {plan.params_after:,}"
    )
    if data is None:
        log("  note: no --calibration or --test-data, so what the decomposition costs is not measured")
        return changed, entry
    x, y = load_npz(data)
    x = as_samples(x, g.io_shape(g.inputs[0]), f"{data} (array x)")[:LOWRANK_SAMPLES]
    cost = agreement(g, changed, x, None if y is None else y[: len(x)], progress=False)
    log(f"  low-rank against the model as given ({data}): {cost.describe()}")
    entry["agreement"] = cost.to_dict() | {"data": str(data)}
    return changed, entry

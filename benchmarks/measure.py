"""Shared by the benchmark scripts: compile one model for a board, run it in QEMU over its test set,
and return the figures as one JSON-able dict."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build


def measure(
    benchmark: str,
    model: str | Path,
    test_data: Path,
    out: Path,
    board: str,
    quant: QuantOptions | None = None,
) -> dict:
    report = compile_model(
        model, board, out, test_data=test_data, quant=quant, log=lambda s: print(s, file=sys.stderr)
    )
    run = run_build(out, emulate=True, check=True)
    instructions = int(np.median(run.result.instructions))
    a = run.agreement
    return {
        "benchmark": benchmark,
        "board": board,
        "model": str(model),
        "dtype": quant.dtype if quant else "float32",
        "params": report["params"],
        "macs": report["macs"],
        "arena_bytes": report["arena_bytes"],
        "arena_lower_bound_bytes": report["arena_lower_bound_bytes"],
        "activations_sum_bytes": report["activations_sum_bytes"],
        "weights_bytes": report["weights_bytes"],
        "flash_bytes": report["flash_bytes"],
        "ram_bytes": report["ram_bytes"],
        "instructions_per_inference": instructions,
        "macs_per_instruction": round(report["macs"] / instructions, 4),
        "samples": a.samples,
        "qemu_accuracy": a.accuracy,
        "pytorch_accuracy": a.original_accuracy,
        "same_class_as_pytorch": a.same_class_as_original,
        "bit_exact_with_reference": a.bit_exact_with_reference,
        "max_rel_err_vs_pytorch": a.max_rel_err_vs_original,
        "compile_seconds": report["compile_seconds"],
    }

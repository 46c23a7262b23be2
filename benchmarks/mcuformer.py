"""MCUFormer's F746 configuration (examples/mcuformer.py) on the STM32F746G-DISCO, int8: one JSON line per
build with the arena (the 172,800 B input image included), SRAM, internal and QSPI flash, instructions per
inference in QEMU and whether every output is bit-exact with the reference, and compile time.

    .venv/bin/python benchmarks/mcuformer.py                       # dense, and the low-rank sweep
    .venv/bin/python benchmarks/mcuformer.py --lowrank none        # dense only (about 6 minutes)
    .venv/bin/python benchmarks/mcuformer.py --model small         # the suite's scaled-down model
    .venv/bin/python benchmarks/mcuformer.py --dsp-weights int8    # compile's --dsp-weights (default auto)

Random weights (no ImageNet here): accuracy is not measured. Each full-size compile takes minutes on 2
cores (calibration runs the NumPy reference over 145 tokens); each QEMU inference about 1.4G instructions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import numpy as np

from edgexf.errors import EdgexfError
from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mcuformer.py"
BOARD = "stm32f746g-disco"


def _example():
    spec = spec_from_file_location("mcuformer_example", EXAMPLE)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one(
    model: str, lowrank: float | None, work: Path, calib: Path, test: Path, dsp_weights: str = "auto"
) -> dict:
    line = {"benchmark": "mcuformer", "model": f"examples/mcuformer.py:{model}", "board": BOARD}
    line |= {"dtype": "int8", "lowrank": lowrank, "dsp_weights": dsp_weights}
    t0 = time.perf_counter()
    try:
        r = compile_model(
            f"{EXAMPLE}:{model}", BOARD, work / f"build_{lowrank}", test_data=test, quant=QuantOptions(calib),
            lowrank=lowrank, dsp_weights=dsp_weights, log=lambda s: print(s, file=sys.stderr),
        )  # fmt: skip
    except EdgexfError as e:  # a rank that does not quantize or fit is a result too
        return line | {"error": f"{type(e).__name__}: {str(e).splitlines()[0]}", "exit_code": e.exit_code}
    compile_s = time.perf_counter() - t0
    run = run_build(work / f"build_{lowrank}", emulate=True, check=True, timeout=3600)
    instructions = int(np.median(run.result.instructions))
    tiers = {t["name"]: t["used_bytes"] for t in r["memory_tiers"]}
    return line | {
        "params": r["params"],
        "macs": r["macs"],
        "arena_bytes": r["arena_bytes"],
        "arena_lower_bound_bytes": r["arena_lower_bound_bytes"],
        "input_bytes": r["inputs"][0]["bytes"],
        "ram_bytes": r["ram_bytes"],
        "ram_capacity_bytes": r["ram_capacity_bytes"],
        "internal_flash_bytes": tiers["flash"],
        "qspi_flash_bytes": tiers.get("qspi", 0),
        "weights_bytes": r["weights_bytes"],
        "weights_widened": r["kernels"]["dsp_weights"] == "int16",
        "dsp_weights_reason": r["kernels"]["dsp_weights_reason"],
        "instructions_per_inference": instructions,
        "macs_per_instruction": round(r["macs"] / instructions, 4),
        "samples": run.agreement.samples,
        "bit_exact_with_reference": run.agreement.bit_exact_with_reference,
        "cosine_vs_float": round(run.agreement.cosine, 5),
        "compile_seconds": round(compile_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("full", "small"), default="full")
    parser.add_argument("--lowrank", default="none,0.5,0.25,0.12,0.05", help="'none' is the dense model")
    parser.add_argument("--calibration-samples", type=int, default=16)
    parser.add_argument("--test-samples", type=int, default=2)
    parser.add_argument("--dsp-weights", choices=("auto", "int8", "int16"), default="auto")
    args = parser.parse_args()
    example = _example()
    cfg = example.FULL if args.model == "full" else example.SMALL
    with tempfile.TemporaryDirectory(prefix="edgexf-mcuformer-") as tmp:
        work = Path(tmp)
        calib, test = example.write_data(work, cfg, args.calibration_samples, args.test_samples)
        for text in args.lowrank.split(","):
            lowrank = None if text == "none" else float(text)
            print(json.dumps(one(args.model, lowrank, work, calib, test, args.dsp_weights)), flush=True)


if __name__ == "__main__":
    main()

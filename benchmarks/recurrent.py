"""The recurrent example models (LMU and Mamba, float32) on stm32f746 under QEMU: one JSON line each.

    python benchmarks/recurrent.py [--out DIR] [--models lmu_smnist,mamba_smnist,kws_lmu,kws_mamba]
                                   [--samples N] [--no-int8]

Each bundled model is compiled with its test set (examples/*.py --write-data), run in QEMU on the
first N test sequences (`edgexf run --emulate --check`: every output bit-exact with the IR reference,
within 1e-4 of PyTorch), and profiled per op on one sequence. A line gives the persistent state
(bytes, apart from the arena), the arena, flash and RAM, steps per sequence, MACs and instructions per
step and per sequence, accuracy in QEMU and in PyTorch on those N sequences, the three most expensive
op types, and the compile time. Each model is measured in int8 too, calibrated on the example's
calibration set: the state int16 (the default), and for the LMUs int8 as well; Mamba with percentile
ranges, and on MNIST int16 residuals. QEMU counts instructions, not cycles
(README, "Counting instructions"). About 1 minute per build for the default 200 sequences.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build
from edgexf.run.profile import profile_build

ROOT = Path(__file__).resolve().parents[1]
BOARD = "stm32f746"
# name -> (example file, builder, the data set's name (its --write-data writes NAME_{test,calib}.npz))
MODELS = {
    "lmu_smnist": ("smnist.py", "bundled", "smnist"),
    "mamba_smnist": ("smnist.py", "bundled_mamba", "smnist"),
    "kws_lmu": ("kws_fsdd.py", "bundled", "kws_fsdd"),
    "kws_mamba": ("kws_fsdd.py", "bundled_mamba", "kws_fsdd"),
}
# int8 builds: name -> QuantOptions settings besides the state dtype (Mamba needs percentile ranges, and
# on MNIST int16 residuals, to stay within a point of float)
INT8 = {
    "lmu_smnist": {},
    "kws_lmu": {},
    "mamba_smnist": {"method": "percentile", "int16": ("residual",)},
    "kws_mamba": {"method": "percentile"},
}


def measure(name: str, work: Path, samples: int, state_dtype: str | None = None) -> dict:
    """One build: float32 (state_dtype None) or int8 with the state in state_dtype."""
    file, builder, data_set = MODELS[name]
    example = ROOT / "examples" / file
    data = work / "data"
    if not (data / f"{data_set}_test.npz").exists():
        cmd = [sys.executable, str(example), "--write-data", str(data)]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    out = work / (name if state_dtype is None else f"{name}_int8_{state_dtype}")
    calib = data / f"{data_set}_calib.npz"
    quant = QuantOptions(calib, state_dtype=state_dtype, **INT8[name]) if state_dtype else None
    report = compile_model(
        f"{example}:{builder}", BOARD, out, test_data=data / f"{data_set}_test.npz", max_vectors=samples,
        quant=quant, log=lambda s: print(s, file=sys.stderr),
    )  # fmt: skip
    run = run_build(out, emulate=True, check=True)
    profile = profile_build(out, emulate=True, inputs=None)
    instructions = int(np.median(run.result.instructions))
    st, a = report["streaming"], run.agreement
    steps = st["steps"]
    top = sorted(profile.by_type(), key=lambda r: -r["instructions"])[:3]
    return {
        "benchmark": "recurrent",
        "board": BOARD,
        "model": name,
        "source": f"examples/{file}:{builder}",
        "dtype": "int8" if state_dtype else "float32",
        "quantization": {"state_dtype": state_dtype, **INT8[name]} if state_dtype else None,
        "params": report["params"],
        "steps": steps,
        "state_bytes": st["state_bytes"],
        "states": [{"name": s["name"], "shape": s["shape"]} for s in st["states"]],
        "arena_bytes": report["arena_bytes"],
        "weights_bytes": report["weights_bytes"],
        "flash_bytes": report["flash_bytes"],
        "ram_bytes": report["ram_bytes"],
        "sequence_input_bytes": st["sequence_input_bytes"],
        "macs_per_step": st["macs_per_step"],
        "macs_per_sequence": report["macs"],
        "instructions_per_sequence": instructions,
        "instructions_per_step": round(instructions / steps),
        "macs_per_instruction": round(report["macs"] / instructions, 4),
        "top_op_types": [
            {"type": r["type"], "share": round(r["share"], 3), "instructions": r["instructions"]} for r in top
        ],
        "samples": a.samples,
        "qemu_accuracy": a.accuracy,
        "pytorch_accuracy": a.original_accuracy,
        "bit_exact_with_reference": a.bit_exact_with_reference,
        "max_rel_err_vs_pytorch": a.max_rel_err_vs_original,
        "compile_seconds": report["compile_seconds"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="keep the builds here (default: a temporary directory)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--samples", type=int, default=200, help="test sequences run in QEMU per model")
    ap.add_argument("--no-int8", action="store_true", help="float32 builds only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.models.split(","):
            if name not in MODELS:
                raise SystemExit(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
            print(json.dumps(measure(name, work, args.samples)), flush=True)
            for state_dtype in () if args.no_int8 else ("int16", "int8") if "lmu" in name else ("int16",):
                print(json.dumps(measure(name, work, args.samples, state_dtype)), flush=True)


if __name__ == "__main__":
    main()

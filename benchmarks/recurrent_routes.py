"""One trained recurrent model by each route into edgexf, on stm32f746 in QEMU: a JSON line per route, dtype.

    python benchmarks/recurrent_routes.py [--out DIR] [--models mamba_smnist,lmu_smnist] [--samples N]

Routes, for the same weights (examples/smnist.py's bundled Mamba and LMU, MNIST rows, 28 steps):
  pytorch        FILE.py:FUNCTION: the module's step() and init_state(), streaming
  onnx_step      step() exported by torch.onnx.export (the state as inputs and outputs), streaming
  onnx_sequence  forward() exported whole: compiled as one graph over all 28 steps, unrolled (the LMU's
                 forward, an FFT convolution, does not export: its line says so)
Each in float32 and int8 (calibrated on the example's calibration set; Mamba with percentile ranges). A
line gives the arena, the persistent state, weights, flash, instructions per sequence and per step
(QEMU, `edgexf run --emulate --check` on the first N test sequences: every output bit-exact with the IR
reference), the accuracy there and of the source model. Instructions, not cycles (README, "Counting
instructions"). About half a minute per build.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from edgexf.frontends.streaming import StepModule
from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "smnist.py"
BOARD = "stm32f746"
MODELS = {"mamba_smnist": "bundled_mamba", "lmu_smnist": "bundled"}
INT8 = {"mamba_smnist": {"method": "percentile"}, "lmu_smnist": {}}


def _module(builder: str):
    spec = importlib.util.spec_from_file_location("smnist_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, builder)()


def export(name: str, route: str, work: Path) -> str:
    """The model as the route gives it to edgexf: FILE.py:FUNCTION or an .onnx file written here."""
    if route == "pytorch":
        return f"{EXAMPLE}:{MODELS[name]}"
    module, example = _module(MODELS[name])
    path = work / f"{name}_{route}.onnx"
    if route == "onnx_step":
        state = module.init_state()
        args, model = (example[:, 0], *state), StepModule(module.eval())
    else:
        args, model = (example,), module.eval()
    torch.onnx.export(model, args, str(path), dynamo=False, opset_version=17)
    return str(path)


def measure(name: str, route: str, work: Path, samples: int, int8: bool) -> dict:
    data = work / "data"
    if not (data / "smnist_test.npz").exists():
        cmd = [sys.executable, str(EXAMPLE), "--write-data", str(data)]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    line = {"benchmark": "recurrent_routes", "board": BOARD, "model": name, "route": route}
    line["dtype"] = "int8" if int8 else "float32"
    try:
        spec = export(name, route, work)
    except Exception as e:  # an exporter's refusal is a result too
        return line | {"error": f"export failed: {type(e).__name__}: {str(e).splitlines()[0]}"}
    out = work / f"{name}_{route}_{line['dtype']}"
    quant = QuantOptions(data / "smnist_calib.npz", **INT8[name]) if int8 else None
    report = compile_model(
        spec, BOARD, out, test_data=data / "smnist_test.npz", max_vectors=samples, quant=quant,
        log=lambda s: print(s, file=sys.stderr),
    )  # fmt: skip
    run = run_build(out, emulate=True, check=True)
    per_sequence = int(np.median(run.result.instructions))
    st, a = report["streaming"], run.agreement
    steps = st["steps"] if st else report["inputs"][0]["shape"][1]
    return line | {
        "streaming": st is not None,
        "unrolled": report["unrolled"] is not None,
        "ops": len(report["ops"]),
        "arena_bytes": report["arena_bytes"],
        "state_bytes": st["state_bytes"] if st else 0,
        "weights_bytes": report["weights_bytes"],
        "flash_bytes": report["flash_bytes"],
        "ram_bytes": report["ram_bytes"],
        "steps": steps,
        "instructions_per_sequence": per_sequence,
        "instructions_per_step": round(per_sequence / steps),
        "samples": a.samples,
        "qemu_accuracy": a.accuracy,
        "source_accuracy": a.original_accuracy,
        "bit_exact_with_reference": a.bit_exact_with_reference,
        "max_rel_err_vs_source": None if int8 else a.max_rel_err_vs_original,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="keep the builds here (default: a temporary directory)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--samples", type=int, default=100, help="test sequences run in QEMU per build")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.models.split(","):
            for route in ("pytorch", "onnx_step", "onnx_sequence"):
                for int8 in (False, True):
                    print(json.dumps(measure(name, route, work, args.samples, int8)), flush=True)


if __name__ == "__main__":
    main()

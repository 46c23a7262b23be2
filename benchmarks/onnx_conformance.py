"""ONNX import, measured: the ONNX backend node tests through edgexf, and timm's ViT in QEMU.

    python benchmarks/onnx_conformance.py [--ops Add,Mul,...] [--jobs N] [--no-timm] [--out DIR]

One JSON line per ONNX op (cases passed / failed / unsupported, the main refusals; see
edgexf/eval/onnx_conformance.py) and a total line with the run's seconds. Then, unless --no-timm,
one line per build of timm's VisionTransformer (tests/data/timm_vit.py, opset 17, needs timm) for
stm32f746, float32 and int8: its largest difference from onnxruntime on 16 random inputs in QEMU
(absolute, and relative to each sample's largest logit), the predicted class agreeing, arena, flash
and instructions per inference from QEMU. About 1 minute in all on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgexf.eval.onnx_conformance import DEFAULT_JOBS, run_conformance, summarize
from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build
from edgexf.run.vectors import decode_outputs

ROOT = Path(__file__).resolve().parents[1]


def timm_vit_lines(work: Path, board: str = "stm32f746", samples: int = 16) -> list[dict]:
    import onnxruntime as ort

    sys.path.insert(0, str(ROOT / "tests" / "data"))
    import timm_vit

    model = timm_vit.export(work / "timm_vit.onnx", opset=17)
    rng = np.random.default_rng(1)
    shape = (timm_vit.CHANNELS, timm_vit.IMG, timm_vit.IMG)
    x = rng.standard_normal((samples, *shape), dtype=np.float32)
    np.savez(work / "test.npz", x=x)
    np.savez(work / "calib.npz", x=rng.standard_normal((64, *shape), dtype=np.float32))
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    expected = np.concatenate([session.run(None, {"x": s[None]})[0] for s in x])
    lines = []
    for quant in (None, QuantOptions(work / "calib.npz")):
        out = work / ("build_int8" if quant else "build_float32")
        log = lambda s: print(s, file=sys.stderr)  # noqa: E731
        report = compile_model(model, board, out, test_data=work / "test.npz", quant=quant, log=log)
        run = run_build(out, emulate=True, check=True)
        y = run.outputs.reshape(samples, -1)
        y = decode_outputs(y, report["outputs"][0]) if quant else y.astype(np.float64)
        err = np.abs(y - expected).max(axis=1)
        lines.append(
            {
                "benchmark": "onnx_timm_vit",
                "board": board,
                "dtype": quant.dtype if quant else "float32",
                "params": report["params"],
                "samples": samples,
                "max_abs_err_vs_onnxruntime": float(err.max()),
                "max_rel_err_vs_onnxruntime": float((err / np.abs(expected).max(axis=1)).max()),
                "correlation_with_onnxruntime": float(np.corrcoef(y.ravel(), expected.ravel())[0, 1]),
                "same_class_as_onnxruntime": int((y.argmax(1) == expected.argmax(1)).sum()),
                "bit_exact_with_reference": run.agreement.bit_exact_with_reference,
                "arena_bytes": report["arena_bytes"],
                "weights_bytes": report["weights_bytes"],
                "flash_bytes": report["flash_bytes"],
                "ram_bytes": report["ram_bytes"],
                "instructions_per_inference": int(np.median(run.result.instructions)),
            }
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", help="comma-separated ONNX op types (default: all the conformance ops)")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    p.add_argument("--no-timm", action="store_true", help="only the node tests")
    p.add_argument("--out", type=Path, help="work directory for the timm builds (default: a temporary one)")
    args = p.parse_args()
    t0 = time.perf_counter()
    results = run_conformance(args.ops.split(",") if args.ops else None, args.jobs, progress=False)
    for row in summarize(results, round(time.perf_counter() - t0, 1), args.jobs):
        print(json.dumps(row), flush=True)
    if not args.no_timm:
        work = args.out or Path(tempfile.mkdtemp(prefix="edgexf_bench_timm_"))
        work.mkdir(parents=True, exist_ok=True)
        for line in timm_vit_lines(work):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

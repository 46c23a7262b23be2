"""Instructions per inference (QEMU icount, deterministic) of the example models, portable against
DSP-extension kernels: one JSON line per (model, dtype, kernels), then one per linear-kernel shape.

    python benchmarks/latency.py [--out DIR] [--models mnist,large,lmu_smnist,...] [--no-kernel-check]

mnist: the bundled examples/vit_mnist.py:bundled (float32 and int8, calibrated on 500 training
images). int8 is built three ways: portable kernels; DSP kernels with int8 weights (--dsp-weights
int8, "dsp-int8w"); DSP kernels as compile picks by default (--dsp-weights auto: int16 where it fits).
large: examples/vit_mnist.py:large (int8, untrained, calibrated on the same images).
mnist_unfused: the bundled ViT built with --no-fusion (float32, int8 portable and dsp), so its linear
layers, batch matmuls (q_matmul: the attention of an import that is not fused) and patch conv (q_conv2d)
run as separate ops: what exf_matmul_s8_dsp, exf_conv2d_s8_dsp and the float32 kernels do alone.
tflite_digits, tflite_digits_unfused: an imported ViT, tests/data/tflite/vit_digits_int8.tflite (the
digits ViT converted by litert-torch and quantized by ai-edge-quantizer: int8 by the file's own scales),
portable and dsp kernels, fused as compile does by default or --no-fusion (op by op, as the file
writes it: its patch embedding a DEPTHWISE_CONV_2D, q_conv2d here, the shape issue 23 compares with
CMSIS-NN's 35,840 instructions).
lmu_smnist, mamba_smnist, kws_lmu, kws_mamba: the recurrent examples (benchmarks/recurrent.py's
builds: float32, and int8 with their quantization settings); an inference is one whole sequence, and
the line gives instructions per step too. Each
build is profiled per op on one test image (`edgexf run DIR --emulate --profile`), and each line
gives instructions, MACs and MACs per instruction for the whole model, for its int8 linear layers
(q_linear, q_ln_linear, q_token_mlp: the fused ones include their LayerNorm, activation and
residual add) and per op type, plus the compile time. The kernel-check lines time each fast kernel
against its portable twin on the example shapes (firmware/app/kernel_check.c). About 4 minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgexf.pipeline import MemoryOptions, QuantOptions, compile_model
from edgexf.run import kernel_check
from edgexf.run.profile import profile_build
from edgexf.targets.boards import load_board

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from recurrent import INT8 as RECURRENT_INT8  # noqa: E402  (benchmarks/recurrent.py: one list of builds)
from recurrent import MODELS as RECURRENT  # noqa: E402

BOARD = "stm32f746"
TFLITE = ROOT / "tests" / "data" / "tflite"
TFLITE_MODELS = ("tflite_digits", "tflite_digits_unfused")
INT8_KERNELS = (("int8", "portable"), ("int8", "dsp-int8w"), ("int8", "dsp"))
LINEAR_TYPES = ("q_linear", "q_ln_linear", "q_token_mlp", "linear", "ln_linear", "token_mlp")


def build(
    model: str,
    dtype: str,
    kernels: str,
    work: Path,
    data: Path,
    data_set: str = "vit_mnist",
    quant_kw=None,
    fusion: bool = True,
) -> tuple[dict, Path]:
    """kernels: portable, dsp (compile's default --dsp-weights auto) or dsp-int8w (--dsp-weights int8)."""
    out = work / f"{model.split(':')[-1]}_{dtype}_{kernels}{'' if fusion else '_unfused'}"
    quant = QuantOptions(data / f"{data_set}_calib.npz", **(quant_kw or {})) if dtype == "int8" else None
    kernel_set, weights = ("dsp", "int8") if kernels == "dsp-int8w" else (kernels, "auto")
    report = compile_model(
        model, BOARD, out, test_data=data / f"{data_set}_test.npz", max_vectors=4, quant=quant,
        memory=MemoryOptions(exact_time_s=1.0, fusion=fusion), kernels=kernel_set, dsp_weights=weights,
        log=lambda s: print(s, file=sys.stderr),
    )  # fmt: skip
    return report, out


def tflite_builds(name: str, work: Path) -> list[tuple[str, str, dict, Path]]:
    """The digits ViT as an int8 .tflite, portable and dsp kernels (int8 by the file's own parameters)."""
    data = np.load(TFLITE / "vit_digits_data.npz")
    test = work / "tflite_digits_test.npz"
    np.savez(test, x=data["x_test"], y=data["y_test"])
    fusion = name == "tflite_digits"
    rows = []
    for kernels in ("portable", "dsp"):
        out = work / f"{name}_{kernels}"
        report = compile_model(
            str(TFLITE / "vit_digits_int8.tflite"), BOARD, out, test_data=test, max_vectors=4,
            memory=MemoryOptions(exact_time_s=1.0, fusion=fusion), kernels=kernels,
            log=lambda s: print(s, file=sys.stderr),
        )  # fmt: skip
        rows.append(("int8", kernels, report, out))
    return rows


def recurrent_builds(name: str, work: Path) -> list[tuple[str, str, dict, Path]]:
    """A recurrent example (benchmarks/recurrent.py's MODELS and INT8 settings): float32, int8 both ways."""
    file, builder, data_set = RECURRENT[name]
    example = ROOT / "examples" / file
    if not (work / f"{data_set}_test.npz").exists():
        cmd = [sys.executable, str(example), "--write-data", str(work)]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    model = f"{example}:{builder}"
    return [
        (dtype, kernels, *build(model, dtype, kernels, work, work, data_set, RECURRENT_INT8[name]))
        for dtype, kernels in (("float32", "portable"), *INT8_KERNELS)
    ]


def line(name: str, dtype: str, kernels: str, report: dict, out: Path) -> dict:
    profile = profile_build(out, emulate=True, inputs=None)
    total = sum(op.instructions for op in profile.ops)
    lin = [op for op in profile.ops if op.type in LINEAR_TYPES]
    lin_instr, lin_macs = sum(op.instructions for op in lin), sum(op.macs for op in lin)
    return {
        "benchmark": "latency",
        "board": BOARD,
        "model": name,
        "dtype": dtype,
        "kernels": report["kernels"]["used"],
        "dsp_weights": report["kernels"]["dsp_weights"] if report["kernels"]["used"] == "dsp" else None,
        "macs": report["macs"],
        "instructions_per_inference": total,
        "macs_per_instruction": round(report["macs"] / total, 4),
        "linear_layers": {
            "instructions": lin_instr,
            "macs": lin_macs,
            "macs_per_instruction": round(lin_macs / lin_instr, 4) if lin_instr else None,
        },
        "by_type": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in profile.by_type()
        ],
        "arena_bytes": report["arena_bytes"],
        "flash_bytes": report["flash_bytes"],
        "compile_seconds": report["compile_seconds"],
    } | _per_step(report, total)


def _per_step(report: dict, total: int) -> dict:
    st = report.get("streaming")
    if not st:
        return {}
    return {"steps": st["steps"], "instructions_per_step": round(total / st["steps"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="keep the builds here (default: a temporary directory)")
    ap.add_argument("--models", default="mnist,large")
    ap.add_argument("--no-kernel-check", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        example = ROOT / "examples" / "vit_mnist.py"
        subprocess.run(
            [sys.executable, str(example), "--write-data", str(work)], check=True, stdout=sys.stderr
        )
        builds = {
            "mnist": [("float32", "portable"), *INT8_KERNELS],
            "large": INT8_KERNELS,
            "mnist_unfused": [("float32", "portable"), ("int8", "portable"), ("int8", "dsp")],
        }
        known = [*builds, *TFLITE_MODELS, *RECURRENT]
        unknown = set(args.models.split(",")) - set(known)
        if unknown:
            ap.error(f"unknown model(s) {', '.join(sorted(unknown))}: {', '.join(known)}")
        for name in args.models.split(","):
            if name in RECURRENT or name in TFLITE_MODELS:
                made = recurrent_builds(name, work) if name in RECURRENT else tflite_builds(name, work)
                for dtype, kernels, report, out in made:
                    print(json.dumps(line(name, dtype, kernels, report, out)), flush=True)
                continue
            for dtype, kernels in builds[name]:
                model = f"{example}:{'large' if name == 'large' else 'bundled'}"
                report, out = build(model, dtype, kernels, work, work, fusion=name != "mnist_unfused")
                print(json.dumps(line(name, dtype, kernels, report, out)), flush=True)
    if not args.no_kernel_check:
        for t in kernel_check.run(load_board(BOARD)):
            row = {
                "benchmark": "latency_kernel",
                "board": BOARD,
                "kernel": t.kernel,
                "rows": t.rows,
                "k": t.k,
            }
            row |= {"m": t.m, "macs": t.macs, "portable_instructions": t.portable, "dsp_instructions": t.fast}
            row |= {
                "speedup": round(t.portable / t.fast, 3),
                "dsp_macs_per_instruction": round(t.macs / t.fast, 4),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

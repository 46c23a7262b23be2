"""The same ViTs through each import route: one JSON line per model x route x dtype, with the fused ops,
arena, flash and instructions per inference in QEMU (stm32f746), and the ratio to the PyTorch route.

    .venv/bin/python benchmarks/imports.py                 # timm and HuggingFace ViTs, float32 and int8
    .venv/bin/python benchmarks/imports.py --models timm --dtypes int8
    .venv/bin/python benchmarks/imports.py --models vit_mnist --mnist-tflite DIR   # see add_mnist_routes

Models (third-party code, random weights from a fixed seed, 64x64 RGB, patch 8, D 64, 3 blocks, 4 heads):
- timm: timm's VisionTransformer (MLP ratio 4), routes: pytorch (this file's timm_vit() as FILE.py:FUNCTION),
  onnx13 and onnx17 (TorchScript exporter), onnx_dynamo (torch 2.13's default exporter)
- hf: transformers' ViTForImageClassification (intermediate 256), routes: pytorch, onnx17_eager and
  onnx17_sdpa (TorchScript exporter), onnx_dynamo_eager and onnx_dynamo_sdpa
A route that does not compile is a line with its error. int8: calibrated on 32 random images; every line
says whether QEMU's outputs are bit-exact with the reference (int8) and the host check's result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data"))

import hf_vit  # noqa: E402
import timm_vit  # noqa: E402

from edgexf.errors import EdgexfError  # noqa: E402
from edgexf.pipeline import QuantOptions, compile_model  # noqa: E402
from edgexf.run.build_dir import run_build  # noqa: E402

BOARD = "stm32f746"
TIMM = dict(img_size=64, patch_size=8, embed_dim=64, depth=3, num_heads=4, mlp_ratio=4.0)
HF = dict(image_size=64, patch_size=8, hidden_size=64, num_hidden_layers=3, num_attention_heads=4)
HF |= dict(intermediate_size=256)
DIGITS = dict(image_size=8, patch_size=2, in_channels=1, num_classes=10, embed_dim=32, depth=2, num_heads=2)
DIGITS |= dict(mlp_ratio=2.0)  # tests/data/tflite/make_tflite.py's CONFIG
TFLITE = REPO / "tests" / "data" / "tflite"


def timm_vit_64():
    """FILE.py:FUNCTION for the PyTorch route."""
    return timm_vit.build(**TIMM)


def hf_vit_64():
    return hf_vit.build("eager", **HF)


def vit_digits():
    """edgexf's own ViT in the configuration of tests/data/tflite/vit_digits_*.tflite (random weights:
    instruction counts and arenas do not depend on them)."""
    import torch

    from edgexf.models.vit import ViT, ViTConfig

    torch.manual_seed(0)
    return ViT(ViTConfig(**DIGITS)).eval(), torch.zeros(1, 1, 8, 8)


ROUTES = {
    "timm": {
        "pytorch": lambda p: f"{__file__}:timm_vit_64",
        "onnx13": lambda p: timm_vit.export(p, 13, **TIMM),
        "onnx17": lambda p: timm_vit.export(p, 17, **TIMM),
        "onnx_dynamo": lambda p: timm_vit.export(p, dynamo=True, **TIMM),
    },
    "hf": {
        "pytorch": lambda p: f"{__file__}:hf_vit_64",
        "onnx17_eager": lambda p: hf_vit.export(p, "eager", **HF),
        "onnx17_sdpa": lambda p: hf_vit.export(p, "sdpa", **HF),
        "onnx_dynamo_eager": lambda p: hf_vit.export(p, "eager", dynamo=True, **HF),
        "onnx_dynamo_sdpa": lambda p: hf_vit.export(p, "sdpa", dynamo=True, **HF),
    },
    "vit_digits": {  # the .tflite files are the converter's (litert-torch), one per dtype
        "pytorch": lambda p: f"{__file__}:vit_digits",
        "tflite": lambda p: TFLITE / "vit_digits_float32.tflite",
        "tflite_int8_file": lambda p: TFLITE / "vit_digits_int8.tflite",
    },
}
SHAPES = {"timm": (3, 64, 64), "hf": (3, 64, 64), "vit_digits": (1, 8, 8), "vit_mnist": (1, 28, 28)}
MNIST_TFLITE = Path(tempfile.gettempdir()) / "tflm_arena"  # benchmarks/tflm_arena.py --config mnist --out


def add_mnist_routes(folder: Path) -> None:
    """The bundled MNIST ViT (examples/vit_mnist.py, trained weights) through PyTorch, and as the .tflite
    files benchmarks/tflm_arena.py converts it to (litert-torch; int8 by ai-edge-quantizer). Those need
    the converter's own venv, so they are not in the repository: make them first."""
    ROUTES["vit_mnist"] = {
        "pytorch": lambda p: f"{REPO / 'examples' / 'vit_mnist.py'}:bundled",
        "tflite": lambda p: folder / "vit_mnist_trained_float32.tflite",
        "tflite_int8_file": lambda p: folder / "vit_mnist_trained_int8.tflite",
    }


def one(model: str, route: str, dtype: str, work: Path, calib: Path, test: Path) -> dict:
    line = {"benchmark": "imports", "model": model, "route": route, "dtype": dtype, "board": BOARD}
    with contextlib.redirect_stdout(sys.stderr):  # the dynamo exporter prints its progress
        source = ROUTES[model][route](work / f"{model}_{route}.onnx")
    out = work / f"build_{model}_{route}_{dtype}"
    quant = QuantOptions(calib) if dtype == "int8" else None
    if route == "tflite_int8_file":  # quantized by the file's own parameters, not by calibration
        if dtype != "int8":
            return {}
        quant = None
    elif route == "tflite" and dtype != "float32":
        return {}
    try:
        r = compile_model(
            source, BOARD, out, test_data=test, quant=quant, log=lambda s: print(s, file=sys.stderr)
        )
    except EdgexfError as e:
        return line | {"error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}
    run = run_build(out, emulate=True, check=True, timeout=1200)
    instructions = int(np.median(run.result.instructions))
    return line | {
        "fused_ops": r["memory"]["fused_ops"],
        "op_types": sorted({op["type"] for op in r["ops"]}),
        "macs": r["macs"],
        "arena_bytes": r["arena_bytes"],
        "flash_bytes": r["flash_bytes"],
        "instructions_per_inference": instructions,
        "macs_per_instruction": round(r["macs"] / instructions, 3),
        "bit_exact_with_reference": f"{run.agreement.bit_exact_with_reference}/{run.agreement.samples}",
        "host_check_ok": r["host_check"]["ok"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="timm,hf,vit_digits")
    parser.add_argument("--dtypes", default="float32,int8")
    parser.add_argument("--routes", default="", help="comma-separated; default: every route of each model")
    parser.add_argument(
        "--mnist-tflite",
        type=Path,
        default=MNIST_TFLITE,
        help="folder of vit_mnist_trained_{float32,int8}.tflite (benchmarks/tflm_arena.py --config mnist "
        "--out DIR, in its own venv); with --models vit_mnist",
    )
    args = parser.parse_args()
    add_mnist_routes(args.mnist_tflite)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="edgexf-imports-") as tmp:
        work = Path(tmp)
        for model in args.models.split(","):
            calib, test = work / f"{model}_calib.npz", work / f"{model}_test.npz"
            np.savez(calib, x=rng.standard_normal((32, *SHAPES[model]), dtype=np.float32))
            np.savez(test, x=rng.standard_normal((4, *SHAPES[model]), dtype=np.float32))
            base = {}
            for route in args.routes.split(",") if args.routes else ROUTES[model]:
                for dtype in args.dtypes.split(","):
                    line = one(model, route, dtype, work, calib, test)
                    if not line:  # a route that has one dtype only
                        continue
                    if route == "pytorch" and "error" not in line:
                        base[dtype] = line
                    elif dtype in base and "error" not in line:
                        for key in ("instructions_per_inference", "arena_bytes"):
                            line[f"{key}_vs_pytorch"] = round(line[key] / base[dtype][key], 3)
                    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

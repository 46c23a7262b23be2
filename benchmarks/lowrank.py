"""Low-rank decomposition of the MNIST ViT at a budget of linear weights: top-1 before, right after, and
after fine-tuning; one JSON line per measurement.

    python benchmarks/lowrank.py [--budgets 0.5,0.35] [--epochs 10] [--control] [--ir] [--qemu] [--out DIR]

The model is examples/vit_mnist.py:bundled; the test set (1000 images) is the one `--write-data`
writes, fine-tuning uses the example's 4000 training images (the same fixed split) with its shift
augmentation, on the CPU with 2 threads. Lines:
  form "torch":   decompose (edgexf.compress.lowrank) then finetune (edgexf.compress.finetune)
  form "dense":   --control: the dense model fine-tuned the same way, to tell what fine-tuning alone does
  form "ir":      --ir: the IR pass (edgexf.passes.lowrank_linear), no fine-tuning, its agreement with the
                  original graph on the 500 calibration images and its accuracy on the test set
  form "qemu":    --qemu: the fine-tuned decomposed model compiled for stm32f746 (float32) and run in QEMU
                  on the whole test set (benchmarks/measure.py; a few minutes)
The issue's target: at budget 0.5, at most 1 point of top-1 lost after fine-tuning.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from vit_mnist import CALIB_FILE, SHIFT, TEST_FILE, bundled  # noqa: E402

from edgexf.compress.finetune import finetune  # noqa: E402
from edgexf.compress.lowrank import decompose  # noqa: E402
from edgexf.datasets import load_mnist5k, load_npz  # noqa: E402
from edgexf.models.training import evaluate, random_shift  # noqa: E402

FINETUNE = dict(lr=5e-4, batch_size=64, weight_decay=0.05, label_smoothing=0.1, warmup_epochs=1.0)


def torch_line(model, budget: float, epochs: int, train, test, seed: int) -> tuple[dict, torch.nn.Module]:
    dense_accuracy = evaluate(model, *test)
    t0 = time.perf_counter()
    small, plan = decompose(model, budget_fraction=budget)
    decompose_seconds = time.perf_counter() - t0
    result = finetune(
        small, *train, held_out=test, epochs=epochs, augment=random_shift(SHIFT), seed=seed, **FINETUNE
    )
    line = {
        "benchmark": "lowrank",
        "model": "vit_mnist",
        "form": "torch",
        "budget_fraction": budget,
        "params_before": plan["params_before"],
        "params_after": plan["params_after"],
        "factorized": plan["factorized"],
        "accuracy_dense": dense_accuracy,
        "accuracy_decomposed": result.accuracy_before,
        "accuracy_finetuned": result.accuracy_after,
        "points_lost": round(100 * (dense_accuracy - result.accuracy_after), 2),
        "epochs": epochs,
        "lr": FINETUNE["lr"],
        "seed": seed,
        "decompose_seconds": round(decompose_seconds, 3),
        "finetune_seconds": round(result.seconds, 1),
        "threads": torch.get_num_threads(),
        "ranks": {layer["name"]: layer["rank"] for layer in plan["layers"]},
    }
    return line, small


def dense_line(model, epochs: int, train, test, seed: int) -> dict:
    dense = copy.deepcopy(model)
    result = finetune(
        dense, *train, held_out=test, epochs=epochs, augment=random_shift(SHIFT), seed=seed, **FINETUNE
    )
    return {
        "benchmark": "lowrank",
        "model": "vit_mnist",
        "form": "dense",
        "budget_fraction": 1.0,
        "accuracy_dense": result.accuracy_before,
        "accuracy_finetuned": result.accuracy_after,
        "epochs": epochs,
        "finetune_seconds": round(result.seconds, 1),
    }


def ir_line(model, example, budget: float, test, calib) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from model_helpers import to_graph

    from edgexf.compress.agreement import agreement
    from edgexf.passes.lowrank_linear import lowrank_linear

    g = to_graph(model, example)
    t0 = time.perf_counter()
    d, plan = lowrank_linear(g, budget_fraction=budget)
    seconds = time.perf_counter() - t0
    on_calib = agreement(g, d, calib, progress=False)
    on_test = agreement(g, d, *test, progress=False)
    return {
        "benchmark": "lowrank",
        "model": "vit_mnist",
        "form": "ir",
        "budget_fraction": budget,
        "params_before": plan.params_before,
        "params_after": plan.params_after,
        "calib_top1_agreement": on_calib.top1_agreement,
        "calib_relative_l2": round(on_calib.relative_l2, 4),
        "test_top1_agreement": on_test.top1_agreement,
        "accuracy_dense": on_test.accuracy_original,
        "accuracy_decomposed": on_test.accuracy_changed,
        "pass_seconds": round(seconds, 3),
    }


def qemu_line(small, example, budget: float, work: Path, test_file: Path) -> dict:
    from measure import measure

    path = work / f"vit_mnist_lowrank_{budget}.pt2"
    torch.export.save(torch.export.export(small.eval(), (example,)), path)
    line = measure("lowrank", path, test_file, work / f"build_{budget}", "stm32f746")
    return line | {"form": "qemu", "budget_fraction": budget}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budgets", default="0.5", help="comma-separated fractions of the linear weights")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=FINETUNE["lr"], help="peak learning rate of the fine-tune")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--control", action="store_true", help="also fine-tune the dense model")
    p.add_argument("--ir", action="store_true", help="also the IR pass, without fine-tuning")
    p.add_argument("--qemu", action="store_true", help="also compile the fine-tuned model and run it in QEMU")
    p.add_argument("--out", type=Path, help="work directory (default: a temporary one)")
    args = p.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    FINETUNE["lr"] = args.lr
    work = args.out or Path(tempfile.mkdtemp(prefix="edgexf_bench_lowrank_"))
    example = ROOT / "examples" / "vit_mnist.py"
    subprocess.run([sys.executable, str(example), "--write-data", str(work)], check=True, stdout=sys.stderr)
    test = load_npz(work / TEST_FILE)
    calib, _ = load_npz(work / CALIB_FILE)
    split = load_mnist5k(test_fraction=0.2, seed=0)  # the example's split: its 4000 training images
    train = (split.x_train, split.y_train)
    model, example_input = bundled()
    if args.control:
        print(json.dumps(dense_line(model, args.epochs, train, test, args.seed)), flush=True)
    for budget in (float(b) for b in args.budgets.split(",")):
        line, small = torch_line(model, budget, args.epochs, train, test, args.seed)
        print(json.dumps(line), flush=True)
        if args.ir:
            print(json.dumps(ir_line(model, example_input, budget, test, calib)), flush=True)
        if args.qemu:
            print(json.dumps(qemu_line(small, example_input, budget, work, work / TEST_FILE)), flush=True)


if __name__ == "__main__":
    main()

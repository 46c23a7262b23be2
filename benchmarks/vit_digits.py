"""Memory, size, speed and accuracy of the digits ViT on stm32f746 (QEMU): one JSON line per build.

    python benchmarks/vit_digits.py [--model vit.pt2 --test-data vit_digits_test.npz] [--out DIR]

Without --model it trains the example first (examples/vit_digits.py, about a minute). Prints one JSON
line: arena, its lower bound, the sum of activations, weights, flash and RAM from the ELF,
instructions per inference under QEMU (-icount, deterministic), MACs per instruction, and top-1
accuracy of the QEMU run and of PyTorch on the whole test set.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgexf.pipeline import compile_model
from edgexf.run.build_dir import run_build

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="a trained .pt2 (default: train examples/vit_digits.py)")
    p.add_argument("--test-data", type=Path, help="its test set .npz (default: the example's)")
    p.add_argument("--out", type=Path, help="build directory (default: a temporary one)")
    p.add_argument("--board", default="stm32f746")
    args = p.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="edgexf_bench_"))
    model, data = args.model, args.test_data
    if model is None:
        model, data = work / "vit.pt2", work / "vit_digits_test.npz"
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / "vit_digits.py"), "--out", str(model), "--quiet"],
            check=True,
            stdout=sys.stderr,
        )
    report = compile_model(
        model, args.board, work / "build", test_data=data, log=lambda s: print(s, file=sys.stderr)
    )
    run = run_build(work / "build", emulate=True, check=True)
    instructions = int(np.median(run.result.instructions))
    a = run.agreement
    print(
        json.dumps(
            {
                "benchmark": "vit_digits",
                "board": args.board,
                "model": str(model),
                "params": report["params"],
                "macs": report["macs"],
                "arena_bytes": report["arena_bytes"],
                "arena_lower_bound_bytes": report["arena_lower_bound_bytes"],
                "activations_sum_bytes": report["activations_sum_bytes"],
                "weights_bytes": report["weights_bytes"],
                "flash_bytes": report["flash_bytes"],
                "ram_bytes": report["ram_bytes"],
                "instructions_per_inference": instructions,
                "macs_per_instruction": round(report["macs"] / instructions, 4),
                "samples": a.samples,
                "qemu_accuracy": a.accuracy,
                "pytorch_accuracy": a.original_accuracy,
                "same_class_as_pytorch": a.same_class_as_original,
                "bit_exact_with_reference": a.bit_exact_with_reference,
                "max_rel_err_vs_pytorch": a.max_rel_err_vs_original,
                "compile_seconds": report["compile_seconds"],
            }
        )
    )


if __name__ == "__main__":
    main()

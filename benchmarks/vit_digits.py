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

from measure import measure

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
    print(json.dumps(measure("vit_digits", model, data, work / "build", args.board)))


if __name__ == "__main__":
    main()

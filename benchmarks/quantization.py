"""Float32 against int8 for both example ViTs on stm32f746 (QEMU): one JSON line per build.

    python benchmarks/quantization.py [--out DIR] [--models digits,mnist] [--percentile P]

digits: trains examples/vit_digits.py (about 30 s) and uses its 360 test images and 500 training
images for calibration. mnist: the bundled examples/vit_mnist.py:bundled, its 1000 test images and
500 training images for calibration. Each line: arena, weights, flash and RAM bytes, instructions per
inference under QEMU, top-1 accuracy of the QEMU run on the whole test set and of float PyTorch, and
how many outputs were bit-exact with the reference. The QEMU runs take about 3 minutes in all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import measure

from edgexf.pipeline import QuantOptions

ROOT = Path(__file__).resolve().parents[1]


def prepare(name: str, work: Path) -> tuple[str, Path, Path]:
    """(model spec, test set, calibration set) of an example."""
    if name == "digits":
        model = work / "vit.pt2"
        cmd = [sys.executable, str(ROOT / "examples" / "vit_digits.py"), "--out", str(model), "--quiet"]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        return str(model), work / "vit_digits_test.npz", work / "vit_digits_calib.npz"
    example = ROOT / "examples" / "vit_mnist.py"
    subprocess.run([sys.executable, str(example), "--write-data", str(work)], check=True, stdout=sys.stderr)
    return f"{example}:bundled", work / "vit_mnist_test.npz", work / "vit_mnist_calib.npz"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="work directory (default: a temporary one)")
    p.add_argument("--models", default="digits,mnist", help="comma-separated: digits, mnist")
    p.add_argument("--board", default="stm32f746")
    p.add_argument("--percentile", type=float, help="calibrate with this percentile instead of min/max")
    args = p.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="edgexf_bench_q_"))
    for name in args.models.split(","):
        work = root / name
        work.mkdir(parents=True, exist_ok=True)
        model, test, calib = prepare(name, work)
        method = "percentile" if args.percentile else "minmax"
        quant = QuantOptions(calib, method, args.percentile or 99.99)
        for q in (None, quant):
            out = work / ("build_int8" if q else "build_float32")
            print(json.dumps(measure(f"vit_{name}", model, test, out, args.board, q)), flush=True)


if __name__ == "__main__":
    main()

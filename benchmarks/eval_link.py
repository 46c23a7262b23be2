"""The evaluation link's speed over QEMU's emulated UART: one JSON line per measurement.

    python benchmarks/eval_link.py [--out DIR] [--samples 500] [--pings 1000]

- ping: HELLO round trips per second (the protocol's cost per request, nothing else);
- eval: a whole `edgexf eval --emulate` of the digits ViT (examples/vit_digits.py) on its test set,
  float32 and int8 for stm32f746 (mps2-an500): wall seconds, samples per second, the host's time per
  sample (every round trip) and the device's counter per inference. The test set has 360 images, so
  --samples 500 repeats it (the .npz given to eval holds the images over again).

Trains the example (about 25 s) and compiles both builds first unless --out holds them.
Figures are the emulator's, on this machine: a real board at 115200 baud is bound by the line (about
11.5 bytes per ms: a float32 8x8 image is 256 bytes, its 10 logits 40).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgexf.cli import main as edgexf_main
from edgexf.datasets import load_npz, save_npz
from edgexf.eval.emulator import EmulatedBoard
from edgexf.eval.evaluate import EvalOptions, evaluate
from edgexf.eval.link import Link
from edgexf.eval.protocol import Type
from edgexf.targets.boards import load_board

ROOT = Path(__file__).resolve().parents[1]
BOARD = "stm32f746"


def builds(work: Path) -> dict[str, Path]:
    if not (work / "vit.pt2").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / "vit_digits.py"), "--out", "vit.pt2", "--quiet"],
            check=True,
            cwd=work,
        )
    out = {}
    for dtype in ("float32", "int8"):
        out[dtype] = work / f"build_{dtype}"
        if (out[dtype] / "report.json").is_file():
            continue
        args = ["compile", str(work / "vit.pt2"), "--board", BOARD, "-o", str(out[dtype])]
        args += ["--test-data", str(work / "vit_digits_test.npz"), "--max-vectors", "16"]
        if dtype == "int8":
            args += ["--quantize", "int8", "--calibration", str(work / "vit_digits_calib.npz")]
        if edgexf_main(args) != 0:
            raise SystemExit(f"compiling {out[dtype]} failed")
    return out


def ping(build: Path, count: int) -> dict:
    report = json.loads((build / "report.json").read_text())
    board = load_board(report["board"])
    with EmulatedBoard(board, build / report["files"]["eval_emulator_elf"]) as emu:
        link = Link(emu.serial, emu.url, baud=None)
        link.request(Type.HELLO)  # the boot, outside the timing
        t0 = time.perf_counter()
        for _ in range(count):
            link.request(Type.HELLO)
        seconds = time.perf_counter() - t0
    return {
        "benchmark": "eval_link",
        "measure": "hello_round_trips",
        "machine": board.emulator.machine,
        "round_trips": count,
        "seconds": round(seconds, 3),
        "round_trips_per_second": round(count / seconds, 1),
        "retries": link.stats.retries,
    }


def full_eval(build: Path, dtype: str, data: Path, samples: int) -> dict:
    opts = EvalOptions(data, emulate=True, results=build.parent / f"eval_{dtype}.jsonl", progress=False)
    t0 = time.perf_counter()
    r = evaluate(build, opts)
    seconds = time.perf_counter() - t0
    return {
        "benchmark": "eval_link",
        "measure": "evaluation",
        "model": "vit_digits",
        "dtype": dtype,
        "board": r["board"],
        "samples": r["samples"],
        "seconds": round(seconds, 2),  # all of it: QEMU's start, the samples, the original model's run
        "samples_seconds": round(r["host_ms"]["avg"] * r["samples"] / 1e3, 2),  # the link's part alone
        "samples_per_second": round(samples / seconds, 1),
        "host_ms_per_sample": round(r["host_ms"]["avg"], 3),
        f"{r['counter']['unit']}_per_inference": round(r["counter"]["avg"]),
        "counter_per_mac": round(r["counter_per_mac"], 3),
        "link": r["link"],
        "metrics": r["metrics"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--out", type=Path, help="keep the model and builds here (default: a temporary directory)"
    )
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--pings", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        b = builds(work)
        print(json.dumps(ping(b["int8"], args.pings)), flush=True)
        x, y = load_npz(work / "vit_digits_test.npz")
        reps = -(-args.samples // len(x))
        data = save_npz(
            work / "eval_data.npz",
            np.tile(x, (reps, 1, 1, 1))[: args.samples],
            np.tile(y, reps)[: args.samples],
        )
        for dtype, build in b.items():
            print(json.dumps(full_eval(build, dtype, data, args.samples)), flush=True)


if __name__ == "__main__":
    main()

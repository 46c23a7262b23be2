"""Write tests/data/fuzz_corpus/tflite/: mutated small .tflite files, one per distinct loader outcome.

    .venv/bin/python tests/data/tflite/make_fuzz_corpus.py

Mutations (truncation, 1-8 byte flips) of the single-op models of tests/frontends/tflite_builders.py,
from a fixed seed. Each input is classified by what the loader says (the error class and its message
with numbers removed); the smallest input of each class is kept. Before the loader checked operand
counts, axes, per-channel scale counts, opcode indices and conv ranks, mutations of these kinds
escaped as IndexError / ValueError from inside the converter (11 distinct places); the corpus keeps
inputs that reach those checks, so test_tflite_fuzz.py replays them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for frontends.tflite_builders
sys.path.insert(0, str(HERE.parents[2]))

OUT = HERE.parent / "fuzz_corpus" / "tflite"
ITERATIONS = 20000
MAX_FILES = 40


def main() -> None:
    from frontends import tflite_builders as B

    from edgexf.errors import EdgexfError
    from edgexf.frontends.tflite_import import tflite_to_graph

    seeds = [B.fully_connected(True), B.conv(False, True), B.softmax(True), B.layernorm_pattern("SUB", True)]
    rng = np.random.default_rng(2026)
    kept: dict[str, bytes] = {}
    for it in range(ITERATIONS):
        data = bytearray(seeds[it % len(seeds)])
        if it % 2 == 0:
            data = data[: rng.integers(0, len(data))]
        else:
            for _ in range(rng.integers(1, 9)):
                data[rng.integers(0, len(data))] = rng.integers(0, 256)
        try:
            tflite_to_graph(bytes(data))
            key = "loads"
        except EdgexfError as e:
            words = re.sub(r"\(.*", "", str(e).split(": ", 1)[-1])
            key = (
                type(e).__name__
                + "_"
                + re.sub(r"[^a-z]+", "_", re.sub(r"'[^']*'|\d+", "", words.lower()))[:48]
            )
        if key not in kept or len(data) < len(kept[key]):
            kept[key] = bytes(data)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.tflite"):
        old.unlink()
    for key, data in sorted(kept.items(), key=lambda kv: len(kv[1]))[:MAX_FILES]:
        (OUT / f"{key.strip('_')}.tflite").write_bytes(data)
    print(f"{len(kept)} classes, {min(len(kept), MAX_FILES)} files in {OUT}")


if __name__ == "__main__":
    main()

"""Flash and RAM of one image with two prefixed models against the two single-model images.

    python benchmarks/two_models.py BUILD_A BUILD_B [--out DIR]

BUILD_A, BUILD_B: build directories of `edgexf compile ... --prefix` (different prefixes, the same
board). Links firmware/app/two_models.c with both models and one kernel library for the board
(targets/image.py), with separate arenas and with one shared arena, and prints arm-none-eabi-size's
figures for those two images and for each build's own firmware/app.elf (the test-vector runner), as a
Markdown table: flash = text + data, RAM = data + bss (bss holds the board's reserved stack).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from edgexf.resources import firmware_dir
from edgexf.targets.boards import load_board
from edgexf.targets.image import link_models, two_models_defines


def sizes(elf: Path) -> tuple[int, int, int]:
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return text, data, bss


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("builds", nargs=2, type=Path)
    p.add_argument("--out", type=Path, help="where the images go (default: a temporary folder)")
    args = p.parse_args()
    board = load_board(json.loads((args.builds[0] / "report.json").read_text())["board"])
    dirs = [b / "model" for b in args.builds]
    rows = [
        (f"{b.name} alone (its firmware/app.elf)", sizes(b / "firmware" / "app.elf")) for b in args.builds
    ]
    rows.append(("sum of the two", tuple(sum(v) for v in zip(rows[0][1], rows[1][1], strict=True))))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        for shared in (False, True):
            app, where = firmware_dir() / "app" / "two_models.c", out / f"shared{int(shared)}"
            fw = link_models(board, dirs, app, where, False, shared, two_models_defines(dirs, shared))
            rows.append((f"one image, {'one shared arena' if shared else 'separate arenas'}", sizes(fw.elf)))
    print(f"{board.name}; flash = text + data, RAM = data + bss (with the {board.stack_bytes:,} B stack)\n")
    print("| image | text | data | bss | flash | RAM |\n|---|---:|---:|---:|---:|---:|")
    for name, (text, data, bss) in rows:
        print(f"| {name} | {text:,} | {data:,} | {bss:,} | {text + data:,} | {data + bss:,} |")


if __name__ == "__main__":
    main()

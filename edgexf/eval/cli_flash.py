"""`edgexf flash DIR`: the command line of edgexf/eval/flash.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgexf.targets.boards import PROBES


def cmd_flash(args: argparse.Namespace) -> int:
    from edgexf.eval.flash import eval_images, flash_command, pick_probe, run_flash

    board, elf, binary = eval_images(Path(args.dir))
    command = flash_command(board, elf, binary, pick_probe(board, args.probe))
    print(f"flashing {command.image} to {board.name} with {command.probe}:\n  {command}", file=sys.stderr)
    if args.dry_run:
        print(command)
        return 0
    output = run_flash(command, args.timeout)
    if args.verbose:
        print(output, file=sys.stderr)
    print(f"flashed {board.name}; next: edgexf eval {args.dir} --data TEST.npz")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser(
        "flash",
        help="write a build's evaluation firmware to the board (openocd, st-flash or pyocd)",
        description="Writes DIR/eval/board/app.elf (or .bin) with a debug probe's tool, using the "
        "board file's [probes] settings. The board must be plugged in by its ST-LINK USB port.",
    )
    f.add_argument("dir", help="a build directory made by `edgexf compile` for a board with a [bsp]")
    f.add_argument(
        "--probe",
        choices=tuple(PROBES),
        help="the tool: openocd, stlink (st-flash) or pyocd "
        "(default: the first of the board's probes whose tool is installed)",
    )
    f.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    f.add_argument(
        "--timeout", type=float, default=120, help="seconds before the tool is stopped (default 120)"
    )
    f.add_argument("-v", "--verbose", action="store_true", help="print the tool's output")
    f.set_defaults(func=cmd_flash)

"""`edgexf flash DIR`: the command line of edgexf/eval/flash.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgexf.targets.boards import PROBES


def cmd_flash(args: argparse.Namespace) -> int:
    from edgexf.eval.flash import eval_images, flash_command, pick_probe, run_flash

    images = eval_images(Path(args.dir))
    board = images.board
    command = flash_command(images, pick_probe(images, args.probe))
    timeout = images.default_timeout() if args.timeout is None else args.timeout
    writes = "".join(f"\n  {what}" for what in command.writes)
    print(f"flashing {board.name} with {command.probe} (timeout {timeout:.0f} s):{writes}", file=sys.stderr)
    print(f"  {command}", file=sys.stderr)
    if args.dry_run:
        print(command)
        return 0
    output = run_flash(command, timeout)
    if args.verbose:
        print(output, file=sys.stderr)
    print(f"flashed {board.name}; next: edgexf eval {args.dir} --data TEST.npz")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser(
        "flash",
        help="write a build's evaluation firmware to the board (openocd, st-flash or pyocd)",
        description="Writes DIR/eval/board/app.elf (or .bin) with a debug probe's tool, using the "
        "board file's [probes] settings. A build with weights in the board's external flash also writes "
        "DIR/eval/board/app_ext.bin there, with openocd only. The board must be plugged in by its "
        "ST-LINK USB port.",
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
        "--timeout",
        type=float,
        help="seconds before the tool is stopped (default 120, plus 60 per MB written to an external flash)",
    )
    f.add_argument("-v", "--verbose", action="store_true", help="print the tool's output")
    f.set_defaults(func=cmd_flash)

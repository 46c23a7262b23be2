"""`edgexf eval DIR --data TEST.npz`: the command line of edgexf/eval/evaluate.py."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_eval(args: argparse.Namespace) -> int:
    from edgexf.eval.evaluate import EvalOptions, evaluate
    from edgexf.eval.summary import format_report

    opts = EvalOptions(
        data=args.data,
        port=args.port,
        emulate=args.emulate,
        limit=args.limit,
        resume=args.resume,
        results=args.results,
        timeout=args.timeout,
        baud=args.baud,
        original=not args.no_original,
    )
    result = evaluate(Path(args.dir), opts)
    print(format_report(result))
    print(f"\nwrote {result['results']} (per sample) and {result['report_file']}")
    return 1 if result["failed_runs"] else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "eval",
        help="validate a build on the board (or QEMU) over its serial port, like STM32Cube.AI's validate",
        description="Runs a data set through the build's evaluation firmware, sample by sample over a "
        "serial link (docs/eval_protocol.md), and reports the time per inference (host round trip and "
        "the device's own counter, per MAC too), acc/rmse/mae/l2r/cos of the board against the labels "
        "and against the original PyTorch model, and a confusion matrix for classifiers. Each result is "
        "saved as it arrives, so an interrupted run goes on with --resume. The board must run this "
        "build's evaluation firmware (edgexf flash DIR); --emulate runs it in QEMU instead.",
    )
    e.add_argument("dir", help="a build directory made by `edgexf compile`")
    where = e.add_mutually_exclusive_group()
    where.add_argument(
        "--port",
        help="the board's serial port, e.g. /dev/ttyACM0 or COM5, or a pyserial URL such as "
        "socket://HOST:PORT (default: the one ST-LINK port found)",
    )
    where.add_argument(
        "--emulate", action="store_true", help="run the evaluation firmware in QEMU, over its emulated UART"
    )
    e.add_argument(
        "--data", type=Path, required=True, help=".npz with x (inputs) and optional y (labels: class indices)"
    )
    e.add_argument("--limit", type=int, help="evaluate only the first N samples")
    e.add_argument(
        "--results",
        type=Path,
        help="the per-sample results file, JSON lines (default DIR/eval_results.jsonl); the report goes "
        "beside it (FILE.report.json; default DIR/eval_report.json)",
    )
    e.add_argument(
        "--resume",
        action="store_true",
        help="go on from the last sample in the results file (same build, same --data) instead of "
        "starting afresh",
    )
    e.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for each answer before retrying (default 5; RUN waits longer, by the "
        "model's MACs); 3 attempts per request",
    )
    e.add_argument(
        "--no-original",
        action="store_true",
        help="do not reload the original model (report.json's source) to compare with: faster; the "
        "rows that need it are left out",
    )
    e.add_argument(
        "--baud", type=int, default=115200, help="serial baud rate (default 115200, the firmware's)"
    )
    e.set_defaults(func=cmd_eval)

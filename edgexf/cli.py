"""The `edgexf` command line: compile, run, boards."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from edgexf import __version__
from edgexf.errors import EdgexfError


def _fmt_bytes(n: int, capacity: int | None = None) -> str:
    s = f"{n:>10,} B"
    return s + (f" / {capacity:,} B ({n / capacity:.1%})" if capacity else "")


def print_report(r: dict) -> None:
    print(f"\n{r['model']} for {r['board']} (edgexf {r['edgexf_version']})")
    print(f"  parameters     {r['params']:>10,}")
    print(f"  MACs           {r['macs']:>10,} per inference, {r['ops']} ops")
    print(f"  weights        {_fmt_bytes(r['weights_bytes'])}  (const, flash)")
    print(
        f"  arena          {_fmt_bytes(r['arena_bytes'])}  lower bound {r['arena_lower_bound_bytes']:,} B, "
        f"sum of activations {r['activations_sum_bytes']:,} B ({r['planner']})"
    )
    print(f"  flash          {_fmt_bytes(r['flash_bytes'], r['flash_capacity_bytes'])}")
    print(
        f"  RAM            {_fmt_bytes(r['ram_bytes'], r['ram_capacity_bytes'])}  "
        f"(arena + {r['stack_bytes']:,} B stack + runtime)"
    )
    hc = r["host_check"]
    print(
        f"  host check     {hc['bit_exact_with_reference']}/{hc['samples']} bit-exact with the reference, "
        "worst "
        f"relative error vs PyTorch {hc['max_rel_err_vs_original']:.1e}"
    )
    print(f"  compiled in    {r['compile_seconds']} s")


def cmd_compile(args: argparse.Namespace) -> int:
    from edgexf.pipeline import compile_model

    command = "edgexf " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = compile_model(
        args.model,
        args.board,
        Path(args.out),
        test_data=args.test_data,
        max_vectors=args.max_vectors,
        name=args.name,
        command=command,
        log=lambda s: print(s, file=sys.stderr),
    )
    print_report(report)
    print(f"\nwrote {args.out}/ (report.json, model/, host/, firmware/, emulator/, test_vectors.npz)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from edgexf.run.build_dir import load_inputs, read_report, run_build

    report = read_report(Path(args.dir))
    inputs = None
    if args.input:
        inputs = load_inputs(Path(args.input), tuple(report["inputs"][0]["shape"]))
    where = "in QEMU" if args.emulate else "on the host (gcc build)"
    print(f"running {report['model']} ({report['board']}) {where}...", file=sys.stderr)
    run = run_build(Path(args.dir), args.emulate, inputs, args.check, args.timeout)
    counts = run.result.instructions if args.emulate else run.result.ticks
    unit = "instructions" if args.emulate else "ns (host)"
    if not args.check:
        np.set_printoptions(precision=5, suppress=True, linewidth=110)
        for i, y in enumerate(run.outputs[:10]):
            print(f"sample {i}: output {y.reshape(-1)}  argmax {int(np.argmax(y))}")
        if len(run.outputs) > 10:
            print(f"... {len(run.outputs) - 10} more samples")
    if counts:
        per = int(np.median(counts))
        print(
            f"{unit} per inference: {per:,}"
            + (f"  ({report['macs'] / per:.3f} MACs per instruction)" if args.emulate else "")
        )
    if args.check:
        print(run.agreement.describe())
        if not run.agreement.ok:
            print(
                "CHECK FAILED: outputs differ from the reference beyond the stated tolerance", file=sys.stderr
            )
            return 7
        print("check passed")
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from edgexf.targets.boards import list_boards, load_board

    for name in list_boards():
        b = load_board(name)
        emu = f"QEMU {b.emulator.machine}" if b.emulator else "no emulator"
        print(
            f"{name:<14} {b.core:<11} flash {b.flash.size // 1024:>5} KB  RAM {b.ram.size // 1024:>5} KB  "
            f"{emu:<20} {b.description}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edgexf",
        description="Compile transformer-family models to C for "
        "microcontrollers, build them for a board, and run them in QEMU.",
    )
    p.add_argument("--version", action="version", version=f"edgexf {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="plan, generate C, build for host and board, report")
    c.add_argument(
        "model", help="a torch.export program (.pt2), or FILE.py:FUNCTION returning (module, example_input)"
    )
    c.add_argument("--board", required=True, help="board name (see `edgexf boards`) or a board .toml file")
    c.add_argument("-o", "--out", required=True, help="build directory to write")
    c.add_argument(
        "--test-data", type=Path, help=".npz with x (inputs) and optional y (labels) for the test vectors"
    )
    c.add_argument("--max-vectors", type=int, help="use at most this many samples of --test-data")
    c.add_argument("--name", help="model name in the generated code (default: the file's stem)")
    c.set_defaults(func=cmd_compile)

    r = sub.add_parser("run", help="run a build on the host, or its firmware in QEMU (--emulate)")
    r.add_argument("dir", help="a build directory made by `edgexf compile`")
    r.add_argument(
        "--emulate", action="store_true", help="run the firmware in QEMU (default: the host build)"
    )
    r.add_argument(
        "--input", help=".npy (or .npz with x): one input sample or a batch (default: the test vectors)"
    )
    r.add_argument(
        "--check",
        action="store_true",
        help="run the saved test vectors and fail on any mismatch: "
        "bit-exact with the IR reference, within 1e-4 (relative) of PyTorch",
    )
    r.add_argument(
        "--timeout", type=float, default=600, help="seconds before the run is stopped (default 600)"
    )
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("boards", help="list the known boards")
    b.set_defaults(func=cmd_boards)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EdgexfError as e:
        print(f"edgexf: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("edgexf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

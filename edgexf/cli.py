"""The `edgexf` command line: compile, run, boards."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from edgexf import __version__
from edgexf.compile_summary import print_report
from edgexf.compress.layer_errors import format_layer_errors
from edgexf.errors import EXIT_CODES, INTERNAL_ERROR, INTERRUPTED, EdgexfError, bug_message
from edgexf.eval.cli_eval import add_parser as add_eval_parser
from edgexf.eval.cli_flash import add_parser as add_flash_parser
from edgexf.fit.cli_fit import add_parser as add_fit_parser
from edgexf.targets.arena import ARENA_MODES, check_arena_mode
from edgexf.targets.boards import load_board
from edgexf.targets.placement import CODE_RESERVE_BYTES, WEIGHT_MODES, check_mode


def cmd_compile(args: argparse.Namespace) -> int:
    # a typo, or --weights external for a board without external flash, is told at once, before torch
    # is imported (seconds)
    board = load_board(args.board)
    check_mode(board, args.weights)
    check_arena_mode(board, args.arena)  # --arena external on a board without external RAM: exit 2
    from edgexf.frontends.onnx_import import parse_input_shapes
    from edgexf.frontends.onnx_streaming import StepOptions, parse_state_pairs
    from edgexf.pipeline import MemoryOptions, QuantOptions, compile_model

    command = "edgexf " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    quant = None
    if args.quantize:
        if args.calibration is None:
            raise EdgexfError("--quantize int8 needs --calibration FILE.npz (array x: representative inputs)")
        quant = QuantOptions(
            args.calibration, args.calibration_method, args.percentile, tuple(args.int16),
            state_dtype=args.state_dtype,
        )  # fmt: skip
    elif args.calibration or args.int16:
        raise EdgexfError("--calibration and --int16 only apply with --quantize int8")
    report = compile_model(
        args.model,
        args.board,
        Path(args.out),
        test_data=args.test_data,
        max_vectors=args.max_vectors,
        name=args.name,
        command=command,
        log=lambda s: print(s, file=sys.stderr),
        quant=quant,
        memory=MemoryOptions(not args.no_fusion, not args.no_inplace, args.exact_seconds, args.print_plan),
        kernels=args.kernels,
        dsp_weights=args.dsp_weights,
        lowrank=args.lowrank,
        input_shapes=parse_input_shapes(args.input_shape),
        weights=args.weights,
        arena=args.arena,
        onnx_step=StepOptions(args.steps, parse_state_pairs(args.state)),
        prefix=args.prefix,
    )
    print_report(report)
    print(
        f"\nwrote {args.out}/ (report.json, memory_plan.png/.txt/.json, model/, host/, firmware/, emulator/, "
        "eval/, test_vectors.npz)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from edgexf.run.build_dir import load_inputs, read_report, run_build

    report = read_report(Path(args.dir))
    inputs = None
    if args.input:
        inputs = load_inputs(Path(args.input), tuple(report["inputs"][0]["shape"]))
    where = "in QEMU" if args.emulate else "on the host (gcc build)"
    if args.profile:
        return _run_profile(args, report, inputs, where)
    print(f"running {report['model']} ({report['board']}) {where}...", file=sys.stderr)
    run = run_build(Path(args.dir), args.emulate, inputs, args.check, args.timeout)
    counts = run.result.instructions if args.emulate else run.result.ticks
    unit = "instructions" if args.emulate else "ns (host)"
    if not args.check:
        from edgexf.run.vectors import decode_outputs

        np.set_printoptions(precision=5, suppress=True, linewidth=110)
        values = decode_outputs(run.outputs, report["outputs"][0])  # dequantized for an int8 build
        for i, y in enumerate(values[:10]):
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


def _run_profile(args: argparse.Namespace, report: dict, inputs: np.ndarray | None, where: str) -> int:
    from edgexf.run.profile import DEFAULT_SAMPLES, format_profile, profile_build, report_ops

    if args.check:
        raise EdgexfError("--profile and --check do not go together: run them one after the other")
    report_ops(report, Path(args.dir))  # a build from before per-op profiles: say to recompile
    what = "the given inputs" if inputs is not None else f"the first {DEFAULT_SAMPLES} test vectors"
    print(f"profiling {report['model']} ({report['board']}) op by op {where}, on {what}...", file=sys.stderr)
    profile = profile_build(Path(args.dir), args.emulate, inputs, args.timeout)
    print(format_profile(profile))
    print(f"wrote {profile.save(Path(args.dir))}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from edgexf.run.build_dir import read_report

    report = read_report(Path(args.dir))
    q = report.get("quantization")
    if not q:
        raise EdgexfError(f"{args.dir} is a float build: compile with --quantize int8 for a per-layer report")
    if q.get("layers") is None:  # an int8 .tflite compiled without data
        raise EdgexfError(f"{args.dir}: compile with --test-data for a per-layer report of this int8 model")
    cal = q["calibration"]
    print(
        f"{report['model']}: {q['dtype']} layers against the float model, worst first "
        f"({q['layer_error_samples']} samples of {cal['file']}, calibration {cal['method']})"
    )
    print(format_layer_errors(q["layers"]))
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from edgexf.targets.boards import list_boards, load_board

    for name in list_boards():
        b = load_board(name)
        emu = f"QEMU {b.emulator.machine}" if b.emulator else "no emulator"
        print(
            f"{name:<17} {b.core:<11} flash {b.flash.size // 1024:>5} KB  RAM {b.ram.size // 1024:>5} KB  "
            f"{emu:<20} {b.description}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edgexf",
        description="Compile transformer-family models to C for "
        "microcontrollers, build them for a board, and run them in QEMU.",
        epilog="exit statuses:\n" + "\n".join(f"  {k:>3}  {v}" for k, v in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"edgexf {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_compile_parser(sub)
    _add_run_parser(sub)
    lay = sub.add_parser("layers", help="per-layer error of an int8 build against the float model")
    lay.add_argument("dir", help="a build directory made by `edgexf compile --quantize int8`")
    lay.set_defaults(func=cmd_layers)
    b = sub.add_parser("boards", help="list the known boards")
    b.set_defaults(func=cmd_boards)
    add_eval_parser(sub)
    add_flash_parser(sub)
    add_fit_parser(sub)
    return p


def _add_compile_parser(sub) -> None:
    c = sub.add_parser("compile", help="plan, generate C, build for host and board, report")
    c.add_argument(
        "model",
        help="a torch.export program (.pt2), FILE.py:FUNCTION returning (module, example_input), an ONNX "
        "model (.onnx) or a TFLite model (.tflite, float32 or int8)",
    )
    c.add_argument("--board", required=True, help="board name (see `edgexf boards`) or a board .toml file")
    c.add_argument("-o", "--out", required=True, help="build directory to write")
    c.add_argument(
        "--test-data", type=Path, help=".npz with x (inputs) and optional y (labels) for the test vectors"
    )
    c.add_argument("--max-vectors", type=int, help="use at most this many samples of --test-data")
    c.add_argument("--name", help="model name in the generated code (default: the file's stem)")
    c.add_argument(
        "--prefix",
        help="namespace the model's symbols, macros and files, to link several models into one image: "
        "--prefix kws gives kws_run(), KWS_ARENA_BYTES, kws_model.h (default: edgexf_run(), model.h)",
    )
    _add_import_args(c)
    _add_quant_args(c.add_argument_group("quantization"))
    _add_kernel_args(c)
    _add_placement_args(c)
    _add_memory_args(c.add_argument_group("memory planning"))
    c.set_defaults(func=cmd_compile)


def _add_import_args(c) -> None:
    """What an ONNX file may leave open: symbolic shapes, a step model's length and state pairs."""
    c.add_argument(
        "--input-shape",
        action="append",
        metavar="NAME=D1,D2,...",
        help="an ONNX input's shape where the model leaves dimensions symbolic (e.g. a dynamic batch): "
        "x=1,3,32,32, or just 1,3,32,32 for a model with one input; repeatable",
    )
    c.add_argument(
        "--steps",
        type=int,
        metavar="T",
        help="an ONNX step model's sequence length (edgexf_run() runs T steps; default: the test data's)",
    )
    c.add_argument(
        "--state",
        action="append",
        metavar="IN=OUT",
        help="an ONNX step model's state input and the output holding its next value, where names and "
        "order do not pair them (README: recurrent models through ONNX); repeatable, one per state",
    )


def _add_quant_args(q) -> None:
    q.add_argument("--quantize", choices=("int8",), help="post-training quantization with integer kernels")
    q.add_argument("--calibration", type=Path, help=".npz with x: representative inputs for the ranges")
    q.add_argument(
        "--calibration-method",
        choices=("minmax", "percentile"),
        default="minmax",
        help="activation ranges: observed min/max (default), or percentiles that ignore rare outliers",
    )
    q.add_argument(
        "--percentile", type=float, default=99.99, help="with --calibration-method percentile (default 99.99)"
    )
    q.add_argument(
        "--int16",
        action="append",
        default=[],
        metavar="TENSORS",
        help="keep these activations int16: 'residual' (add/sub outputs) or a tensor-name glob; repeatable",
    )
    q.add_argument(
        "--state-dtype",
        choices=("int16", "int8"),
        default="int16",
        help="a recurrent model's state (and the add that updates it) with --quantize int8 (default int16)",
    )


def _add_kernel_args(c) -> None:
    """Which kernels and weight layout, and the optional low-rank factorization."""
    c.add_argument(
        "--kernels",
        choices=("auto", "portable", "dsp"),
        default="auto",
        help="int8 linear layers: dsp = Cortex-M DSP-extension kernels (SMLAD; bit-exact with portable), "
        "portable = plain C; auto (default) = dsp where the board's core has the extension",
    )
    c.add_argument(
        "--dsp-weights",
        choices=("auto", "int8", "int16"),
        default="auto",
        help="the dsp kernels' linear weights in flash: int16 = widened at code generation (twice their "
        "flash, about 1.3x fewer instructions), int8 = widened as they are used; auto (default) = int16 "
        "while the model's constants then take at most half the flash that may hold them (with external "
        "flash and --weights auto or external: the internal flash plus the external)",
    )
    c.add_argument(
        "--lowrank",
        type=float,
        metavar="FRACTION",
        help="factorize the linear layers (SVD) into FRACTION of their weights, without retraining; "
        "the cost is measured on the calibration (or test) data. To fine-tune as well: edgexf fit",
    )


def _add_placement_args(c) -> None:
    """Where weights and arena go on a board with external memories."""
    c.add_argument(
        "--weights",
        choices=WEIGHT_MODES,
        default="auto",
        help="where the weights go on a board with external flash ([[external]] in its board file, e.g. "
        "stm32f746g-disco's 16 MB QSPI): internal = the internal flash; external = all in the external "
        f"flash; auto (default) = internal while they fit its size less {CODE_RESERVE_BYTES >> 10} KB for "
        "code, else the largest tensors move out first until the rest fit (the fewest tensors move). A "
        "rule for simplicity: QEMU does not model the QSPI's latency. Without external flash auto is "
        "internal and external is an error",
    )
    c.add_argument(
        "--arena",
        choices=ARENA_MODES,
        default="internal",
        help="where the arena goes: internal (default) = the SRAM; external = the board's external RAM "
        "(a read-write [[external]] memory, e.g. stm32f746g-disco's 8 MB SDRAM), slower than the SRAM "
        "(QEMU cannot tell), for an arena the SRAM cannot hold; an error on a board without one",
    )


def _add_memory_args(m) -> None:
    m.add_argument("--print-plan", action="store_true", help="print the arena timeline (ops by bytes)")
    m.add_argument(
        "--no-fusion",
        action="store_true",
        help="keep every op as the model file writes it: no recognized LayerNorm, GELU or attention forms, "
        "attention, MLP and patch embedding layer by layer (an int8 .tflite then rounds as tflite-micro "
        "does, op by op)",
    )
    m.add_argument("--no-inplace", action="store_true", help="never write an output over a dead input")
    m.add_argument(
        "--exact-seconds",
        type=float,
        default=5.0,
        help="time for the exact (CP-SAT) planner, deterministic seconds (default 5; 0 skips it)",
    )


def _add_run_parser(sub) -> None:
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
        help="run the saved test vectors and fail on any mismatch: bit-exact with the IR reference, and "
        "for float32 builds within 1e-4 (relative) of PyTorch",
    )
    r.add_argument(
        "--profile",
        action="store_true",
        help="time every op: builds the model again with a hook after each op (into DIR/profile/), runs it "
        "on --input or the first 8 test vectors, prints a per-op and per-type table (instructions in "
        "QEMU with --emulate, ns on the host) and writes DIR/profile.json",
    )
    r.add_argument(
        "--timeout", type=float, default=600, help="seconds before the run is stopped (default 600)"
    )
    r.set_defaults(func=cmd_run)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EdgexfError as e:
        print(f"edgexf: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("edgexf: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as e:  # a bug: one line for the user, the traceback in a file
        print(bug_message(e), file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())

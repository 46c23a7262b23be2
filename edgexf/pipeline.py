"""The compiler, start to end, as one readable list of stages (`edgexf compile` calls compile_model).

    load        frontends/: the model file as a float Graph
    optimize    passes/optimize.py: fold constants, drop dead ops, recognize layers written op by op
    low-rank    compile_steps.py: --lowrank, factorized linear layers
    quantize    compile_steps.py: --quantize int8 with calibration, or a .tflite file's own scales
    fuse        passes/fuse.py: row-at-a-time attention, MLP, LayerNorm+linear, patch embedding;
                passes/fuse_scan.py: Mamba's selective scan
    select      passes/select_kernels.py: the DSP or the portable kernels, int8 or int16 weights
    widen       passes/widen_weights.py: int16 weight pairs and requantization terms as constants
    plan        memory/: the arena (every planner, verified), the state region
    place       targets/placement.py: internal or external flash; the fits-estimate, before generating
    generate    codegen/: model.h, model.c, weights.c and the kernels (it only prints)
    build       targets/toolchain.py: the host runner, the board's and the emulator's firmware
    check       run/: test vectors from the original and the reference; the host build against them
    report      compile_report.py: report.json and the memory plan's files

Each stage's output is checked: a Graph (verified by every pass), a MemoryPlan (verified when planned),
GeneratedSources (kernels checked to exist), Firmware (linked, sized).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edgexf.build_output import staged_output
from edgexf.codegen.generate import generate_c, weight_bytes
from edgexf.codegen.names import Names
from edgexf.compile_inputs import check_inputs
from edgexf.compile_report import CompiledBuild, compile_report, io_entry, write_build_files
from edgexf.compile_steps import QuantOptions, lowrank_step, quantize_step
from edgexf.compress.qmath import quantize
from edgexf.datasets import as_samples, load_npz
from edgexf.errors import DoesNotFitError, MismatchError
from edgexf.eval.build import EvalBuilds, build_eval_builds
from edgexf.eval.model_info import model_hash, model_info
from edgexf.frontends import LoadedModel, load_model
from edgexf.frontends.onnx_streaming import StepOptions
from edgexf.ir.cores import has_mve
from edgexf.ir.graph import Graph
from edgexf.ir.kernel_choice import resolve as resolve_kernels
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import EXACT_TIME_S, MemoryPlan, plan_memory
from edgexf.memory.show import timeline_text
from edgexf.memory_techniques import compare_techniques
from edgexf.passes.fuse import fuse
from edgexf.passes.fuse_conv_step import fuse_conv_steps
from edgexf.passes.fuse_gate import fuse_gates
from edgexf.passes.fuse_rms_norm import fuse_rms_norms
from edgexf.passes.fuse_scan import fuse_scans
from edgexf.passes.optimize import optimize
from edgexf.passes.select_kernels import KernelSelection, select_kernels
from edgexf.passes.widen_weights import widen_weights
from edgexf.run.host import run_host
from edgexf.run.vectors import TestVectors, compare, encode_inputs
from edgexf.targets.arena import check_arena_mode
from edgexf.targets.boards import Board, load_board
from edgexf.targets.placement import (
    breakdown,
    check_fits_estimate,
    check_mode,
    place_weights,
    weights_flash,
)
from edgexf.targets.size import elf_sizes
from edgexf.targets.stack import stack_entry
from edgexf.targets.toolchain import (
    Firmware,
    build_firmware,
    build_host,
    compile_model_objects,
    find_tool,
    package_flags,
)

DEFAULT_VECTORS = 16  # random test vectors when no data set is given


@dataclass(frozen=True)
class MemoryOptions:
    """How memory is planned (edgexf/memory/): all techniques on by default."""

    fusion: bool = (
        True  # recognized layers (passes/optimize.py), operator integration, patch streaming (fuse.py)
    )
    inplace: bool = True  # token overwriting
    exact_time_s: float = EXACT_TIME_S
    print_plan: bool = False  # the ASCII timeline, on the log


def compile_model(model: str | Path, board_name: str, out_dir: Path, **options) -> dict:
    """Compiles `model` for `board_name` into the build directory out_dir, atomically: the build is made
    in a staging folder that replaces out_dir only when every step succeeded (build_output.py), so a
    failed or interrupted compile leaves the previous build as it was. options: see _compile_into."""
    with staged_output(out_dir) as staging:
        return _compile_into(model, board_name, staging, **options)


def _compile_into(
    model: str | Path,
    board_name: str,
    out_dir: Path,
    *,
    test_data: Path | None = None,
    max_vectors: int | None = None,
    name: str | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
    quant: QuantOptions | None = None,
    memory: MemoryOptions | None = None,
    kernels: str = "auto",
    dsp_weights: str = "auto",
    lowrank: float | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    weights: str = "auto",
    onnx_step: StepOptions | None = None,
    arena: str = "internal",
    prefix: str | None = None,
) -> dict:
    """weights: where the weights go, the internal flash or the board's external flash (--weights: auto,
    internal, external; edgexf/targets/placement.py). arena: --arena, the internal SRAM or the board's
    external RAM (edgexf/targets/arena.py). onnx_step: an ONNX step model's --steps, --state. prefix:
    --prefix, the model's names (kws_run, KWS_ARENA_BYTES, kws_model.h: codegen/names.py)."""
    t0 = time.perf_counter()
    out_dir, mem_opts = Path(out_dir), memory or MemoryOptions()
    step = _Steps(log, _Steps.TOTAL + (quant is not None))

    step("checking board and tools")
    board, arena_place = _check_target(board_name, weights, arena)  # fail before any work
    names = Names(prefix)  # a bad --prefix too

    step(f"loading {model}")
    # load: the frontend's float Graph. input_shapes: ONNX symbolic dimensions; an ONNX step model's
    # steps, if not given: the test data's
    loaded = load_model(model, name, input_shapes, (onnx_step or StepOptions()).with_data(test_data))
    check_inputs(loaded, test_data, quant and quant.calibration, log)  # before any work: weights, data

    step("optimizing the graph")
    g = optimize(loaded.graph, recognize=mem_opts.fusion)  # fold constants, recognize layers (all frontends)
    lowrank_report = None
    if lowrank is not None:  # low-rank: before quantizing, so the factors get their own int8 scales
        g, lowrank_report = lowrank_step(g, lowrank, quant.calibration if quant else test_data, log)
    float_graph = g
    if quant is not None:
        step(f"quantizing to {quant.dtype} (calibration: {quant.calibration})")
    g, quant_report = _quantize(g, quant, loaded, model, test_data, log)  # quantize

    step("integrating ops and planning memory")
    techniques = compare_techniques(g, min(mem_opts.exact_time_s, 1.0))  # what each technique saves
    # fuse, select kernels, widen, plan: the graph as generated and its arena
    built = plan_for_board(g, board, kernels, mem_opts, dsp_weights, weights)
    g, plan = built.graph, built.plan
    if mem_opts.print_plan:
        log(timeline_text(plan, g))
    # place: internal flash, or the external tier; checked before code generation, to fail fast
    placement = place_weights(weight_bytes(g), board, weights)
    check_fits_estimate(board, g, plan, placement, arena_place)
    if placement.external:
        log(f"  {placement.describe()}")
    if arena_place.tier is not None:
        log(f"  arena: {plan.arena_bytes:,} B in {arena_place.describe()} (--arena external)")

    step("generating C")
    meta = _source_meta(command, model, board, placement, arena_place)
    meta["target_flags"] = package_flags(board)  # model/CMakeLists.txt compiles as the firmware does
    # generate; model.h states edgexf_run's stack, measured on the generated code (refused past the
    # board's stack: targets/stack.py)
    stack = partial(stack_entry, board)
    sources = generate_c(g, plan, out_dir / "model", meta, placement.sections(), stack, names)

    step("building for the host (gcc)")
    host_exe = build_host(sources.dir, out_dir / "host")  # build

    step(f"building firmware for {board.name} (arm-none-eabi-gcc): test-vector runner, evaluation firmware")
    inputs, outputs_io = [io_entry(g, n) for n in g.inputs], [io_entry(g, n) for n in g.outputs]
    info = model_info(  # MODEL_INFO: what the evaluation firmware tells `edgexf eval` about the model
        name=g.name, model_hash=model_hash(sources.dir), board=board.name, kernels=built.kernel_set,
        arena_bytes=plan.arena_bytes, inputs=inputs, outputs=outputs_io, state_bytes=plan.states.bytes,
    )  # fmt: skip
    try:
        firmware, emulated, evals = _build_firmware(
            board, sources.dir, out_dir, info, bool(placement.external), arena_place.tier is not None
        )
    except DoesNotFitError as e:
        model = breakdown(sources.weights_bytes, plan, g, placement, arena_place)
        raise DoesNotFitError(f"{e}\n{model}") from None
    for note in evals.notes:
        log(f"  note: {note}")

    step(f"making test vectors ({loaded.runtime} and the IR reference)")
    vectors = _test_vectors(loaded, g, test_data, max_vectors)
    vectors.save(out_dir)

    step("checking the host build against them")
    approximation = f"low-rank decomposition (--lowrank {lowrank})" if lowrank is not None else ""
    same_file = loaded.quant is not None  # an int8 model file, which the original runs as it is
    host_check, host_ns = _check_host(host_exe, g, vectors, inputs[0], outputs_io[0], approximation, loaded)

    files = _files(out_dir, sources.dir, host_exe, firmware, emulated, evals)
    # with --quantize: the float32 model's arena, planned as its own build's would be (for the report)
    float_plan = _float_plan(float_graph, mem_opts) if quant_report is not None else None
    report = compile_report(  # report.json: edgexf/compile_report.py
        CompiledBuild(
            model=model, command=meta["command"], loaded=loaded, float_graph=float_graph, graph=g,
            plan=plan, float_plan=float_plan, fused=built.fused, techniques=techniques,
            mem_opts=mem_opts, kernels=(kernels, built.kernel_set, built.selection), board=board,
            sources=sources, model_hash=info["hash"], files=files,
            eval_info={"board_build": evals.board is not None, "why_not": evals.why_not},
            memory=elf_sizes(firmware.elf, board), placement=placement, arena_place=arena_place,
            inputs=inputs, outputs=outputs_io, approximation=approximation, same_file=same_file,
            host_check=host_check, host_ns=host_ns, seconds=time.perf_counter() - t0,
            lowrank_report=lowrank_report, quant_report=quant_report,
        )
    )  # fmt: skip
    write_build_files(out_dir, report, plan, g)
    return report


class BoardGraph(NamedTuple):
    """The graph as it will be generated for a board, and its arena (plan_for_board)."""

    graph: Graph
    fused: dict  # fused op type -> count
    kernel_set: str  # "dsp" or "portable"
    selection: KernelSelection
    plan: MemoryPlan


def plan_for_board(
    g: Graph,
    board: Board,
    kernels: str,
    mem_opts: MemoryOptions,
    dsp_weights: str = "auto",
    weights: str = "auto",
) -> BoardGraph:
    """The graph as it will be generated for `board` and its arena: compile_model's stages from fusion to
    the memory plan, and what `edgexf fit` measures each candidate with. weights: --weights, which flash
    may hold them (what --dsp-weights auto weighs the widening against)."""
    g, fused = fuse(g) if mem_opts.fusion else (g, {})  # fuse: attention, MLP, LN+linear, patches
    g, scans = fuse_scans(g) if mem_opts.fusion else (g, 0)  # Mamba's step: its scan chain as one op
    g, convs = fuse_conv_steps(g) if mem_opts.fusion else (g, 0)  # its causal conv on the conv state
    g, gates = fuse_gates(g) if mem_opts.fusion else (g, 0)  # its int8 output gate y * SiLU(z)
    g, norms = fuse_rms_norms(g) if mem_opts.fusion else (g, 0)  # its RMSNorms' integer chains
    steps = {"selective_scan": scans, "conv_step": convs, "q_gate": gates, "q_rms_norm": norms}
    fused = fused | {k: v for k, v in steps.items() if v}
    kernel_set = resolve_kernels(kernels, board.core)  # select: before planning (fast ones use scratch)
    # on a Helium core the int8 linear layers run MVE kernels, which take int8 weights
    mve = has_mve(board.core)
    g, selection = select_kernels(g, kernel_set, dsp_weights, *weights_flash(board, weights), mve=mve)
    g = widen_weights(g)  # widen: the int16 weights and requantization terms chosen, as constants
    plan = plan_memory(g, mem_opts.inplace, exact_time_s=mem_opts.exact_time_s)  # plan: verified
    return BoardGraph(g, fused, kernel_set, selection, plan)


class _Steps:
    """Numbered progress lines: "[3/9] optimizing the graph"."""

    TOTAL = 9  # the step() calls in compile_model (one more when quantizing)

    def __init__(self, log: Callable[[str], None], total: int = TOTAL):
        self.log, self.n, self.total = log, 0, total

    def __call__(self, what: str) -> None:
        self.n += 1
        self.log(f"[{self.n}/{self.total}] {what}")


def _build_firmware(
    board: Board, model_dir: Path, out_dir: Path, info: dict, external_weights: bool, external_arena: bool
) -> tuple[Firmware, Firmware | None, EvalBuilds]:
    """The runner for the board and its emulator (firmware/, emulator/) and the evaluation firmware for
    both (eval/board/, eval/emulator/). The model, mostly weights, is compiled once (firmware/obj/) and
    linked four times, side by side. A runner that does not fit raises DoesNotFitError; an evaluation
    firmware that does not fit is left out, and EvalBuilds says why. external_weights: the placement
    put weights in the external flash, external_arena the arena in the external RAM, so the board's
    evaluation firmware sets them up first."""
    objects = compile_model_objects(board, model_dir, out_dir / "firmware" / "obj")
    with ThreadPoolExecutor(max_workers=3) as pool:
        runner = pool.submit(build_firmware, board, model_dir, out_dir / "firmware", False, (), objects)
        runner_emu = (
            pool.submit(build_firmware, board, model_dir, out_dir / "emulator", True, (), objects)
            if board.emulator
            else None
        )
        evals = pool.submit(
            build_eval_builds, board, model_dir, out_dir / "eval", info, objects, external_weights,
            external_arena,
        )  # fmt: skip
        return runner.result(), runner_emu.result() if runner_emu else None, evals.result()


def _files(out_dir: Path, sources: Path, host_exe: Path, firmware, emulated, evals: EvalBuilds) -> dict:
    """report.json's "files": what the build made, relative to the build directory."""
    return {
        "sources": str(sources.relative_to(out_dir)),
        "host": str(host_exe.relative_to(out_dir)),
        "firmware_elf": str(firmware.elf.relative_to(out_dir)),
        "firmware_bin": str(firmware.bin.relative_to(out_dir)),
        "firmware_hex": str(firmware.hex.relative_to(out_dir)),
        "emulator_elf": str(emulated.elf.relative_to(out_dir)) if emulated else None,
        **evals.files(out_dir),
        "test_vectors": "test_vectors.npz",
    }


def _float_plan(float_graph: Graph, mem_opts: MemoryOptions) -> MemoryPlan:
    g = fuse(float_graph)[0] if mem_opts.fusion else float_graph
    return plan_memory(g, mem_opts.inplace, exact_time_s=mem_opts.exact_time_s)


def _check_target(board_name: str, weights: str, arena: str):
    """The board, and where its arena goes; refuses a bad board name, --weights external or --arena
    external for a board without that memory, and a missing tool, before any work."""
    board = load_board(board_name)
    check_mode(board, weights)
    arena_place = check_arena_mode(board, arena)
    for tool in ("gcc", "arm-none-eabi-gcc", "qemu-system-arm"):
        find_tool(tool)
    return board, arena_place


def _quantize(g: Graph, quant: QuantOptions | None, loaded: LoadedModel, model, test_data, log):
    """(graph, quantization report): --quantize's calibration, a pre-quantized model file's own scales
    (an int8 .tflite, no calibration), or the float graph as it is (report None)."""
    if quant is not None:
        return quantize_step(g, quant, log)
    if loaded.quant is not None:
        from edgexf.compress.fixed_qparams import quantize_from_file

        log("  int8 with the model file's own quantization parameters")
        return quantize_from_file(g, loaded.quant, str(model), test_data)
    return g, None


def _source_meta(command: str, model, board: Board, placement, arena_place) -> dict:
    """What the generated files' headers say: the command, the source, the board, where the weights and
    the arena are when not in the internal memories."""
    meta = {"command": command or "edgexf compile", "source": str(model), "board": board.name}
    if arena_place.tier is not None:
        meta |= {"arena_section": arena_place.section, "arena_memory": arena_place.describe()}
    if placement.tier is not None:
        meta["weights_memory"] = placement.tier.describe()
    return meta


def _check_host(host_exe: Path, g: Graph, vectors: TestVectors, inp: dict, out: dict, approximation, loaded):
    """(comparison, median ns per inference): the host build on the test vectors against the reference
    and the original; a disagreement is a MismatchError."""
    out_bytes = g.tensors[g.outputs[0]].nbytes
    result = run_host(host_exe, encode_inputs(vectors.x, inp).tobytes(), out_bytes, timeout=300)
    outputs = np.frombuffer(result.outputs, vectors.reference.dtype).reshape(vectors.reference.shape)
    check = compare(outputs, vectors, out, approximation, loaded.runtime, loaded.quant is not None)
    if not check.ok:
        raise MismatchError(f"the host build disagrees with the reference:\n{check.describe()}")
    return check, float(np.median(result.ticks)) if result.ticks else None


def _test_vectors(loaded: LoadedModel, g, test_data: Path | None, max_vectors: int | None) -> TestVectors:
    shape = g.io_shape(g.inputs[0])
    labels = None
    if test_data is not None:
        x, labels = load_npz(test_data)
        x = as_samples(x, shape, f"{test_data} (array x)")
    else:
        rng = np.random.default_rng(0)
        x = np.concatenate(
            [
                loaded.example_input.reshape((1,) + shape).astype(np.float32),
                rng.standard_normal((DEFAULT_VECTORS - 1,) + shape, dtype=np.float32),
            ]
        )
    if max_vectors is not None:
        x = x[:max_vectors]
        labels = labels[:max_vectors] if labels is not None else None
    expected = loaded.original(x).reshape((len(x),) + g.tensors[g.outputs[0]].shape)
    inp = g.tensors[g.inputs[0]]
    feed = quantize(x, inp.quant, inp.dtype) if inp.quant is not None else x
    reference = run_reference(g, {g.inputs[0]: feed})[g.outputs[0]]
    return TestVectors(x, expected.astype(np.float32), reference, labels)

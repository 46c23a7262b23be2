"""The compiler, start to end, as one readable list of steps (`edgexf compile` calls compile_model).

Each step's output is a checked stage: a float Graph (verified by every pass), a MemoryPlan
(verified when planned), GeneratedSources (kernels checked to exist), Firmware (linked, sized).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from edgexf import __version__
from edgexf.build_output import staged_output
from edgexf.codegen.generate import count_params, generate_c, state_bytes, weight_bytes
from edgexf.compile_inputs import check_inputs
from edgexf.compress.lowrank import lowrank_summary
from edgexf.compress.qmath import quantize
from edgexf.compress.steps import QuantOptions, lowrank_step, quantize_step
from edgexf.datasets import load_npz
from edgexf.errors import DoesNotFitError, MismatchError
from edgexf.eval.model_info import model_hash, model_info
from edgexf.frontends import LoadedModel, load_model
from edgexf.frontends.onnx_streaming import StepOptions
from edgexf.frontends.unrolled import unrolled_report
from edgexf.ir.graph import Graph
from edgexf.ir.kernel_choice import resolve as resolve_kernels
from edgexf.ir.ops import op_macs
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import EXACT_TIME_S, plan_memory
from edgexf.memory.show import timeline_text, write_plan_picture
from edgexf.memory.techniques import compare_techniques
from edgexf.passes.fuse import fuse
from edgexf.passes.optimize import optimize
from edgexf.passes.select_kernels import select_kernels
from edgexf.report_figures import float_figures, io_entry, kernels_entry, streaming_figures
from edgexf.run.build_dir import REPORT_FILE
from edgexf.run.host import run_host
from edgexf.run.vectors import TestVectors, as_samples, compare, encode_inputs
from edgexf.targets.arena import check_arena_mode
from edgexf.targets.boards import Board, load_board
from edgexf.targets.eval_build import EvalBuilds, build_eval_builds
from edgexf.targets.placement import (
    breakdown,
    check_fits_estimate,
    check_mode,
    code_reserve,
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
) -> dict:
    """weights: where the weights go, the internal flash or the board's external flash (--weights: auto,
    internal, external; edgexf/targets/placement.py). arena: --arena, the internal SRAM or the board's
    external RAM (edgexf/targets/arena.py). onnx_step: an ONNX step model's --steps, --state."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    step = _Steps(log, _Steps.TOTAL + (quant is not None))

    step("checking board and tools")
    board = load_board(board_name)  # fail before any work on a bad board name
    check_mode(board, weights)  # and on --weights external for a board without external flash
    arena_place = check_arena_mode(board, arena)  # and --arena external for one without external RAM
    for tool in ("gcc", "arm-none-eabi-gcc", "qemu-system-arm"):
        find_tool(tool)

    step(f"loading {model}")
    # input_shapes: ONNX symbolic dimensions; an ONNX step model's steps, if not given: the test data's
    loaded = load_model(model, name, input_shapes, (onnx_step or StepOptions()).with_data(test_data))
    check_inputs(loaded, test_data, quant and quant.calibration, log)  # before any work: weights, data

    step("optimizing the graph")
    # constant results go to flash, not the arena; layers written op by op become one op (all frontends)
    mem_opts = memory or MemoryOptions()
    g = optimize(loaded.graph, recognize=mem_opts.fusion)
    lowrank_report = None
    if lowrank is not None:  # before quantizing: the factors get their own int8 scales
        g, lowrank_report = lowrank_step(g, lowrank, quant.calibration if quant else test_data, log)
    float_graph, quant_report = g, None
    if quant is not None:
        step(f"quantizing to {quant.dtype} (calibration: {quant.calibration})")
        g, quant_report = quantize_step(g, quant, log)
    elif loaded.quant is not None:  # a pre-quantized model (int8 .tflite): its own scales, no calibration
        from edgexf.compress.fixed_qparams import quantize_from_file

        log("  int8 with the model file's own quantization parameters")
        g, quant_report = quantize_from_file(g, loaded.quant, str(model), test_data)

    step("integrating ops and planning memory")
    techniques = compare_techniques(g, min(mem_opts.exact_time_s, 1.0))  # what each technique saves
    g, fused, kernel_set, selection, plan = plan_for_board(g, board, kernels, mem_opts, dsp_weights, weights)
    if mem_opts.print_plan:
        log(timeline_text(plan, g))
    # internal flash, or the external tier; the reserve: code and model.c's tables, which stay inside
    placement = place_weights(weight_bytes(g), board, weights, code_reserve(g))
    check_fits_estimate(board, g, plan, placement, arena_place)  # before code generation: fail fast
    if placement.external:
        log(f"  {placement.describe()}")
    if arena_place.tier is not None:
        log(f"  arena: {plan.arena_bytes:,} B in {arena_place.describe()} (--arena external)")
        meta_arena = {"arena_section": arena_place.section, "arena_memory": arena_place.describe()}

    step("generating C")
    meta = {"command": command or "edgexf compile", "source": str(model), "board": board.name}
    meta |= meta_arena if arena_place.tier is not None else {}
    if placement.tier is not None:
        meta["weights_memory"] = placement.tier.describe()
    meta["target_flags"] = package_flags(board)  # model/CMakeLists.txt compiles as the firmware does
    # model.h states edgexf_run's stack, measured on the generated code (refused past the board's stack)
    sources = generate_c(g, plan, out_dir / "model", meta, placement.sections(), partial(stack_entry, board))

    step("building for the host (gcc)")
    host_exe = build_host(sources.dir, out_dir / "host")

    step(f"building firmware for {board.name} (arm-none-eabi-gcc): test-vector runner, evaluation firmware")
    inputs, outputs_io = [io_entry(g, n) for n in g.inputs], [io_entry(g, n) for n in g.outputs]
    info = model_info(  # MODEL_INFO: what the evaluation firmware tells `edgexf eval` about the model
        name=g.name, model_hash=model_hash(sources.dir), board=board.name, kernels=kernel_set,
        arena_bytes=plan.arena_bytes, inputs=inputs, outputs=outputs_io, state_bytes=state_bytes(g),
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
    memory = elf_sizes(firmware.elf, board)

    step(f"making test vectors ({loaded.runtime} and the IR reference)")
    vectors = _test_vectors(loaded, g, test_data, max_vectors)
    vectors.save(out_dir)

    step("checking the host build against them")
    out_bytes = g.tensors[g.outputs[0]].nbytes
    result = run_host(host_exe, encode_inputs(vectors.x, inputs[0]).tobytes(), out_bytes, timeout=300)
    outputs = np.frombuffer(result.outputs, vectors.reference.dtype).reshape(vectors.reference.shape)
    approximation = f"low-rank decomposition (--lowrank {lowrank})" if lowrank is not None else ""
    same_file = loaded.quant is not None  # an int8 model file, which the original runs as it is
    host_check = compare(outputs, vectors, outputs_io[0], approximation, loaded.runtime, same_file)
    if not host_check.ok:
        raise MismatchError(f"the host build disagrees with the reference:\n{host_check.describe()}")

    steps = g.steps or 1  # a streaming model runs its ops once per time step
    report = {
        "edgexf_version": __version__,
        "command": meta["command"],
        "model": g.name,
        # sha256 of the generated sources: the evaluation firmware's MODEL_INFO carries it too
        "model_hash": info["hash"],
        "source": _absolute_source(model),  # absolute, so `edgexf eval` can reload it from anywhere
        "board": board.name,
        "params": count_params(float_graph),  # the model's; an int8 graph adds multipliers and tables
        "macs": sum(op_macs(g, op) for op in g.ops) * steps,
        # the generated graph's ops in execution order: index i is model.c's "op i" and EDGEXF_PROFILE_OP(i);
        # MACs per inference (a streaming model's op runs once per step)
        "ops": [
            {"index": i, "name": op.name, "type": op.type, "macs": op_macs(g, op) * steps}
            for i, op in enumerate(g.ops)
        ],
        "kernels": kernels_entry(kernels, kernel_set, selection),
        "weights_bytes": sources.weights_bytes,
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "activations_sum_bytes": techniques[0]["activations_sum_bytes"],  # the unfused graph's
        "planner": plan.planner,
        "memory": {
            "planners": plan.results,
            "lower_bound_bytes": plan.lower_bound_bytes,
            "fused_ops": fused,
            "token_overwriting": mem_opts.inplace,
            "techniques": techniques,
            "input_in_arena": True,
            "picture": "memory_plan.png",
            "timeline": "memory_plan.txt",
        },
        "flash_bytes": memory.flash_bytes,
        "ram_bytes": memory.ram_bytes,
        "flash_capacity_bytes": board.flash.size,
        "ram_capacity_bytes": board.ram.size,
        "stack_bytes": board.stack_bytes,
        "stack": sources.stack,  # edgexf_run's measured worst case against stack_bytes (targets/stack.py)
        # each memory (internal flash, RAM, external ones) against its capacity, from the board's ELF
        "memory_tiers": [tier.to_dict() for tier in memory.tiers],
        "weights_placement": placement.to_dict(),
        "arena_placement": arena_place.to_dict(),
        "sections": memory.sections,
        "inputs": inputs,
        "outputs": outputs_io,
        "files": {
            "sources": str(sources.dir.relative_to(out_dir)),
            "host": str(host_exe.relative_to(out_dir)),
            "firmware_elf": str(firmware.elf.relative_to(out_dir)),
            "firmware_bin": str(firmware.bin.relative_to(out_dir)),
            "firmware_hex": str(firmware.hex.relative_to(out_dir)),
            "emulator_elf": str(emulated.elf.relative_to(out_dir)) if emulated else None,
            **evals.files(out_dir),
            "test_vectors": "test_vectors.npz",
        },
        "eval": {"board_build": evals.board is not None, "why_not": evals.why_not},
        "approximation": approximation or None,  # besides quantization: why outputs differ from PyTorch
        "original": loaded.runtime,  # what computed the test vectors' expected outputs
        "original_int8": same_file,  # it ran the same int8 file: compared in output LSB
        "host_check": host_check.to_dict(),
        "host_ns_per_inference": float(np.median(result.ticks)) if result.ticks else None,
        "compile_seconds": round(time.perf_counter() - t0, 2),
    }
    # factorized layers: by --lowrank here, or in the PyTorch model (edgexf fit); None when neither
    report["lowrank"] = lowrank_report or lowrank_summary(loaded.graph)
    report["streaming"] = streaming_figures(g, inputs[0]) if g.is_streaming else None
    report["unrolled"] = unrolled_report(loaded.graph)  # a whole sequence in one graph: it does not stream
    if quant_report is not None:
        report["quantization"] = quant_report
        report["float"] = float_figures(float_graph, mem_opts)
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "memory_plan.json").write_text(json.dumps(plan.to_dict(), indent=1) + "\n")
    (out_dir / "memory_plan.txt").write_text(timeline_text(plan, g) + "\n")
    write_plan_picture(plan, g, out_dir / "memory_plan.png")
    return report


def plan_for_board(
    g: Graph,
    board: Board,
    kernels: str,
    mem_opts: MemoryOptions,
    dsp_weights: str = "auto",
    weights: str = "auto",
) -> tuple:
    """(graph, fused ops, kernel set, KernelSelection, memory plan): the graph as it will be generated
    for `board` and its arena. compile_model's step, and what `edgexf fit` measures each candidate with.
    weights: --weights, which flash may hold them (what --dsp-weights auto weighs the widening against)."""
    g, fused = fuse(g) if mem_opts.fusion else (g, {})  # row-at-a-time attention, MLP, LN+linear, patches
    kernel_set = resolve_kernels(kernels, board.core)  # before planning: fast kernels need scratch
    g, selection = select_kernels(g, kernel_set, dsp_weights, *weights_flash(board, weights))
    plan = plan_memory(g, mem_opts.inplace, exact_time_s=mem_opts.exact_time_s)  # every planner, verified
    return g, fused, kernel_set, selection, plan


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


def _absolute_source(model: str | Path) -> str:
    """The model as given, with its file made absolute: FILE.py:FUNCTION or a .pt2 path."""
    text = str(model)
    if ".py:" in text:
        path, func = text.rsplit(":", 1)
        return f"{Path(path).resolve()}:{func}"
    return str(Path(text).resolve())


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

"""report.json of a build: assembled from what compile's stages produced (edgexf/pipeline.py), and
written with the memory plan's files. Nothing here computes a model figure a stage did not: it names
and lays out the numbers (docs: the README's report.json row; readers check it: run/report_schema.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgexf import __version__
from edgexf.compress.lowrank import lowrank_summary
from edgexf.frontends import LoadedModel
from edgexf.frontends.unrolled import unrolled_report
from edgexf.ir.graph import Graph
from edgexf.ir.ops import count_params, op_macs
from edgexf.memory.plan import MemoryPlan
from edgexf.memory.show import timeline_text, write_plan_picture
from edgexf.run.build_dir import REPORT_FILE
from edgexf.schemas import REPORT_SCHEMA_VERSION, report_problems


@dataclass(frozen=True)
class CompiledBuild:
    """What compile's stages produced, for the report (each field: the stage that made it)."""

    model: str | Path  # as given on the command line
    command: str
    loaded: LoadedModel  # load
    float_graph: Graph  # after optimize and --lowrank: the float32 model as built or quantized
    graph: Graph  # as generated: quantized, fused, kernels selected, widened
    plan: MemoryPlan  # plan
    float_plan: MemoryPlan | None  # with --quantize: the float32 model planned as its own build would be
    fused: dict  # fuse: fused op type -> count
    techniques: list[dict]  # what each memory technique saves (memory_techniques.py)
    mem_opts: object  # pipeline.MemoryOptions
    kernels: tuple[str, str, object]  # (--kernels, the kernel set used, passes.select_kernels' selection)
    board: object  # targets.boards.Board
    sources: object  # codegen.generate.GeneratedSources
    model_hash: str
    files: dict[str, str | None]  # build: paths relative to the build directory
    eval_info: dict  # the evaluation firmware's board build and why not
    memory: object  # targets.size.ElfSizes of the board's runner
    placement: object  # targets.placement.Placement of the weights
    arena_place: object  # targets.arena.ArenaPlacement
    inputs: list[dict]  # io_entry of each
    outputs: list[dict]
    approximation: str  # besides quantization: why outputs differ from the original
    same_file: bool  # the original ran the same int8 file
    host_check: object  # run.vectors comparison of the host build with the test vectors
    host_ns: float | None  # median host time per inference
    seconds: float
    lowrank_report: dict | None
    quant_report: dict | None


def io_entry(g: Graph, name: str) -> dict:
    """report.json's entry for an input or output, as edgexf_run() takes it (a streaming model's input:
    the whole sequence)."""
    t, shape = g.tensors[name], g.io_shape(name)
    io = {"name": name, "shape": list(shape), "dtype": t.dtype, "bytes": g.io_bytes(name)}
    return io | ({"quant": t.quant.to_dict()} if t.quant is not None else {})


def compile_report(b: CompiledBuild) -> dict:
    g, plan, board = b.graph, b.plan, b.board
    steps = g.steps or 1  # a streaming model runs its ops once per time step
    requested, used, selection = b.kernels
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,  # edgexf/schemas/report.schema.json, docs/report.md
        "edgexf_version": __version__,
        "command": b.command,
        "model": g.name,
        "model_hash": b.model_hash,  # sha256 of the generated sources (the eval firmware's MODEL_INFO)
        "source": _absolute_source(b.model),  # absolute, so `edgexf eval` can reload it from anywhere
        "board": board.name,
        "params": count_params(b.float_graph),  # the model's; an int8 graph adds multipliers and tables
        "macs": sum(op_macs(g, op) for op in g.ops) * steps,
        # the generated graph's ops in execution order: index i is model.c's "op i" and EDGEXF_PROFILE_OP(i);
        # MACs per inference (a streaming model's op runs once per step)
        "ops": [
            {"index": i, "name": op.name, "type": op.type, "macs": op_macs(g, op) * steps}
            for i, op in enumerate(g.ops)
        ],
        "kernels": {  # the dsp linear weights: int8, or widened to int16 (passes/select_kernels.py says why)
            "requested": requested,
            "used": used,
            "dsp_ops": selection.dsp_ops,
            "dsp_weights": selection.weights,
            "wide_ops": selection.wide_ops,
            "wide_extra_bytes": selection.wide_extra_bytes,
            "dsp_weights_reason": selection.reason,
        },
        "weights_bytes": b.sources.weights_bytes,
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "activations_sum_bytes": b.techniques[0]["activations_sum_bytes"],  # the unfused graph's
        "planner": plan.planner,
        "memory": {
            "planners": plan.results,
            "lower_bound_bytes": plan.lower_bound_bytes,
            "fused_ops": b.fused,
            "token_overwriting": b.mem_opts.inplace,
            "techniques": b.techniques,
            "input_in_arena": True,
            "picture": "memory_plan.png",
            "timeline": "memory_plan.txt",
        },
        "flash_bytes": b.memory.flash_bytes,
        "ram_bytes": b.memory.ram_bytes,
        "flash_capacity_bytes": board.flash.size,
        "ram_capacity_bytes": board.ram.size,
        "stack_bytes": board.stack_bytes,
        "stack": b.sources.stack,  # edgexf_run's measured worst case against stack_bytes (targets/stack.py)
        # each memory (internal flash, RAM, external ones) against its capacity, from the board's ELF
        "memory_tiers": [tier.to_dict() for tier in b.memory.tiers],
        "weights_placement": b.placement.to_dict(),
        "arena_placement": b.arena_place.to_dict(),
        "sections": b.memory.sections,
        "inputs": b.inputs,
        "outputs": b.outputs,
        "files": b.files,
        "eval": b.eval_info,
        "approximation": b.approximation or None,  # besides quantization: why outputs differ from PyTorch
        "original": b.loaded.runtime,  # what computed the test vectors' expected outputs
        "original_int8": b.same_file,  # it ran the same int8 file: compared in output LSB
        "host_check": b.host_check.to_dict(),
        "host_ns_per_inference": b.host_ns,
        "compile_seconds": round(b.seconds, 2),
    }
    # factorized layers: by --lowrank here, or in the PyTorch model (edgexf fit); None when neither
    report["lowrank"] = b.lowrank_report or lowrank_summary(b.loaded.graph)
    report["streaming"] = _streaming(g, plan, b.inputs[0]) if g.is_streaming else None
    report["unrolled"] = unrolled_report(b.loaded.graph)  # a whole sequence in one graph: it does not stream
    if b.quant_report is not None:
        report["quantization"] = b.quant_report
        report["float"] = _float(b.float_graph, b.float_plan)
    return report


def write_build_files(out_dir: Path, report: dict, plan: MemoryPlan, g: Graph) -> None:
    """report.json, checked against its schema, and the memory plan's files (json, the ASCII timeline,
    the picture). A report that breaks the schema is a bug in edgexf, not in the user's model."""
    problems = report_problems(report)
    if problems:
        raise RuntimeError("report.json breaks edgexf/schemas/report.schema.json:\n" + "\n".join(problems))
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "memory_plan.json").write_text(json.dumps(plan.to_dict(), indent=1) + "\n")
    (out_dir / "memory_plan.txt").write_text(timeline_text(plan, g) + "\n")
    write_plan_picture(plan, g, out_dir / "memory_plan.png")


def _float(g: Graph, plan: MemoryPlan) -> dict:
    """The float32 model's sizes beside an int8 build (its firmware is not built; flash is weights only)."""
    return {
        "params": count_params(g),
        "weights_bytes": sum(t.nbytes for t in g.constants()),
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "activations_sum_bytes": plan.naive_bytes,
    }


def _streaming(g: Graph, plan: MemoryPlan, sequence: dict) -> dict:
    """report.json's "streaming": a recurrent model's steps and its persistent state, apart from the arena."""
    return {
        "steps": g.steps,
        "state_bytes": plan.states.bytes,
        "states": [
            {"name": s, "next": n, "shape": list(g.tensors[s].shape), "bytes": g.tensors[s].nbytes}
            for s, n in g.states
        ],  # fmt: skip
        "macs_per_step": sum(op_macs(g, op) for op in g.ops),
        "step_input_bytes": g.tensors[g.inputs[0]].nbytes,
        "sequence_input_bytes": sequence["bytes"],
    }


def _absolute_source(model: str | Path) -> str:
    """The model as given, with its file made absolute: FILE.py:FUNCTION or a .pt2 path."""
    text = str(model)
    if ".py:" in text:
        path, func = text.rsplit(":", 1)
        return f"{Path(path).resolve()}:{func}"
    return str(Path(text).resolve())

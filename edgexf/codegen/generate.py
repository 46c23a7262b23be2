"""Render the model's C sources (model.h, model.c, weights.c) from the graph and its memory plan.

All numbers are worked out here; the Jinja2 templates in codegen_templates/ only print them. The
output directory also gets the kernel library (firmware/kernels/), so it is a self-contained C
library a user can drop into their own firmware.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from edgexf import __version__
from edgexf.codegen.kernel_version import copy_kernels, kernel_version
from edgexf.codegen.kernels import EmitContext, c_float, c_ident, emit
from edgexf.codegen.names import Names
from edgexf.errors import UnsupportedOpError
from edgexf.ir.graph import Graph, GraphError, Tensor
from edgexf.ir.kernel_choice import uses_wide
from edgexf.ir.ops import op_macs
from edgexf.memory.plan import MemoryPlan
from edgexf.resources import templates_dir

CTYPES = {"float32": "float", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "uint8": "uint8_t"}
DTYPE_CODES = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "uint8": 4}


@dataclass(frozen=True)
class GeneratedSources:
    """A generated C library: verified to call only kernels the library declares."""

    dir: Path
    files: tuple[Path, ...]
    arena_bytes: int
    weights_bytes: int
    kernels_used: tuple[str, ...]
    stack: dict | None = None  # edgexf_run's measured stack (targets/stack.py), when generate_c was given one

    def verify(self) -> GeneratedSources:
        declared = set(re.findall(r"\b(exf_\w+)\s*\(", (self.dir / "edgexf_kernels.h").read_text()))
        missing = sorted(set(self.kernels_used) - declared)
        if missing:
            raise UnsupportedOpError(f"generated code calls kernels the library lacks: {', '.join(missing)}")
        for f in self.files:
            if not f.is_file() or f.stat().st_size == 0:
                raise FileNotFoundError(f"code generation left {f} missing or empty")
        return self


def _format_values(t: Tensor, per_line: int) -> list[str]:
    flat = t.data.reshape(-1)
    if t.dtype == "float32":
        items = [c_float(v) for v in flat.tolist()]
    else:
        items = [str(int(v)) for v in flat.tolist()]
    return [", ".join(items[i : i + per_line]) + "," for i in range(0, len(items), per_line)]


def weight_bytes(graph: Graph) -> dict[str, int]:
    """Each constant's bytes in weights.c (a widened one's int16 pairs): what is placed in a memory."""
    return {t.name: t.nbytes for t in graph.constants()}


def _weight_entry(t: Tensor, cname: str, section: str | None) -> dict:
    """weights.c's array of a constant. section: an output section of the linker script (an external
    memory's), or None for the default (.rodata, internal flash)."""
    described = f"{t.dtype}{list(t.shape)}"
    if t.stored is not None:  # passes/widen_weights.py
        described = f"int16 pairs of int8{list(t.shape)} (quant_pairs.h layout, for the _w16 kernels)"
        t = Tensor(t.name, t.stored.shape, "int16", data=t.stored)
    # one input section per array (as -fdata-sections gives the others), so --gc-sections drops unused ones
    attributes = "aligned(16)" + (f', section("{section}.{cname}")' if section else "")
    return {
        "name": t.name,
        "cname": cname,
        "ctype": CTYPES[t.dtype],
        "described": described + (f", in section {section}" if section else ""),
        "attributes": attributes,
        "numel": max(1, t.numel),
        "bytes": t.nbytes,
        "lines": _format_values(t, 8 if t.dtype == "float32" else 16),
    }


def _io(graph: Graph, names: list[str], pointer) -> list[dict]:
    """Inputs and outputs as the caller of edgexf_run() sees them (a streaming model's input: the whole
    sequence, held outside the arena; `step_cname` is one step's input in the arena)."""
    out = []
    for n in names:
        t = graph.tensors[n]
        shape = graph.io_shape(n)
        sequence = shape != t.shape
        out.append(
            {
                "name": n,
                "dtype": t.dtype,
                "dtype_code": DTYPE_CODES[t.dtype],
                "shape": list(shape),
                "ndim": len(shape),
                "shape_c": ", ".join(str(d) for d in shape) or "0",
                "bytes": graph.io_bytes(n),
                "step_bytes": t.nbytes,
                "step_cname": pointer(n),
                "cname": f"sequence{len(out)}" if sequence else pointer(n),
                "quantized": t.quant is not None,
                "scale_c": c_float(t.quant.scale) if t.quant is not None else "0.0f",
                "zero_point": t.quant.zero_point if t.quant is not None else 0,
            }
        )
    return out


def generate_c(
    graph: Graph,
    plan: MemoryPlan,
    out_dir: Path,
    meta: dict,
    sections: dict[str, str] | None = None,
    stack: Callable[[Path], dict] | None = None,
    names: Names = Names(),
) -> GeneratedSources:
    """meta: command, source, board (strings for the file headers), and optionally weights_memory (where
    the sections' weights are, in words), arena_section, arena_memory (--arena external: the arena's
    input section and its memory, in words; targets/arena.py) and target_flags (the board's core and FPU
    flags for CMakeLists.txt: targets/toolchain.py's package_flags). sections: constant name -> the
    linker output section that holds it (targets/placement.py: an external flash's); the others go to
    .rodata. stack: measures edgexf_run's stack from the written sources (targets/stack.py's
    stack_entry) for model.h's documentation; model.h is written again with it (only its comments and
    EDGEXF_STACK_BYTES change, which no code reads, so the figure holds for the final sources).
    names: the model's symbol, macro and file names (codegen/names.py: --prefix)."""
    sections = sections or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for t in graph.tensors.values():
        if t.dtype not in CTYPES:
            raise UnsupportedOpError(f"tensor {t.name!r} has dtype {t.dtype}, which the C code cannot hold")
    for op in graph.ops:
        if uses_wide(op) and "rq" not in op.attrs:
            raise GraphError(f"{op.describe()} has int16 weights not yet widened: run passes.widen_weights")

    def pointer(name: str) -> str:
        return (names.weight if graph.tensors[name].is_const else "B_") + c_ident(name)

    def scratch(op_name: str) -> str:
        if plan.scratch_offset(op_name) is None:
            raise UnsupportedOpError(f"op {op_name!r} needs working memory the memory plan did not give it")
        return "S_" + c_ident(op_name)

    ctx = EmitContext(graph, pointer, scratch)
    weights = [_weight_entry(t, pointer(t.name), sections.get(t.name)) for t in graph.constants()]
    buffers = _buffers(graph, plan, pointer)
    inputs, outputs = _io(graph, graph.inputs, pointer), _io(graph, graph.outputs, pointer)
    offsets = {b["cname"]: b["offset"] for b in buffers}
    for t in inputs + outputs:  # the arena is 16-byte aligned; a sequence input is its own aligned(16) buffer
        offset = offsets.get(t["cname"], 0)
        t["align"] = 16 if offset % 16 == 0 else offset & -offset
    ops, statics, used = _calls(ctx, graph)
    weights_bytes = sum(w["bytes"] for w in weights)
    placed = [w for w in weights if w["name"] in sections]
    context = {
        "name": graph.name,
        "version": __version__,
        "command": meta.get("command", "edgexf"),
        "source": meta.get("source", "?"),
        "board": meta.get("board", "?"),
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "planner": plan.planner,
        "weights_bytes": weights_bytes,
        "macs": sum(op_macs(graph, op) for op in graph.ops),
        "weights": weights,
        "placed_count": len(placed),
        "placed_bytes": sum(w["bytes"] for w in placed),
        "placed_where": meta.get("weights_memory", "an external memory"),
        "placed_section": " ".join(sorted(set(sections.values()))),
        "arena_section": meta.get("arena_section"),
        "arena_where": meta.get("arena_memory", "an external memory"),
        "buffers": buffers,
        "statics": statics,
        "ops": ops,
        "inputs": inputs,
        "outputs": outputs,
        "target_flags": meta.get("target_flags", {}),
        "library": names.library(c_ident(graph.name)),
        **names.template_context(),
        "kernels": kernel_version(),
        "generic_functions": _generic_functions(graph.is_streaming),
        "generic_macros": [],
        "stack": None,
        **_streaming(graph, plan, pointer),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    files = []
    templates = [("model.c.j2", names.source), ("weights.c.j2", names.weights)]
    if context["target_flags"]:  # the board's flags given: the folder is a CMake package too
        templates.append(("CMakeLists.txt.j2", "CMakeLists.txt"))
    header = out_dir / names.header
    files.append(_write_header(env, context, header, names))
    for template, filename in templates:
        path = out_dir / filename
        path.write_text(env.get_template(template).render(context))
        files.append(path)
    files += copy_kernels(out_dir)  # its edgexf_kernels.h names the library's version (kernel_version.py)
    if stack is not None:
        context["stack"] = stack(out_dir)
        _write_header(env, context, header, names)
    return GeneratedSources(
        out_dir, tuple(files), plan.arena_bytes, weights_bytes, tuple(sorted(used)), context["stack"]
    ).verify()


def _generic_functions(streaming: bool) -> list[str]:
    """A prefixed header's EDGEXF_GENERIC_NAMES block maps edgexf_<f> to PREFIX_<f> for these."""
    functions = ["init", "input", "output", "run", "reset", "input_info", "output_info", "profile_op"]
    return functions + (["step", "step_input"] if streaming else [])


def _write_header(env: jinja2.Environment, context: dict, path: Path, names: Names) -> Path:
    """model.h (or PREFIX_model.h). A prefixed header maps edgexf's generic macro names to each of its
    own macros (EDGEXF_GENERIC_NAMES), so it is rendered once to find them, then again with them."""
    template = env.get_template("model.h.j2")
    text = template.render(context)
    if names.prefix is not None:
        own = re.findall(rf"^#define {names.macro}_(\w+)", text, re.M)
        internal = {"MODEL_H", "PROFILE"}  # the include guard; PROFILE is mapped on its own
        context["generic_macros"] = [m for m in dict.fromkeys(own) if m not in internal]
        text = template.render(context)
    path.write_text(text)
    return path


def _buffers(graph: Graph, plan: MemoryPlan, pointer) -> list[dict]:
    """model.c's arena table: each tensor and scratch buffer at its planned offset, in offset order."""
    buffers = []
    for b in plan.buffers:
        live = {"start": b.start, "end": b.end}
        for name in b.tensors:
            t = graph.tensors[name]
            offset = plan.offsets[b.name] + b.offset_in(name)
            buffers.append({"name": name, "cname": pointer(name), "offset": offset, "dtype": t.dtype,
                            "shape": list(t.shape), "bytes": t.nbytes, **live})  # fmt: skip
        if b.is_scratch:
            cname = "S_" + c_ident(b.name.removesuffix(".scratch"))
            buffers.append({"name": b.name, "cname": cname, "offset": plan.offsets[b.name],
                            "dtype": "scratch", "shape": [], "bytes": b.size, **live})  # fmt: skip
    return sorted(buffers, key=lambda b: (b["offset"], b["start"]))


def _calls(ctx: EmitContext, graph: Graph) -> tuple[list[dict], list[str], set[str]]:
    """(each op's entry for model.c, the static declarations its calls use, the kernels called)."""
    ops, statics, used = [], [], set()
    for i, op in enumerate(graph.ops):
        call = emit(ctx, op)
        statics += call.statics
        used.update(call.functions)
        out = ", ".join(f"{o}{list(graph.tensors[o].shape)}" for o in op.outputs)
        source = op.source.replace("*/", "* /")
        ops.append(
            {"index": i, "type": op.type, "name": op.name, "source": source, "out": out, "lines": call.lines}
        )
    return ops, statics, used


def _streaming(graph: Graph, plan: MemoryPlan, pointer) -> dict:
    """A streaming graph's persistent state region, as memory/state_region.py laid it out."""
    states = [
        {"name": s.name, "next": s.next, "offset": s.offset, "bytes": s.bytes,
         "cname": pointer(s.name), "next_cname": pointer(s.next)}
        for s in plan.states.slots
    ]  # fmt: skip
    return {
        "streaming": graph.is_streaming,
        "steps": graph.steps or 0,
        "states": states,
        "state_bytes": plan.states.bytes,
    }

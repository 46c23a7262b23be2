"""report.json's entries that are worked out from a graph: inputs and outputs as the caller sees them,
a streaming model's state, the float32 model's sizes beside an int8 build, the kernels used."""

from __future__ import annotations

from edgexf.codegen.generate import count_params, state_bytes
from edgexf.ir.graph import Graph
from edgexf.ir.ops import op_macs
from edgexf.memory.plan import plan_memory
from edgexf.passes.fuse import fuse


def io_entry(g, name: str) -> dict:
    """report.json's entry for an input or output, as edgexf_run() takes it (a streaming model's input:
    the whole sequence)."""
    t, shape = g.tensors[name], g.io_shape(name)
    io = {
        "name": name,
        "shape": list(shape),
        "dtype": t.dtype,
        "bytes": g.io_bytes(name),
    }
    return io | ({"quant": t.quant.to_dict()} if t.quant is not None else {})


def kernels_entry(requested: str, used: str, selection) -> dict:
    """report.json's "kernels": which were asked for and used, and the dsp linear weights: int8, or
    widened to int16 at code generation (twice their flash, faster; passes/select_kernels.py says why)."""
    return {
        "requested": requested,
        "used": used,
        "dsp_ops": selection.dsp_ops,
        "dsp_weights": selection.weights,
        "wide_ops": selection.wide_ops,
        "wide_extra_bytes": selection.wide_extra_bytes,
        "dsp_weights_reason": selection.reason,
    }


def float_figures(g: Graph, mem_opts) -> dict:
    """The float32 model's sizes, planned as its own build would be (its firmware is not built; flash is
    weights only)."""
    plan = plan_memory(
        fuse(g)[0] if mem_opts.fusion else g, mem_opts.inplace, exact_time_s=mem_opts.exact_time_s
    )
    return {
        "params": count_params(g),
        "weights_bytes": sum(t.nbytes for t in g.constants()),
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound_bytes": plan.lower_bound_bytes,
        "activations_sum_bytes": plan.naive_bytes,
    }


def streaming_figures(g: Graph, sequence: dict) -> dict:
    """report.json's "streaming": a recurrent model's steps and its persistent state, apart from the arena."""
    return {
        "steps": g.steps,
        "state_bytes": state_bytes(g),
        "states": [
            {"name": s, "next": n, "shape": list(g.tensors[s].shape), "bytes": g.tensors[s].nbytes}
            for s, n in g.states
        ],  # fmt: skip
        "macs_per_step": sum(op_macs(g, op) for op in g.ops),
        "step_input_bytes": g.tensors[g.inputs[0]].nbytes,
        "sequence_input_bytes": sequence["bytes"],
    }

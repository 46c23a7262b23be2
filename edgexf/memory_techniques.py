"""What each memory technique saves: the arena planned with the techniques switched on one by one.

    layer_by_layer        every op's output in its own buffer, the graph as exported
    token_overwriting     + outputs written over dead inputs (in-place residuals, elementwise ops)
    operator_integration  + attention per head and query row, MLP per token, LayerNorm into the linear
    patch_streaming       + the patch embedding writing tokens over the consumed image

Each row is planned by every planner, the exact one with a short budget (TECHNIQUE_EXACT_S).
The graph input (the image) is counted in every row, as it occupies the arena like any activation.

It sits above memory/ and passes/ (beside compile_report.py), not in memory/: it runs the fusion pass
with its kinds switched on one by one and plans each result, a comparison across two stages for the
report and benchmarks/memory.py. The planner itself needs only the IR.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph
from edgexf.memory.plan import plan_memory
from edgexf.passes.fuse import fuse

TECHNIQUES = (
    ("layer_by_layer", (), False),
    ("token_overwriting", (), True),
    ("operator_integration", ("token_mlp", "attention", "ln_linear"), True),
    ("patch_streaming", ("token_mlp", "attention", "ln_linear", "patch_embed"), True),
)
TECHNIQUE_EXACT_S = 1.0


def compare_techniques(graph: Graph, exact_time_s: float = TECHNIQUE_EXACT_S) -> list[dict]:
    """One row per technique, cumulative: arena, lower bound, and the bytes it saved over the row before."""
    rows, before = [], None
    for name, kinds, inplace in TECHNIQUES:
        g = fuse(graph, kinds)[0] if kinds else graph
        plan = plan_memory(g, inplace=inplace, exact_time_s=exact_time_s)
        rows.append(
            {
                "technique": name,
                "arena_bytes": plan.arena_bytes,
                "lower_bound_bytes": plan.lower_bound_bytes,
                "activations_sum_bytes": plan.naive_bytes,  # every tensor in its own bytes
                "saved_bytes": 0 if before is None else before - plan.arena_bytes,
            }
        )
        before = plan.arena_bytes
    return rows


def format_techniques(rows: list[dict]) -> str:
    lines = [f"  {'technique':<22} {'arena':>12} {'lower bound':>12} {'saved':>10}"]
    for r in rows:
        lines.append(
            f"  {r['technique']:<22} {r['arena_bytes']:>10,} B {r['lower_bound_bytes']:>10,} B "
            f"{r['saved_bytes']:>8,} B"
        )
    return "\n".join(lines)

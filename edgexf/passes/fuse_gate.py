"""Find the integer chain a * act(requant(z)) and replace it by one q_gate op (edgexf/ir/ops_gate.py):

    zq = q_requant(z)        z int16, zq int8, read only by the table
    s  = q_lut(zq)           read only by the mul
    y  = q_mul(a, s)         either operand order; a int8 or int16, y int8, a and z of one shape

    => y = q_gate(a, z, table)

In edgexf.models.mamba's step this is the output gate y * SiLU(z) (z the in_proj half kept int16). The op
computes what the chain computes, bit for bit. Runs in the fusion stage, after quantization
(edgexf/pipeline.py).
"""

from __future__ import annotations

from edgexf.ir.graph import Graph, Op
from edgexf.passes.chains import Chains, Match, chain_source, rewrite

REQUANT_KEYS = ("in_zp", "mult", "shift", "out_zp")


def gate_rule(m: Chains, mul: Op) -> Match | None:
    if mul.type != "q_mul" or len(mul.inputs) != 2 or mul.attrs.get("dtype") != "int8":
        return None
    t = m.g.tensors
    for i, s in enumerate(mul.inputs):
        lut = m.made_by(s, "q_lut")
        requant = lut and m.made_by(lut.inputs[0], "q_requant")
        if requant is None or mul.inputs[1 - i] == s or t[requant.inputs[0]].dtype != "int16":
            continue
        a, z = mul.inputs[1 - i], requant.inputs[0]
        if t[a].dtype not in ("int8", "int16") or t[requant.outputs[0]].dtype != "int8":
            continue
        if not t[a].shape == t[z].shape == t[mul.outputs[0]].shape:
            continue
        at = mul.attrs
        zps = (at["a_zp"], at["b_zp"])  # a's is the one of the operand that is not the table's output
        mul_terms = {"a_zp": zps[1 - i], "b_zp": zps[i], "mult": at["mult"], "shift": at["shift"]}
        attrs = {
            "z": {k: int(requant.attrs[k]) for k in REQUANT_KEYS},
            "mul": {**{k: int(v) for k, v in mul_terms.items()}, "out_zp": int(at["out_zp"])},
        }
        chain = [requant, lut, mul]
        ins = [a, z, lut.inputs[1]]
        op = Op("q_gate", f"{mul.name}_gate", ins, list(mul.outputs), attrs, chain_source("fused", chain))
        return Match(chain, [op])
    return None


def fuse_gates(graph: Graph) -> tuple[Graph, int]:
    """Replace every gate chain; returns the new graph (verified) and how many were found."""
    return rewrite(graph, [gate_rule])

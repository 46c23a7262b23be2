"""The op tables agree (issue 22): every IR op type (edgexf/ir/ops.py OPS) has a NumPy reference that runs,
an emitter (edgexf/codegen KERNELS) that gives C, C functions declared in firmware/kernels/edgexf_kernels.h,
scratch where its kernel asks for it, and, for a float op, an int8 form the quantization pass makes; every
declared kernel is called by some emitter. Adding an op without wiring it everywhere fails here, naming it.

The graphs hold every op type, made the way the compiler makes them: float ops built directly, their int8
forms by the quantization pass, fused ops by the fusion pass, DSP and int16-weight kernels by the kernel
selection. Each op is emitted as generate_c would (pointers are placeholders: no C is compiled here).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgexf.codegen.kernels import KERNELS, EmitContext, c_ident, emit
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.errors import QuantizationError
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import DTYPES, Graph
from edgexf.ir.ops import OPS, input_specs
from edgexf.ir.reference import run_reference
from edgexf.passes.fuse import fuse
from edgexf.passes.select_kernels import select_kernels
from edgexf.passes.widen_weights import widen_weights
from edgexf.resources import firmware_dir
from tests.model_helpers import mamba_scan_graphs

RNG = np.random.default_rng(0)


def _w(*shape: int) -> np.ndarray:
    return (RNG.standard_normal(shape) * 0.3).astype(np.float32)


# Float ops with no int8 form, and why (the quantization pass refuses a graph holding one, naming it)
NO_INT8_FORM = {
    "cumsum": "ONNX CumSum, in no model edgexf quantizes yet",
    "isnan": "the softmax guard of exported attention, folded away when the softmax's input is finite",
    "where": "the same guard's select",
    "attention": "fusion runs after quantization and fuses the int8 ops into q_attention",
    "ln_linear": "likewise: q_ln_linear",
    "token_mlp": "likewise: q_token_mlp",
    "patch_embed": "likewise: q_patch_embed",
    "selective_scan": "likewise: q_selective_scan (Mamba's scan, passes/fuse_scan.py)",
    "conv_step": "likewise: q_conv_step (Mamba's conv on its state, passes/fuse_conv_step.py)",
}
# Declared functions no emitter calls: the float scalar math the kernels share (firmware/kernels/math.c),
# declared so that every kernel rounds alike; tests/firmware/test_kernels_math.py measures them
SHARED_MATH = ("exf_expf", "exf_erff", "exf_tanhf", "exf_sqrtf", "exf_logf", "exf_log1pf")
# IR op types that never reach code generation (none yet: a float-only op the quantize pass always
# rewrites would be one), with why
NO_EMITTER: dict[str, str] = {}


def float_ops(int8: bool = False) -> Graph:
    """Every float op but the fused ones, on x (1, 6, 8); int8: only those with an int8 form."""
    b = GraphBuilder("float_ops")
    x = b.add_input("x", (1, 6, 8))
    add = b.add1
    h = add("linear", [x, b.add_const("fc.W", _w(8, 8)), b.add_const("fc.b", _w(8))])
    xt = add("transpose", [h], {"perm": [0, 2, 1]})
    s = add("softmax", [add("matmul", [h, xt])])  # (1, 6, 6)
    n = add("layernorm", [x, b.add_const("ln.g", _w(8)), b.add_const("ln.b", _w(8))], {"eps": 1e-5})
    g = add("gelu", [add("gelu", [n], {"approximate": "none"})], {"approximate": "tanh"})
    pos = add("add", [add("relu", [g]), b.add_const("one", np.float32(1.0))])
    u = pos
    for t in ("exp", "silu", "sigmoid", "tanh", "rsqrt", "sqrt", "erf", "log"):
        u = add(t, [u])
    u = add("softplus", [u], {"beta": 1.0, "threshold": 20.0})
    r = add("layernorm", [add("add", [n, h]), b.add_const("ln2.g", _w(8)), b.add_const("ln2.b", _w(8))],
             {"eps": 1e-5})  # fmt: skip
    v = add("div", [add("mul", [add("sub", [u, r]), h]), b.add_const("d", _w(8) + 2.0)])
    m = add("mean", [v], {"axis": -1, "keepdims": True})  # (1, 6, 1)
    m = add("sum", [add("broadcast", [m], {"shape": [1, 6, 8]})], {"axis": -2, "keepdims": True})
    c = add("concat", [add("slice", [v], {"axis": -2, "start": 1, "end": 6}), m], {"axis": -2})
    c = add("gather", [c], {"axis": -2, "indices": [0, 2, 3, 5], "indices_shape": [4]})
    if not int8:  # the ops with no int8 form
        c = add("cumsum", [c], {"axis": -1})
        c = add("where", [add("isnan", [c]), b.add_const("zero", np.float32(0.0)), c])
    c = add("maximum", [add("max", [c], {"axis": -1, "keepdims": True}), c])
    c = add("pad", [c, b.add_const("pv", np.float32(0.0))], {"pads": [0, 0, 0, 0, 0, 1]})
    gt = add("compare", [c, b.add_const("z", np.float32(0.0))], {"cmp": "greater"})
    img = add("reshape", [s], {"shape": [1, 1, 6, 6]})
    # 4 output channels: enough for the dsp conv kernel (passes/select_kernels.py)
    conv = add("conv2d", [img, b.add_const("cw", _w(4, 1, 3, 3)), b.add_const("cb", _w(4))],
               {"stride": [1, 1], "padding": [1, 1]})  # fmt: skip
    seq = add("reshape", [conv], {"shape": [1, 4, 36]})
    conv1 = add("conv1d", [seq, b.add_const("c1w", _w(2, 2, 3)), None],
                {"stride": 1, "padding": 1, "groups": 2})  # fmt: skip
    return b.build([gt, conv1, s])


def int8_ops(g: Graph) -> Graph:
    """The quantization pass's integer graph of g, with every add/sub output in int16 (q_requant, s16)."""
    x = RNG.standard_normal((20, *g.tensors[g.inputs[0]].shape)).astype(np.float32)
    return quantize_graph(g, calibrate(g, x, progress=False), ("residual",)).graph


def vit() -> Graph:
    """A tiny ViT (patch embedding, attention, MLP) as the torch frontend gives it."""
    import torch
    from model_helpers import to_graph

    from edgexf.models.vit import ViT, ViTConfig

    torch.manual_seed(0)
    config = ViTConfig(image_size=8, patch_size=4, in_channels=1, embed_dim=8, depth=1, num_heads=2,
                       mlp_ratio=2.0)  # fmt: skip
    return to_graph(ViT(config).eval(), torch.rand(1, 1, 8, 8))


def fused_ops(vit_float: Graph) -> list[Graph]:
    """The fused float and int8 graphs of a ViT, the int8 one on every kernel the selection can pick."""
    fused_float, _ = fuse(vit_float)
    fused_int8, _ = fuse(int8_ops(vit_float))
    graphs = [fused_float, fused_int8]
    for weights in ("int8", "int16"):
        graphs.append(widen_weights(select_kernels(fused_int8, "dsp", weights)[0]))
    return graphs


def recurrence() -> Graph:
    """h' = h * x + x, the state h in int16: the integer mul reads an int16 operand (exf_mul_qq)."""
    b = GraphBuilder("recurrence")
    x = b.add_input("x", (1, 8))
    h = b.add_input("h", (1, 8))  # a state: not a graph input
    b.inputs.remove(h)
    nxt = b.add1("add", [b.add1("mul", [h, x]), x], name="h_next")
    y = b.add1("linear", [nxt, b.add_const("W", _w(4, 8)), None])
    g = Graph("recurrence", b.tensors, b.ops, [x], [y], [(h, nxt)], 4).verify()
    seqs = RNG.standard_normal((20, 1, 4, 8)).astype(np.float32) * 0.5
    return quantize_graph(g, calibrate(g, seqs, progress=False), ("state",)).graph


@pytest.fixture(scope="module")
def graphs() -> list[Graph]:
    q, rec = int8_ops(float_ops(int8=True)), recurrence()
    q_dsp = widen_weights(select_kernels(q, "dsp", "int8")[0])  # q_matmul, q_conv2d on their dsp kernels
    rec_wide = widen_weights(select_kernels(rec, "dsp", "int16")[0])
    return [float_ops(), q, q_dsp, rec, rec_wide, *fused_ops(vit()), *mamba_scan_graphs()]


class _Emitted:
    """One op's C as generate_c emits it, and whether the emitter asked for working memory."""

    def __init__(self, g: Graph, op):
        asked: list[str] = []
        ctx = EmitContext(g, lambda n: f"(arena + {c_ident(n)})", lambda n: asked.append(n) or "scratch")
        self.op, self.call = op, emit(ctx, op)
        self.calls = set(re.findall(r"\b(exf_\w+)\s*\(", "\n".join(self.call.lines)))
        self.asked_scratch = bool(asked)
        self.scratch = OPS[op.type].scratch(op, input_specs(g, op)) if OPS[op.type].scratch else 0


@pytest.fixture(scope="module")
def emitted(graphs) -> list[_Emitted]:
    return [_Emitted(g, op) for g in graphs for op in g.ops]


def _c_functions(text: str) -> set[str]:
    """exf_ names followed by "(" outside comments: a header's declarations, a source's calls."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)
    return set(re.findall(r"\b(exf_\w+)\s*\(", text))


def _declared() -> set[str]:
    return _c_functions((firmware_dir() / "kernels" / "edgexf_kernels.h").read_text())


def _feeds(g: Graph) -> dict[str, np.ndarray]:
    t = g.tensors[g.inputs[0]]
    shape = (3, *t.shape[:-1], g.steps, t.shape[-1]) if g.is_streaming else (3, *t.shape)
    x = np.random.default_rng(1).standard_normal(shape)
    return {t.name: x.astype(np.float32) if t.dtype == "float32" else (x * 40).astype(DTYPES[t.dtype])}


# ---- the tests ------------------------------------------------------------------------------------


def test_the_graphs_hold_every_ir_op_type(graphs):
    assert {op.type for g in graphs for op in g.ops} == set(OPS)


def test_every_ir_op_has_a_reference_that_runs(graphs):
    for g in graphs:
        out = run_reference(g, _feeds(g))
        assert set(out) == set(g.outputs), g.name


def test_every_ir_op_has_an_emitter_and_every_emitter_an_ir_op():
    missing = set(OPS) - set(KERNELS) - set(NO_EMITTER)
    assert not missing, f"IR ops without an emitter (add one to edgexf/codegen, or to NO_EMITTER): {missing}"
    assert set(KERNELS) <= set(OPS), f"emitters for no IR op: {sorted(set(KERNELS) - set(OPS))}"
    assert not set(NO_EMITTER) & set(KERNELS)


def test_every_emitter_gives_c_for_its_op(emitted):
    assert {e.op.type for e in emitted} == set(OPS) - set(NO_EMITTER)


def test_every_emitted_call_is_declared_and_listed(emitted):
    """generate_c checks KernelCall.functions against the header; a call missing from that list would
    pass its check and fail only at link time."""
    declared = _declared()
    for e in emitted:
        assert e.calls <= set(e.call.functions), f"{e.op.describe()} calls {e.calls - set(e.call.functions)}"
        assert set(e.call.functions) <= declared, f"{e.op.describe()}: {set(e.call.functions) - declared}"
        if OPS[e.op.type].c_function:  # an elementwise op whose emitter is made from its OpDef
            assert e.call.functions == [OPS[e.op.type].c_function]


def test_every_declared_kernel_is_called(emitted):
    used = set().union(*(e.call.functions for e in emitted))
    app = set().union(*(_c_functions(f.read_text()) for f in (firmware_dir() / "app").glob("*.c")))
    assert _declared() - used - app == set(SHARED_MATH), "a declared kernel no emitter calls: remove it?"
    kernels = set().union(*(_c_functions(f.read_text()) for f in (firmware_dir() / "kernels").glob("*.c")))
    assert set(SHARED_MATH) <= kernels


def test_every_float_op_the_quantizer_handles_has_an_int8_form_in_the_ir(graphs):
    with pytest.raises(QuantizationError) as refused:
        int8_ops(float_ops())
    named = re.search(r"op type\(s\) (.*?) have no int8 form", str(refused.value)).group(1)
    # never quantized
    fused = {"attention", "ln_linear", "token_mlp", "patch_embed", "selective_scan", "conv_step"}
    assert set(named.split(", ")) == set(NO_INT8_FORM) - fused
    float_types = {t for t in OPS if not t.startswith("q_")}
    handled = {op.type for op in float_ops(int8=True).ops}
    assert handled == float_types - set(NO_INT8_FORM)
    q = graphs[1]
    assert all(t.dtype != "float32" for t in q.tensors.values())
    assert {op.type for op in q.ops} <= set(OPS)


def test_scratch_is_planned_exactly_where_a_kernel_asks_for_it(emitted):
    for e in emitted:
        assert e.asked_scratch == (e.scratch > 0), f"{e.op.describe()}: scratch {e.scratch} B planned"

"""The aten ops of recurrent models' step functions (edgexf/frontends/aten_math.py), end to end:
torch.export -> IR -> C built by host gcc. The C output equals the IR reference bit for bit and is within
1e-5 of PyTorch relative to the output's scale (the kernels' own exp/log/sqrt are within a few ulp of
float64, tests/firmware/test_kernels_math.py; sums may add in another order than torch's). Measured: at
most 1.9e-7 relative for the single ops, 1.5e-7 for one Mamba step, 5.2e-7 over a 50-step rollout.

Then mambapy's MambaBlock.step and ResidualBlock.step (its RMSNorm: pow, mean, rsqrt) as a model with
three inputs and three outputs: one step and a short rollout on the host, and (marked qemu) the same bits
on the emulated Cortex-M7. Then the refusals.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from model_helpers import Fn, HostModel, compile_graph, compile_host, same_bits, to_graph, torch_outputs
from torch import nn

from edgexf.codegen.generate import generate_c
from edgexf.errors import UnsupportedOpError
from edgexf.frontends.torch_export import from_exported_program
from edgexf.ir.builder import GraphBuilder
from edgexf.ir.graph import Graph
from edgexf.ir.reference import run_reference
from edgexf.memory.lifetimes import buffers
from edgexf.memory.plan import plan_memory
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.run.host import run_host
from edgexf.run.qemu import run_qemu
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_firmware

F = nn.functional
TOL = 1e-5  # relative to the largest |output| of torch


def _pieces_scaled(pieces) -> torch.Tensor:
    """Each piece times its index + 1, joined in reverse: every piece lands somewhere checkable."""
    return torch.cat([p * (i + 1) for i, p in enumerate(pieces)][::-1], dim=-1)


CASES = {
    "exp": (lambda: Fn(torch.exp), (1, 4, 9)),
    "silu": (lambda: nn.SiLU(), (1, 40)),
    "softplus": (lambda: nn.Softplus(), (1, 40)),
    "softplus_beta_threshold": (lambda: nn.Softplus(beta=2.0, threshold=5.0), (1, 40)),
    "sigmoid": (lambda: nn.Sigmoid(), (1, 3, 7)),
    "tanh": (lambda: nn.Tanh(), (1, 3, 7)),
    "rsqrt": (lambda: Fn(lambda x: torch.rsqrt(x * x + 0.25)), (1, 12)),
    "sqrt": (lambda: Fn(lambda x: torch.sqrt(x * x + 0.25)), (1, 12)),
    "neg": (lambda: Fn(lambda x: -x), (1, 6)),
    "pow_2": (lambda: Fn(lambda x: x.pow(2)), (1, 2, 6)),
    "pow_half": (lambda: Fn(lambda x: (x * x + 1) ** 0.5), (1, 6)),
    "pow_1": (lambda: Fn(lambda x: x.pow(1) * 3), (1, 6)),
    "sum_last": (lambda: Fn(lambda x: x.sum(-1)), (1, 5, 9)),
    "sum_middle_keepdim": (lambda: Fn(lambda x: x.sum(1, keepdim=True)), (1, 5, 6)),
    "sum_two_dims": (lambda: Fn(lambda x: x.sum(dim=(1, 2))), (1, 3, 4, 5)),
    "sum_first": (lambda: Fn(lambda x: x.sum(0)), (3, 4, 2)),
    "sum_all": (lambda: Fn(lambda x: x.sum()), (2, 3)),
    "split_with_sizes": (lambda: Fn(lambda x: _pieces_scaled(torch.split(x, [1, 4, 4], dim=-1))), (1, 9)),
    "split_even": (lambda: Fn(lambda x: _pieces_scaled(torch.split(x, 2, dim=-1))), (1, 3, 5)),
    "chunk_gate": (lambda: Fn(lambda x: (lambda a, b: a * F.silu(b))(*x.chunk(2, dim=1))), (1, 16)),
    "chunk_uneven": (lambda: Fn(lambda x: _pieces_scaled(x.chunk(3, dim=-1))), (1, 2, 7)),
    "conv1d_depthwise_causal": (lambda: nn.Conv1d(6, 6, 4, padding=3, groups=6), (1, 6, 4)),
    "conv1d_stride_pad": (lambda: nn.Conv1d(4, 5, 3, stride=2, padding=1), (1, 4, 9)),
    "conv1d_grouped_no_bias": (lambda: nn.Conv1d(4, 6, 3, groups=2, bias=False), (1, 4, 7)),
    "conv1d_same": (lambda: nn.Conv1d(3, 3, 5, padding="same"), (1, 3, 8)),
    "conv1d_valid": (lambda: nn.Conv1d(3, 2, 2, padding="valid"), (2, 3, 8)),
    "conv1d_unbatched": (lambda: nn.Conv1d(3, 2, 3), (3, 8)),
    "to_float_param": (lambda: Fn(lambda x, p: x * p.float(), (6,)), (1, 6)),
}


def check(y_c: np.ndarray, y_ref: np.ndarray, y_torch: np.ndarray, what: str = "") -> None:
    assert same_bits(y_c, y_ref), f"{what}host C differs from the IR reference"
    scale = max(float(np.abs(y_torch).max()), 1e-30)
    err = float(np.abs(y_c - y_torch).max())
    assert err <= TOL * scale, f"{what}max error {err:.3g} (scale {scale:.3g})"


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_host_matches_reference_and_pytorch(case, tmp_path):
    torch.manual_seed(0)
    make, shape = CASES[case]
    module = make().eval()
    x = np.random.default_rng(1).standard_normal((3,) + shape).astype(np.float32) * 2
    model = compile_host(module, torch.from_numpy(x[0]), tmp_path)
    check(model.run(x), model.reference(x), torch_outputs(module, x))


def test_decomposed_convolution_with_3d_input(tmp_path):
    """A program after run_decompositions() has aten.convolution, which hands a 3-D input to conv1d."""
    torch.manual_seed(0)
    module = nn.Conv1d(4, 4, 3, padding=2, groups=4).eval()
    x = np.random.default_rng(2).standard_normal((3, 1, 4, 6)).astype(np.float32)
    ep = torch.export.export(module, (torch.from_numpy(x[0]),)).run_decompositions()
    assert "aten.convolution.default" in {str(n.target) for n in ep.graph.nodes}
    g = remove_dead_ops(fold_constants(from_exported_program(ep, "m")))
    assert [op.type for op in g.ops] == ["conv1d"]
    model = compile_graph(g, tmp_path)
    check(model.run(x), model.reference(x), torch_outputs(module, x))


@pytest.mark.parametrize(
    "kind,attrs",
    [("exp", {}), ("silu", {}), ("softplus", {"beta": 1.0, "threshold": 20.0}), ("sigmoid", {}), ("tanh", {}),
     ("rsqrt", {}), ("sqrt", {})],
)  # fmt: skip
def test_output_over_its_input(kind, attrs, tmp_path):
    """The planner lets an elementwise op write over its dying input, and the kernel still gives the bits."""
    b = GraphBuilder(kind)
    x = b.add_input("x", (2, 3, 8))
    g = b.build([b.add1(kind, [x], attrs, name="y")])
    (buf,) = [buf for buf in buffers(g) if "x" in buf.tensors]
    assert "y" in buf.tensors, "the planner did not let the output overwrite the input"
    model = compile_graph(g, tmp_path)
    assert model.plan.offset_of("x") == model.plan.offset_of("y")
    xs = np.random.default_rng(3).standard_normal((4, 2, 3, 8)).astype(np.float32) * 4
    assert same_bits(model.run(xs), model.reference(xs))  # NaNs too (sqrt, rsqrt of x < 0)


# ---- mambapy's step functions: three inputs (x_t, h, conv inputs), three outputs ------------------


class Step(nn.Module):
    """One time step of a mambapy block, with its cache as plain tensors (what torch.export takes)."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x_t, h, conv_inputs):  # (B, D), (B, ED, N), (B, ED, d_conv - 1)
        y_t, (h_new, inputs_new) = self.block.step(x_t, (h, conv_inputs))
        return y_t, h_new, inputs_new


def run_multi(model: HostModel, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """feeds: per graph input (S, *shape) -> per graph output (S, *shape), through the host build
    (runner.c's files: per sample every input's bytes in order, and every output's)."""
    g = model.graph
    samples = len(feeds[0])
    data = b"".join(np.ascontiguousarray(f[i], np.float32).tobytes() for i in range(samples) for f in feeds)
    outs = [g.tensors[n] for n in g.outputs]
    res = run_host(model.exe, data, sum(t.nbytes for t in outs), timeout=60)
    flat = np.frombuffer(res.outputs, np.float32).reshape(samples, -1)
    bounds = np.cumsum([0] + [t.numel for t in outs])
    return [flat[:, lo:hi].reshape((samples,) + t.shape) for lo, hi, t in zip(bounds, bounds[1:], outs)]


def mamba_step(block: str) -> tuple[Step, Graph]:
    mamba = pytest.importorskip("mambapy.mamba", reason="needs mambapy (pip install mambapy==1.2.0)")
    torch.manual_seed(0)
    cfg = mamba.MambaConfig(d_model=8, n_layers=1, d_state=4, expand_factor=2, d_conv=4)
    step = Step(getattr(mamba, block)(cfg)).eval()
    example = (torch.randn(1, 8), torch.randn(1, 16, 4), torch.randn(1, 16, 3))
    g = remove_dead_ops(fold_constants(from_exported_program(torch.export.export(step, example), "step")))
    return step, g


@pytest.mark.parametrize("block", ["MambaBlock", "ResidualBlock"])
def test_mambapy_step_on_host(block, tmp_path):
    step, g = mamba_step(block)
    kinds = {op.type for op in g.ops}
    assert {"conv1d", "silu", "softplus", "exp", "matmul", "slice"} <= kinds
    assert block == "MambaBlock" or {"rsqrt", "mean"} <= kinds
    model = compile_graph(g, tmp_path)
    rng = np.random.default_rng(4)
    feeds = [rng.standard_normal((5,) + g.tensors[n].shape).astype(np.float32) for n in g.inputs]
    got = run_multi(model, feeds)
    ref = run_reference(g, dict(zip(g.inputs, feeds)))
    with torch.no_grad():
        theirs = [step(*(torch.from_numpy(f[i]) for f in feeds)) for i in range(5)]
    for k, name in enumerate(g.outputs):
        check(got[k], ref[name], np.stack([t[k].numpy() for t in theirs]), f"output {name}: ")

    # a rollout: the C's new state fed back as the next step's, beside torch's own
    state_c = [f[:1] for f in feeds[1:]]
    state_t = [torch.from_numpy(s[0]) for s in state_c]
    for t in range(6):
        x_t = rng.standard_normal((1,) + g.tensors[g.inputs[0]].shape).astype(np.float32)
        y_c, *state_c = run_multi(model, [x_t, *state_c])
        with torch.no_grad():
            y_t, *state_t = step(torch.from_numpy(x_t[0]), *state_t)
        scale = float(np.abs(y_t.numpy()).max())
        assert np.abs(y_c[0] - y_t.numpy()).max() <= TOL * scale, f"step {t}"


@pytest.mark.qemu
def test_mambapy_step_on_emulated_board_equals_reference(tmp_path):
    """The same bits on the Cortex-M7 (QEMU) as in the reference: ResidualBlock.step uses every new kernel."""
    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    _, g = mamba_step("ResidualBlock")
    board = load_board("stm32f746")
    src = generate_c(g, plan_memory(g), tmp_path / "model", {"command": "test"})
    elf = build_firmware(board, src.dir, tmp_path / "fw", emulated=True).elf
    rng = np.random.default_rng(9)
    feeds = [(rng.standard_normal((4,) + g.tensors[n].shape) * 3).astype(np.float32) for n in g.inputs]
    data = b"".join(f[i].tobytes() for i in range(4) for f in feeds)
    res = run_qemu(board, elf, data, sum(g.tensors[n].nbytes for n in g.outputs), timeout=60)
    ref = run_reference(g, dict(zip(g.inputs, feeds)))
    assert res.outputs == b"".join(ref[n][i].tobytes() for i in range(4) for n in g.outputs)


# ---- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module,shape,message",
    [
        (Fn(lambda x: x.pow(4)), (1, 4), r"aten\.pow\.Tensor_Scalar with exponent 4 \(only 2, 3, 0.5 and 1"),
        (nn.Conv1d(2, 2, 3, dilation=2), (1, 2, 9), r"aten\.conv1d\.default with dilation=\[2\]"),
        (nn.Conv1d(2, 2, 4, padding="same"), (1, 2, 9), r"aten\.conv1d\.padding with padding='same'"),
        (nn.Softplus(beta=0.0), (1, 4), r"aten\.softplus\.default with beta=0\.0"),
    ],
)
def test_refusals_name_the_op(module, shape, message):
    with pytest.raises(UnsupportedOpError, match=message) as e:
        to_graph(module.eval(), torch.randn(*shape))
    assert "supported aten ops:" in str(e.value) and "aten.silu.default" in str(e.value)


def test_codegen_refuses_softplus_it_cannot_print(tmp_path):
    b = GraphBuilder("g")
    x = b.add_input("x", (4,))
    g = b.build([b.add1("softplus", [x], {"beta": float("inf"), "threshold": 20.0}, name="sp")])
    with pytest.raises(UnsupportedOpError, match=r"no C kernel for softplus 'sp'.*beta=inf"):
        generate_c(g, plan_memory(g), tmp_path, {})

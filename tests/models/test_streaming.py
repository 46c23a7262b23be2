"""The streaming protocol, for the LMU and Mamba alike: init_state, step == forward, reset, torch.export.

The compiler exports `step` (a module whose forward is step, traced with (x[:, 0], *init_state())) and
supports only the ops in ALLOWED; these tests hold the models to that contract.
"""

from __future__ import annotations

import operator

import pytest
import torch

from edgexf.frontends.streaming import StepModule, export_step
from edgexf.models.lmu import LMU, LMUConfig
from edgexf.models.mamba import Mamba, MambaConfig
from edgexf.models.streaming import run_steps

# The compiler's op set for step graphs, as aten ops of torch.export's graph.
ALLOWED = {
    "aten.linear.default", "aten.matmul.default", "aten.mm.default", "aten.bmm.default",
    "aten.add.Tensor", "aten.sub.Tensor", "aten.mul.Tensor", "aten.div.Tensor",
    "aten.exp.default", "aten.silu.default", "aten.softplus.default", "aten.sigmoid.default",
    "aten.tanh.default", "aten.rsqrt.default", "aten.sqrt.default", "aten.gelu.default",
    "aten.relu.default", "aten.layer_norm.default", "aten.mean.dim", "aten.sum.dim_IntList",
    "aten.cat.default", "aten.slice.Tensor", "aten.split.Tensor", "aten.split_with_sizes.default",
    "aten.chunk.default", "aten.view.default", "aten.reshape.default", "aten.unsqueeze.default",
    "aten.squeeze.dim", "aten.squeeze.dims", "aten.flatten.using_ints", "aten.conv1d.default",
    str(operator.getitem),
}  # fmt: skip

# (name, constructor, T): the examples' sizes at T = 28, and small ones over a long T = 1000.
CASES = [
    ("lmu", lambda: LMU(LMUConfig(input_dim=28, embed_dim=32, memory_dim=32, order=16, theta=28.0)), 28),
    ("lmu-2-blocks", lambda: LMU(LMUConfig(input_dim=28, memory_dim=8, order=8, depth=2)), 28),
    ("mamba", lambda: Mamba(MambaConfig(input_dim=28, d_model=32, n_layer=2, d_state=8)), 28),
    ("lmu-long", lambda: LMU(LMUConfig(input_dim=4, embed_dim=8, memory_dim=4, order=6, theta=300.0)), 1000),
    ("mamba-long", lambda: Mamba(MambaConfig(input_dim=4, d_model=8, n_layer=1, d_state=4)), 1000),
]


@pytest.fixture(autouse=True)
def one_thread():
    """Stepping runs thousands of tiny ops; with 2 threads on a busy CPU, torch 2.13's exact GELU waits
    milliseconds per call for its second thread (31 s instead of 0.6 s for the long LMU case)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def case(request):
    name, make, T = request.param
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(2, T, model.cfg.input_dim)
    return model, x


def test_init_state_is_zeros_of_batch_one(case):
    model, _ = case
    state = model.init_state()
    assert isinstance(state, tuple) and len(state) >= 1
    for s in state:
        assert s.shape[0] == 1 and s.dtype == torch.float32 and not s.any()
    expected = model.cfg.depth if isinstance(model, LMU) else 2 * model.cfg.n_layer
    assert len(state) == expected
    assert sum(s.numel() for s in state) == model.cfg.state_floats


def test_step_returns_logits_and_a_state_of_the_same_shapes(case):
    model, x = case
    state = model.init_state()
    logits, *new_state = model.step(x[:1, 0], *state)
    assert logits.shape == (1, model.cfg.num_classes)
    assert [s.shape for s in new_state] == [s.shape for s in state]


# T = 28: float32 rounding only, the two forms summing in different orders. T = 1000: the LMU's FFT over
# 2000 points and 1000 sequential steps each round independently; Mamba's scan is sequential in both.
def test_step_after_t_steps_equals_forward(case):
    model, x = case
    with torch.no_grad():
        expected = model(x)
        stepped = run_steps(model, x)
    tol = 1e-4 if x.shape[1] > 100 else 2e-5
    torch.testing.assert_close(stepped[:, -1], expected, rtol=tol, atol=tol)


def test_every_step_equals_forward_on_the_prefix(case):
    model, x = case
    x = x[:, :30]
    with torch.no_grad():
        stepped = run_steps(model, x)
        for t in (1, 4, 17, x.shape[1]):
            torch.testing.assert_close(stepped[:, t - 1], model(x[:, :t]), rtol=2e-5, atol=2e-5)


def test_starting_again_from_init_state_resets(case):
    model, x = case
    x = x[:1, :40]
    before = model.init_state()
    with torch.no_grad():
        first = run_steps(model, x)
        second = run_steps(model, x)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert all(not s.any() for s in before)  # step wrote nothing into the state it was given
    state = tuple(torch.randn_like(s) for s in before)
    copies = tuple(s.clone() for s in state)
    model.step(x[:, 0], *state)
    for s, c in zip(state, copies, strict=True):
        torch.testing.assert_close(s, c, rtol=0, atol=0)


def test_step_exports_with_only_the_compilers_ops(case):
    model, x = case
    program = export_step(model, x[:1], "test")[0]
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert targets <= ALLOWED, targets - ALLOWED
    assert not any(t.split(".")[1].endswith("_") for t in targets if t.startswith("aten."))  # no in-place

    # the exported graph is step: same logits and state, for inputs other than the example
    exported = program.module()
    state, exported_state = model.init_state(), model.init_state()
    with torch.no_grad():
        for x_t in x[1, :5]:
            logits, *state = model.step(x_t[None], *state)
            exported_logits, *exported_state = exported(x_t[None], *exported_state)
            torch.testing.assert_close(exported_logits, logits)
            for a, b in zip(exported_state, state, strict=True):
                torch.testing.assert_close(a, b)


@pytest.mark.parametrize("make", [CASES[0][1], CASES[2][1]], ids=["lmu", "mamba"])
def test_step_traces_strictly_without_graph_breaks(make):
    torch.manual_seed(0)
    model = make().eval()
    x0 = torch.randn(1, model.cfg.input_dim)
    # strict mode traces with TorchDynamo, which fails on anything it would have to break the graph for
    torch.export.export(StepModule(model), (x0, *model.init_state()), strict=True)

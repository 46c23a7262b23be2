"""Helpers for tests that take a PyTorch module through the compiler and run the generated C."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgexf.codegen.generate import generate_c
from edgexf.frontends.torch_export import from_exported_program
from edgexf.ir.graph import DTYPES, Graph
from edgexf.ir.reference import run_reference
from edgexf.memory.plan import MemoryPlan, plan_memory
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.passes.widen_weights import widen_weights
from edgexf.run.host import run_host
from edgexf.targets.toolchain import build_host


@dataclass
class HostModel:
    graph: Graph
    plan: MemoryPlan
    exe: Path

    def run(self, x: np.ndarray) -> np.ndarray:
        """x: (S, *input shape) in the input's dtype -> (S, *output shape), through the host-compiled C."""
        inp, out = (self.graph.tensors[n] for n in (self.graph.inputs[0], self.graph.outputs[0]))
        data = np.ascontiguousarray(x, DTYPES[inp.dtype]).tobytes()
        res = run_host(self.exe, data, out.nbytes, timeout=60)
        return np.frombuffer(res.outputs, DTYPES[out.dtype]).reshape((len(x),) + out.shape)

    def reference(self, x: np.ndarray) -> np.ndarray:
        return run_reference(self.graph, {self.graph.inputs[0]: x})[self.graph.outputs[0]]


class Fn(nn.Module):
    """A function of the input as a module, with random parameters of the given shapes as extra arguments:
    Fn(lambda x, w: x @ w, (6, 4))."""

    def __init__(self, fn, *params):
        super().__init__()
        self.fn = fn
        self.p = nn.ParameterList([nn.Parameter(torch.randn(*s) * 0.5) for s in params])

    def forward(self, x):
        return self.fn(x, *self.p)


def assert_trains(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 5) -> None:
    """A few Adam steps on (x, y): every parameter gets a finite gradient and the loss goes down."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def to_graph(module: torch.nn.Module, example: torch.Tensor) -> Graph:
    ep = torch.export.export(module.eval(), (example,))
    return remove_dead_ops(fold_constants(from_exported_program(ep, "m")))


def compile_host(module: torch.nn.Module, example: torch.Tensor, tmp: Path) -> HostModel:
    return compile_graph(to_graph(module, example), tmp)


def compile_graph(g: Graph, tmp: Path) -> HostModel:
    g = widen_weights(g)  # what select_kernels chose to widen (nothing for most graphs)
    plan = plan_memory(g)
    src = generate_c(g, plan, tmp / "model", {"command": "test"})
    return HostModel(g, plan, build_host(src.dir, tmp / "host"))


def torch_outputs(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.stack([module(torch.from_numpy(s)).numpy() for s in x])


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@functools.cache
def odd_mamba_step(builder: str = "mamba_n5") -> tuple[Graph, Graph, np.ndarray]:
    """tests/data/odd_mamba.py's step graph after optimize, float32 and int8 (the state int16, calibrated on
    16 random sequences), and those sequences: built once per test process for the Mamba pass tests (about
    5 s each); passes leave their input as it was, and tests that change a graph change a copy."""
    from edgexf.compress.calibrate import calibrate
    from edgexf.compress.quantize import quantize_graph
    from edgexf.frontends import load_model
    from edgexf.passes.optimize import optimize

    data = Path(__file__).resolve().parent / "data"
    g = optimize(load_model(f"{data / 'odd_mamba.py'}:{builder}").graph)
    seqs = np.random.default_rng(0).standard_normal((16, 1, g.steps, 3)).astype(np.float32)
    return g, quantize_graph(g, calibrate(g, seqs, progress=False), ("state",)).graph, seqs


def mamba_scan_graphs() -> list[Graph]:
    """A small Mamba's step (tests/data/odd_mamba.py) with its selective scan, conv step and (int8) gate
    and RMSNorms fused, float32 and int8 (the state int16)."""
    from edgexf.compress.calibrate import calibrate
    from edgexf.compress.quantize import quantize_graph
    from edgexf.frontends import load_model
    from edgexf.passes.fuse_conv_step import fuse_conv_steps
    from edgexf.passes.fuse_gate import fuse_gates
    from edgexf.passes.fuse_rms_norm import fuse_rms_norms
    from edgexf.passes.fuse_scan import fuse_scans
    from edgexf.passes.optimize import optimize

    data = Path(__file__).resolve().parent / "data"
    g = optimize(load_model(f"{data / 'odd_mamba.py'}:mamba_n5").graph)
    seqs = np.random.default_rng(0).standard_normal((20, 1, g.steps, 3)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, seqs, progress=False), ("state",)).graph
    q = fuse_gates(fuse_conv_steps(fuse_scans(q)[0])[0])[0]
    return [fuse_conv_steps(fuse_scans(g)[0])[0], fuse_rms_norms(q)[0]]

"""Recurrent (streaming) PyTorch models: one time step is exported, and the state becomes IR state.

A streaming model is an nn.Module with
    forward(x)            x (B, T, d_in) -> (B, ...): the whole sequence at once (the training form),
                          equal to the last step's output of step();
    init_state()          -> tuple of tensors: the state for batch 1, all zeros;
    step(x_t, *state)     x_t (1, d_in) -> (y_t, *next_state), next states shaped like the states.
edgexf.models.lmu and edgexf.models.mamba follow it; a model from other code (e.g. mambapy's Mamba)
gets a few lines of adapter. `step` is exported with torch.export; its state arguments become the
graph's states and its extra results their next values, so the generated C keeps them in a
persistent region between steps (see edgexf/ir/graph.py).
"""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import torch

from edgexf.errors import ModelLoadError
from edgexf.ir.graph import Graph


def is_streaming(module: torch.nn.Module) -> bool:
    return callable(getattr(module, "step", None)) and callable(getattr(module, "init_state", None))


class StepModule(torch.nn.Module):
    """The model's step as a forward function, so torch.export can export it."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x_t, *state):
        return self.model.step(x_t, *state)


def export_step(module: torch.nn.Module, example, spec: str):
    """(ExportedProgram of one step, number of states, steps per sample) from the whole-sequence example
    input (1, T, d_in)."""
    if isinstance(example, (tuple, list)):
        if len(example) != 1:
            raise ModelLoadError(f"{spec}: a streaming model takes one input sequence, got {len(example)}")
        example = example[0]
    if not isinstance(example, torch.Tensor) or example.ndim < 3 or example.shape[0] != 1:
        shape = list(example.shape) if isinstance(example, torch.Tensor) else type(example).__name__
        raise ModelLoadError(
            f"{spec}: a streaming model's example input must be one sequence (1, T, features...), got {shape}"
        )
    module = module.eval()
    with torch.no_grad():  # clones: torch.export would merge states that are one tensor object into one
        state = tuple(s.clone() if isinstance(s, torch.Tensor) else s for s in module.init_state())
    for k, s in enumerate(state):
        if not isinstance(s, torch.Tensor) or s.dtype != torch.float32:
            raise ModelLoadError(f"{spec}: init_state()[{k}] must be a float32 tensor")
        if torch.count_nonzero(s):
            raise ModelLoadError(
                f"{spec}: init_state()[{k}] is not all zeros; the generated reset() zeroes the state, so "
                "start from zeros (fold a nonzero start into the first step)"
            )
    try:
        ep = torch.export.export(StepModule(module), (example[:, 0].contiguous(), *state))
    except Exception as e:
        raise ModelLoadError(f"torch.export of {spec}'s step() failed: {type(e).__name__}: {e}") from e
    n_out = len(ep.graph_signature.user_outputs)
    if n_out != len(state) + 1:
        raise ModelLoadError(
            f"{spec}: step(x_t, *state) must return (y_t, *next_state): {len(state)} states, so "
            f"{len(state) + 1} results, got {n_out}"
        )
    return ep, len(state), int(example.shape[1])


def state_names(module: torch.nn.Module, n_states: int) -> list[str]:
    """The module's state_names() if it has one, else step()'s own names for its state arguments
    (step(self, x, h, conv) -> h, conv), else state_k."""
    if callable(getattr(module, "state_names", None)):
        names = [str(n) for n in module.state_names()]
        if len(names) == n_states and len(set(names)) == n_states:
            return names
    params = list(inspect.signature(module.step).parameters.values())[1:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names if len(names) == n_states else [f"state_{k}" for k in range(n_states)]


def as_streaming(graph: Graph, n_states: int, steps: int, names: list[str] | None = None) -> Graph:
    """The exported step graph (inputs x_t, *states; outputs y_t, *next states) as a streaming Graph;
    `names` renames the states (the generated C's buffers are named after them)."""
    g = _renamed(graph, dict(zip(graph.inputs[1:], names or [], strict=False)))
    g.states = list(zip(g.inputs[1:], g.outputs[1:], strict=True))
    g.inputs, g.outputs, g.steps = g.inputs[:1], g.outputs[:1], steps
    if len(g.states) != n_states:
        raise ModelLoadError(f"expected {n_states} states, the exported step has {len(g.states)}")
    return g.verify()


def _renamed(graph: Graph, names: dict[str, str]) -> Graph:
    g = graph.copy()
    names = {old: new for old, new in names.items() if old != new and new not in g.tensors}
    if not names:
        return g
    g.tensors = {names.get(k, k): replace(t, name=names.get(k, k)) for k, t in g.tensors.items()}
    for op in g.ops:
        op.inputs = [names.get(n, n) for n in op.inputs]
    g.inputs = [names.get(n, n) for n in g.inputs]
    return g


def whole_sequence(module: torch.nn.Module, sequence_shape: tuple[int, ...], output_shape: tuple[int, ...]):
    """The original model on a batch of whole sequences (B, T, ...) -> (B, *output_shape: one step's
    output), for test vectors and evaluation. Samples may come with the graph's io_shape (1, T, ...)."""

    def original(x):
        x = np.asarray(x, np.float32).reshape((-1, *sequence_shape))
        with torch.no_grad():
            outs = [module(torch.from_numpy(np.ascontiguousarray(b))) for b in _batches(x)]
        return np.concatenate([o.numpy() for o in outs]).reshape((-1, *output_shape))

    return original


def _batches(x, size: int = 256):
    for i in range(0, len(x), size):
        yield x[i : i + size]

"""The streaming protocol of the recurrent models (LMU, Mamba), and helpers that use it.

A streaming model has
    forward(x)            x (B, T, d_in) -> logits (B, classes) of the last step (whole sequence, training)
    init_state()          -> tuple of zero tensors, each of shape (1, ...): the state for batch 1
    step(x_t, *state)     x_t (1, d_in) -> (logits_t (1, classes), *new_state), same shapes as state
and after T steps from init_state, logits_t equals forward(x)[0]. step is a pure function of its
arguments (no Python state, no in-place ops, no data-dependent control flow), so torch.export turns it
into one graph whose state inputs and outputs become the board's persistent state (the compiler's
side: edgexf/frontends/streaming.py, whose export_step this module's tests use too).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn


class Streaming(Protocol):
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def init_state(self) -> tuple[torch.Tensor, ...]: ...

    def step(self, x_t: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]: ...


@torch.no_grad()
def run_steps(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits of every step, x (B, T, d_in) -> (B, T, classes), running `step` from init_state() for each
    sequence (batch 1, as on the board). O(B * T) Python calls: for checks, not for speed."""
    out = []
    for seq in x:
        state, logits = model.init_state(), []
        for x_t in seq:
            logits_t, *state = model.step(x_t[None], *state)
            logits.append(logits_t[0])
        out.append(torch.stack(logits))
    return torch.stack(out)

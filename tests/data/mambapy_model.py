"""A Mamba built by other code: mambapy's (pip mambapy==1.2.0) two-layer Mamba with a linear input
and a classifier on the last step, given the few lines of adapter edgexf's streaming protocol asks
for (init_state, step). forward() is mambapy's own parallel scan (pscan); step() its own step().

    edgexf compile tests/data/mambapy_model.py:build --board stm32f746 -o build
"""

from __future__ import annotations

import torch
from mambapy.mamba import Mamba, MambaConfig
from torch import nn


class MambapyClassifier(nn.Module):
    def __init__(self, d_in: int = 6, classes: int = 5):
        super().__init__()
        self.config = MambaConfig(d_model=16, n_layers=2, d_state=4, expand_factor=2, d_conv=3)
        self.embed = nn.Linear(d_in, 16)
        self.mamba = Mamba(self.config)
        self.head = nn.Linear(16, classes)

    def forward(self, x):  # (B, T, d_in) -> (B, classes), mambapy's parallel form
        return self.head(self.mamba(self.embed(x))[:, -1])

    def init_state(self):
        c = self.config
        per_layer = (torch.zeros(1, c.d_inner, c.d_state), torch.zeros(1, c.d_inner, c.d_conv - 1))
        return per_layer * c.n_layers

    def step(self, x_t, *state):
        caches = [(state[2 * i], state[2 * i + 1]) for i in range(self.config.n_layers)]
        y, caches = self.mamba.step(self.embed(x_t), caches)
        return (self.head(y), *[t for cache in caches for t in cache])


def build(steps: int = 20, seed: int = 0):
    torch.manual_seed(seed)
    return MambapyClassifier().eval(), torch.randn(1, steps, 6)

"""A small recurrent model for the streaming tests, using only long-supported ops (linear, add, mul,
relu): h_t = relu(W_h h_{t-1} * 0.5 + W_x x_t), and a second state c_t = c_{t-1} + h_t (a running sum),
logits_t = head(h_t + 0.1 c_t). Two states of different shapes, so the state region has two entries.

    edgexf compile tests/data/toy_rnn.py:build --board stm32f746 -o build
"""

from __future__ import annotations

import torch
from torch import nn


class ToyRNN(nn.Module):
    def __init__(self, d_in: int = 3, hidden: int = 8, classes: int = 4):
        super().__init__()
        self.inp = nn.Linear(d_in, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)
        self.head = nn.Linear(hidden, classes)
        self.hidden = hidden

    def init_state(self):
        return torch.zeros(1, self.hidden), torch.zeros(1, 1, self.hidden)

    def step(self, x_t, h, c):
        h = torch.relu(self.rec(h) * 0.5 + self.inp(x_t))
        c = c + h.unsqueeze(1)
        return self.head(h + c.squeeze(1) * 0.1), h, c

    def forward(self, x):  # (B, T, d_in) -> (B, classes): the steps in a loop, batched
        h = torch.zeros(x.shape[0], self.hidden)
        c = torch.zeros(x.shape[0], 1, self.hidden)
        for t in range(x.shape[1]):
            y, h, c = self.step(x[:, t], h, c)
        return y


def build(steps: int = 12, seed: int = 0):
    torch.manual_seed(seed)
    return ToyRNN().eval(), torch.randn(1, steps, 3)


def long(steps: int = 1000):
    """The same model over 1000 steps: the C must not drift from the reference."""
    return build(steps)

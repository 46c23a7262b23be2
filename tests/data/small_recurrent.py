"""Small, untrained edgexf Mamba and LMU over 1000 steps, for the no-drift tests: the generated C's step
must equal the reference at every step of a long sequence (exp, softplus, silu, rsqrt, the scan, the
Legendre memory)."""

from __future__ import annotations

import torch

from edgexf.models.lmu import LMU, LMUConfig
from edgexf.models.mamba import Mamba, MambaConfig


def mamba(steps: int = 1000):
    torch.manual_seed(0)
    cfg = MambaConfig(input_dim=4, num_classes=3, d_model=8, n_layer=1, d_state=4, expand=2, d_conv=3)
    return Mamba(cfg).eval(), torch.randn(1, steps, 4)


def lmu(steps: int = 1000):
    torch.manual_seed(0)
    cfg = LMUConfig(input_dim=4, num_classes=3, embed_dim=8, memory_dim=4, order=6, theta=50.0)
    return LMU(cfg).eval(), torch.randn(1, steps, 4)

"""Untrained edgexf Mambas of odd sizes (d_inner 15, d_state 5 or 65; d_conv 2, or 4 as the example models)
for the selective-scan and conv-step kernels' end-to-end tests (tests/test_scan_end_to_end.py): the
recognized scan and conv on shapes no example model has."""

from __future__ import annotations

import torch

from edgexf.models.mamba import Mamba, MambaConfig


def _mamba(d_state: int, steps: int, d_conv: int = 2):
    torch.manual_seed(d_state)
    sizes = {"d_model": 5, "n_layer": 2, "d_state": d_state, "expand": 3, "d_conv": d_conv}
    cfg = MambaConfig(input_dim=3, num_classes=3, **sizes)
    return Mamba(cfg).eval(), torch.randn(1, steps, 3)


def mamba_n5(steps: int = 9):
    return _mamba(5, steps)


def mamba_n65(steps: int = 9):
    return _mamba(65, steps, d_conv=4)

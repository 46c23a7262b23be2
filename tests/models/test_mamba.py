"""Mamba-1: mamba_ssm's parameter names, shapes and initialisation, RMSNorm, and the selective scan."""

from __future__ import annotations

import math

import pytest
import torch
from model_helpers import assert_trains
from torch.nn import functional as F

from edgexf.models.mamba import Mamba, MambaConfig, RMSNorm, selective_scan

SMALL = dict(input_dim=5, num_classes=3, d_model=8, n_layer=2, d_state=4, expand=2, d_conv=3)


def test_parameter_names_and_shapes_are_mamba_ssms():
    cfg = MambaConfig(input_dim=28, d_model=32, n_layer=2, d_state=16)
    D, E, N, R, K = 32, 64, 16, 2, 4
    assert cfg.d_inner == E and cfg.rank == R == math.ceil(D / 16)
    shapes = {k: tuple(v.shape) for k, v in Mamba(cfg).state_dict().items()}
    for i in range(2):
        p = f"layers.{i}."
        assert shapes[p + "mixer.in_proj.weight"] == (2 * E, D)
        assert shapes[p + "mixer.conv1d.weight"] == (E, 1, K) and shapes[p + "mixer.conv1d.bias"] == (E,)
        assert shapes[p + "mixer.x_proj.weight"] == (R + 2 * N, E)
        assert shapes[p + "mixer.dt_proj.weight"] == (E, R) and shapes[p + "mixer.dt_proj.bias"] == (E,)
        assert shapes[p + "mixer.A_log"] == (E, N) and shapes[p + "mixer.D"] == (E,)
        assert shapes[p + "mixer.out_proj.weight"] == (D, E)
        assert shapes[p + "norm.weight"] == (D,)
        # mamba_ssm's in_proj, x_proj and out_proj have no bias
        assert not any(k.startswith(p + f"mixer.{n}.bias") for k in shapes for n in ("in_proj", "x_proj"))
    assert shapes["norm_f.weight"] == (D,)
    assert sum(math.prod(s) for s in shapes.values()) == 21194


def test_initialisation_follows_mamba_ssm():
    torch.manual_seed(0)
    cfg = MambaConfig(d_model=32, d_state=16, dt_min=1e-3, dt_max=1e-1)
    mixer = Mamba(cfg).layers[0].mixer
    torch.testing.assert_close(mixer.A_log, torch.log(torch.arange(1.0, 17.0)).expand(64, 16))
    torch.testing.assert_close(mixer.D, torch.ones(64))
    dt = F.softplus(mixer.dt_proj.bias)  # softplus(softplus^-1(dt)) = dt
    assert dt.min() >= 1e-3 * (1 - 1e-4) and dt.max() <= 1e-1 * (1 + 1e-4)
    assert mixer.dt_proj.weight.abs().max() <= cfg.rank**-0.5


def test_rmsnorm_matches_torch():
    norm = RMSNorm(6, eps=1e-5)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    x = torch.randn(4, 3, 6)
    torch.testing.assert_close(norm(x), F.rms_norm(x, (6,), norm.weight, eps=1e-5))


def test_selective_scan_is_the_recurrence_written_out():
    torch.manual_seed(0)
    B, T, E, N = 2, 7, 3, 4
    dA, dBx, C = torch.rand(B, T, E, N), torch.randn(B, T, E, N), torch.randn(B, T, N)
    # h_t = sum_{s <= t} (prod_{s < r <= t} dA_r) dBx_s
    expected = torch.zeros(B, T, E)
    for t in range(T):
        h = sum(torch.prod(dA[:, s + 1 : t + 1], dim=1) * dBx[:, s] for s in range(t + 1))
        expected[:, t] = (h * C[:, t, None, :]).sum(-1)
    torch.testing.assert_close(selective_scan(dA, dBx, C), expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(d_state=0), "d_state must be >= 1"),
        (dict(d_conv=1), "d_conv must be >= 2"),
        (dict(dt_rank=-1), "dt_rank must be >= 0"),
        (dict(dt_min=0.2, dt_max=0.1), "dt_min <= dt_max"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MambaConfig(**kwargs)


def test_config_counts_and_round_trip():
    cfg = MambaConfig(d_model=32, n_layer=2, d_state=8, d_conv=4)
    assert cfg.state_floats == 2 * 64 * (3 + 8)
    assert MambaConfig(**cfg.to_dict()) == cfg
    assert MambaConfig(d_model=48, dt_rank=5).rank == 5


def test_step_refuses_the_wrong_number_of_state_tensors():
    model = Mamba(MambaConfig(**SMALL))
    with pytest.raises(ValueError, match="expected 4 state tensors, got 2"):
        model.step(torch.zeros(1, 5), *model.init_state()[:2])


def test_trains_a_few_steps():
    torch.manual_seed(0)
    model = Mamba(MambaConfig(**SMALL))
    x, y = torch.randn(16, 10, 5), torch.randint(0, 3, (16,))
    assert_trains(model, x, y)

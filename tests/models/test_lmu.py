"""The LMU: Legendre (A, B), their discretization, stability checks, and the FFT memory vs the recurrence."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from model_helpers import assert_trains

from edgexf.models.lmu import (
    LMU,
    LegendreMemory,
    LMUConfig,
    discretize,
    euler_min_theta,
    legendre_ab,
    spectral_radius,
    zoh_max_theta,
)


def test_legendre_ab_matches_voelker_2019():
    A, B = legendre_ab(3, 1.0)
    np.testing.assert_array_equal(A.numpy(), [[-1, -1, -1], [3, -3, -3], [-5, 5, -5]])
    np.testing.assert_array_equal(B.numpy(), [1, -3, 5])
    A2, B2 = legendre_ab(6, 4.0)
    torch.testing.assert_close(A2 * 4.0, legendre_ab(6, 1.0)[0])
    torch.testing.assert_close(B2 * 4.0, legendre_ab(6, 1.0)[1])


@pytest.mark.parametrize("order, theta", [(4, 10.0), (16, 28.0), (32, 100.0)])
def test_zoh_matches_scipy_expm(order, theta):
    A, B = legendre_ab(order, theta)
    A_bar, B_bar = discretize(A, B, "zoh")
    # Van Loan: expm([[A, B], [0, 0]]) = [[A_bar, B_bar], [0, 1]] for a step of 1
    block = np.zeros((order + 1, order + 1))
    block[:order, :order], block[:order, order] = A.numpy(), B.numpy()
    expected = scipy.linalg.expm(block)
    np.testing.assert_allclose(A_bar.numpy(), expected[:order, :order], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(B_bar.numpy(), expected[:order, order], rtol=1e-9, atol=1e-12)
    assert spectral_radius(A_bar) < 1.0


def test_euler_is_first_order():
    A, B = legendre_ab(4, 50.0)
    A_bar, B_bar = discretize(A, B, "euler")
    torch.testing.assert_close(A_bar, torch.eye(4, dtype=torch.float64) + A)
    torch.testing.assert_close(B_bar, B)
    with pytest.raises(ValueError, match="'zoh' or 'euler'"):
        discretize(A, B, "bilinear")


def test_buffers_are_float32_constants_in_the_state_dict():
    mem = LegendreMemory(8, 20.0)
    assert mem.A_bar.shape == (8, 8) and mem.B_bar.shape == (8,)
    assert mem.A_bar.dtype == mem.B_bar.dtype == torch.float32
    assert not any(p.requires_grad for p in mem.buffers()) and not list(mem.parameters())
    assert set(LMU(LMUConfig(depth=1)).state_dict()) >= {"blocks.0.memory.A_bar", "blocks.0.memory.B_bar"}


def test_euler_with_too_small_theta_is_refused_with_what_to_do():
    limit = euler_min_theta(16)
    unstable = r"Euler .* unstable: the spectral radius of A_bar is [0-9.]+ >= 1"
    with pytest.raises(ValueError, match=unstable) as e:
        LegendreMemory(16, 0.9 * limit, "euler")
    message = str(e.value)
    assert "larger theta" in message and "lower order" in message and "zoh" in message
    assert f"{limit:.4g}" in message
    LegendreMemory(16, 1.1 * limit, "euler")  # above the bound: accepted
    LegendreMemory(16, 0.9 * limit, "zoh")  # ZOH is stable for any theta
    with pytest.raises(ValueError, match="unstable"):
        LMU(LMUConfig(order=16, theta=10.0, discretization="euler"))


def test_zoh_warns_when_the_memory_barely_decays():
    bound = zoh_max_theta(4)
    with pytest.warns(UserWarning, match=r"within 1e-06 of 1.*below about " + re.escape(f"{bound:.3g}")):
        LegendreMemory(4, 2 * bound)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LegendreMemory(4, bound / 2)


def test_impulse_response_is_powers_of_a_bar_times_b_bar():
    mem = LegendreMemory(6, 12.0)
    H = mem.impulse_response(37)
    A_bar, B_bar = mem.A_bar.double(), mem.B_bar.double()
    expected = torch.stack([torch.linalg.matrix_power(A_bar, k) @ B_bar for k in range(37)])
    torch.testing.assert_close(H, expected, rtol=1e-12, atol=1e-12)


# float32 FFT of length 2T: errors grow like log T times the memory's magnitude (|m| <~ 3 here)
@pytest.mark.parametrize("T, atol", [(28, 1e-5), (1000, 2e-5)])
def test_fft_memory_equals_recurrence(T, atol):
    torch.manual_seed(0)
    mem = LegendreMemory(12, T / 2)
    u = torch.randn(3, T, 5)
    m = mem(u)
    assert m.shape == (3, T, 5, 12)
    torch.testing.assert_close(m, mem.recurrence(u), rtol=0, atol=atol)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(order=0), "order must be >= 1"),
        (dict(theta=0.0), "theta must be > 0"),
        (dict(discretization="rk4"), "'zoh' or 'euler'"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LMUConfig(**kwargs)


def test_config_counts_and_round_trip():
    cfg = LMUConfig(memory_dim=16, order=8, depth=2)
    assert cfg.state_floats == 2 * 16 * 8
    assert LMUConfig(**cfg.to_dict()) == cfg
    model = LMU(LMUConfig(input_dim=28, embed_dim=32, memory_dim=32, order=16, depth=1))
    assert sum(p.numel() for p in model.parameters()) == 23114  # examples/smnist.py's LMU


def test_trains_a_few_steps():
    torch.manual_seed(0)
    model = LMU(LMUConfig(input_dim=6, num_classes=3, embed_dim=8, memory_dim=4, order=4, theta=10.0))
    x, y = torch.randn(16, 10, 6), torch.randint(0, 3, (16,))
    assert_trains(model, x, y)

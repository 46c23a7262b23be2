"""Mamba-1 (selective state space) in plain PyTorch, trained on whole sequences, run one step at a time.

Gu and Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", Algorithm 2 and
section 3. Parameter names, shapes and initialisation are those of mamba_ssm's `Mamba` and mambapy's
`MambaBlock` (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj; `layers.i.mixer`, `layers.i.norm`,
`norm_f`), so weights trained with either map over by name.

Glossary (shapes in comments use these):
    B   batch size        T   time steps          d_in  input features per step
    D   d_model           E   d_inner = expand * D
    N   d_state           R   dt_rank             K     d_conv (causal conv kernel)

Per block, with x (B, T, D):
    x, z = in_proj(RMSNorm(x)).chunk(2)          (B, T, E) each
    x = SiLU(causal depthwise conv1d(x))         kernel K over time
    dt, B, C = x_proj(x).split(R, N, N)          dt = softplus(dt_proj(dt)), (B, T, E)
    h_t = exp(dt_t A) h_{t-1} + dt_t B_t x_t     A = -exp(A_log), h (B, E, N): the selective scan
    y_t = C_t . h_t + D x_t                      (B, E)
    out = x + out_proj(y * SiLU(z))
then RMSNorm (norm_f) and a linear classifier on the last step.

Streaming protocol (what the compiler relies on): init_state() gives per block a conv FIFO (1, E, K-1)
(the last K-1 inputs of the conv) and the scan state h (1, E, N), all zeros; step(x_t, *state) ->
(logits_t, *new_state) equals forward after T steps. step uses only linear layers, elementwise
arithmetic (exp, SiLU, softplus, rsqrt), sum/mean over the last axis, cat, slices and reshapes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class MambaConfig:
    input_dim: int = 28  # d_in
    num_classes: int = 10
    d_model: int = 32  # D
    n_layer: int = 2
    d_state: int = 16  # N
    expand: int = 2  # E = expand * D
    d_conv: int = 4  # K
    dt_rank: int = 0  # R; 0 means mamba's default, ceil(D / 16)
    dt_min: float = 1e-3  # dt is initialised log-uniform in [dt_min, dt_max]
    dt_max: float = 1e-1
    dt_init_floor: float = 1e-4
    eps: float = 1e-5  # RMSNorm

    def __post_init__(self) -> None:
        for name in ("input_dim", "num_classes", "d_model", "n_layer", "d_state", "expand", "d_conv"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        if self.d_conv < 2:
            raise ValueError(f"d_conv must be >= 2 (the conv state keeps K - 1 inputs), not {self.d_conv}")
        if self.dt_rank < 0:
            raise ValueError(f"dt_rank must be >= 0 (0: ceil(d_model / 16)), not {self.dt_rank}")
        if not 0 < self.dt_min <= self.dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, not {self.dt_min} and {self.dt_max}")

    @property
    def d_inner(self) -> int:
        return self.expand * self.d_model

    @property
    def rank(self) -> int:
        return self.dt_rank or math.ceil(self.d_model / 16)

    @property
    def state_floats(self) -> int:
        """Floats of recurrent state the board keeps between steps: conv FIFO and h, per block."""
        return self.n_layer * self.d_inner * (self.d_conv - 1 + self.d_state)

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.eps) * self.weight


class MambaBlock(nn.Module):
    """The Mamba mixer: in_proj, causal depthwise conv, selective scan, SiLU gate, out_proj."""

    def __init__(self, cfg: MambaConfig):
        super().__init__()
        D, E, N, R, K = cfg.d_model, cfg.d_inner, cfg.d_state, cfg.rank, cfg.d_conv
        self.d_inner, self.d_state, self.dt_rank, self.d_conv = E, N, R, K
        self.in_proj = nn.Linear(D, 2 * E, bias=False)
        self.conv1d = nn.Conv1d(E, E, kernel_size=K, groups=E, padding=K - 1, bias=True)
        self.x_proj = nn.Linear(E, R + 2 * N, bias=False)
        self.dt_proj = nn.Linear(R, E, bias=True)
        self.out_proj = nn.Linear(E, D, bias=False)

        # mamba_ssm's initialisation: dt_proj keeps the variance of its rank-R input; its bias is
        # softplus^-1 of dt drawn log-uniform in [dt_min, dt_max], so softplus(dt_proj(.)) starts there.
        nn.init.uniform_(self.dt_proj.weight, -(R**-0.5), R**-0.5)
        dt = torch.exp(torch.rand(E) * (math.log(cfg.dt_max) - math.log(cfg.dt_min)) + math.log(cfg.dt_min))
        dt = dt.clamp(min=cfg.dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus^-1(dt)
        # S4D-real: A = -(1, 2, ..., N) for every channel, stored as its log so A stays negative.
        A = torch.arange(1, N + 1, dtype=torch.float32).repeat(E, 1)  # (E, N)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(E))

    def _A(self) -> torch.Tensor:
        return torch.exp(self.A_log) * -1.0  # (E, N); a product, not a negation: the op set has mul

    def _ssm_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (..., E) -> dt (..., E), B (..., N), C (..., N)."""
        dt, B, C = torch.split(self.x_proj(x), [self.dt_rank, self.d_state, self.d_state], dim=-1)
        return F.softplus(self.dt_proj(dt)), B, C

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        x, z = self.in_proj(x).chunk(2, dim=-1)  # (B, T, E) each
        x = self.conv1d(x.transpose(1, 2))[..., :T].transpose(1, 2)  # causal: drop the K-1 look-ahead
        x = F.silu(x)
        dt, B, C = self._ssm_inputs(x)  # (B, T, E), (B, T, N), (B, T, N)
        dA = torch.exp(dt.unsqueeze(-1) * self._A())  # (B, T, E, N)
        dBx = (dt * x).unsqueeze(-1) * B.unsqueeze(2)  # (B, T, E, N)
        y = selective_scan(dA, dBx, C) + x * self.D  # (B, T, E)
        return self.out_proj(y * F.silu(z))  # (B, T, D)

    def step(
        self, x: torch.Tensor, conv_state: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (1, D), conv_state (1, E, K-1), h (1, E, N) -> (out (1, D), conv_state', h')."""
        x, z = self.in_proj(x).chunk(2, dim=-1)  # (1, E) each
        window = torch.cat([conv_state, x.unsqueeze(-1)], dim=-1)  # (1, E, K): the last K inputs
        # the depthwise conv at one position: window (1, E, 1, K) * weight (E, 1, K), summed over K
        x = (window.unsqueeze(2) * self.conv1d.weight).sum(-1).flatten(1) + self.conv1d.bias  # (1, E)
        x = F.silu(x)
        dt, B, C = self._ssm_inputs(x)  # (1, E), (1, N), (1, N)
        dA = torch.exp(dt.unsqueeze(-1) * self._A())  # (1, E, N)
        h = dA * h + (dt * x).unsqueeze(-1) * B.unsqueeze(1)  # (1, E, N)
        y = (h * C.unsqueeze(1)).sum(-1) + x * self.D  # (1, E)
        return self.out_proj(y * F.silu(z)), window[:, :, 1:], h


def selective_scan(dA: torch.Tensor, dBx: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """y_t = C_t . h_t with h_t = dA_t * h_{t-1} + dBx_t, h_0 = 0. dA, dBx (B, T, E, N), C (B, T, N).

    Sequential over T: T small elementwise steps, which is fast enough for the 28-100 step sequences
    used here (autograd keeps T copies of h, (B, E, N) each).
    """
    h = torch.zeros_like(dBx[:, 0])  # (B, E, N)
    hs = []
    # unbind, not dA[:, t]: the backward of T selects would zero-fill T full-size gradients
    for dA_t, dBx_t in zip(dA.unbind(1), dBx.unbind(1), strict=True):
        h = dA_t * h + dBx_t
        hs.append(h)
    return (torch.stack(hs, dim=1) @ C.unsqueeze(-1)).squeeze(-1)  # (B, T, E, N) @ (B, T, N, 1) -> (B, T, E)


class ResidualBlock(nn.Module):
    """x + mixer(RMSNorm(x))."""

    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.mixer = MambaBlock(cfg)
        self.norm = RMSNorm(cfg.d_model, cfg.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mixer(self.norm(x))

    def step(self, x: torch.Tensor, conv_state: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out, conv_state, h = self.mixer.step(self.norm(x), conv_state, h)
        return x + out, conv_state, h


class Mamba(nn.Module):
    """Linear embedding, n_layer residual Mamba blocks, RMSNorm, linear classifier on the last step."""

    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Linear(cfg.input_dim, cfg.d_model)
        self.layers = nn.ModuleList(ResidualBlock(cfg) for _ in range(cfg.n_layer))
        self.norm_f = RMSNorm(cfg.d_model, cfg.eps)
        self.head = nn.Linear(cfg.d_model, cfg.num_classes)
        # mamba_ssm's rescale_prenorm_residual: out_proj scaled by 1/sqrt(n_layer) (one residual add each)
        with torch.no_grad():
            for layer in self.layers:
                layer.mixer.out_proj.weight /= math.sqrt(cfg.n_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embedding(x)  # (B, T, d_in) -> (B, T, D)
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm_f(x[:, -1]))  # (B, num_classes)

    def state_names(self) -> list[str]:
        """Names for init_state()'s tensors (the generated C's buffers are named after them)."""
        return [name for i in range(len(self.layers)) for name in (f"conv{i}", f"h{i}")]

    def init_state(self) -> tuple[torch.Tensor, ...]:
        """Per block: conv FIFO (1, E, K-1) and h (1, E, N), zeros: (conv_0, h_0, conv_1, h_1, ...)."""
        cfg, device = self.cfg, self.head.weight.device
        state = []
        for _ in self.layers:
            state.append(torch.zeros(1, cfg.d_inner, cfg.d_conv - 1, device=device))
            state.append(torch.zeros(1, cfg.d_inner, cfg.d_state, device=device))
        return tuple(state)

    def step(self, x_t: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x_t (1, d_in), state from init_state or the last step -> (logits_t (1, classes), *new_state)."""
        if len(state) != 2 * len(self.layers):
            raise ValueError(f"expected {2 * len(self.layers)} state tensors, got {len(state)}")
        x = self.embedding(x_t)  # (1, D)
        new_state = []
        for i, layer in enumerate(self.layers):
            x, conv_state, h = layer.step(x, state[2 * i], state[2 * i + 1])
            new_state += [conv_state, h]
        return (self.head(self.norm_f(x)), *new_state)

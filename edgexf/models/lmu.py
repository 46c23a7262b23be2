"""The Legendre Memory Unit (LMU), trained in parallel and run as a recurrence, in LMUFormer-style blocks.

The Legendre memory (Voelker, Kajic and Eliasmith 2019, "Legendre Memory Units", NeurIPS) keeps the
last `theta` steps of a scalar signal u as the coefficients of its first `order` Legendre polynomials:
    theta * dm/dt = A m + B u,  A[i, j] = (2i + 1) * (-1 if i < j else (-1)^(i - j + 1)),
                                B[i] = (2i + 1) * (-1)^i
discretized once, with a step of 1 (theta is counted in time steps), to m_t = A_bar m_{t-1} + B_bar u_t.

The memory is linear in time, so (Chilkuri and Eliasmith 2021, "Parallelizing Legendre Memory Unit
Training", ICML) each channel's memory is a convolution of its input u with the impulse response
H[k] = A_bar^k B_bar: training computes it for every step at once with an FFT, and the board runs the
recurrence, one step at a time, with m as the persistent state. The block around it follows LMUFormer
(Liu et al. 2024): an embedding, the memory of every channel projected back to the embedding, a
channel-mixing MLP, pre-norm residuals; the classifier reads the last step.

Glossary (shapes in comments use these):
    B   batch size          T   time steps           d_in  input features per step
    D   embed_dim           C   memory channels (u has C = memory_dim values per step)
    d   order (Legendre coefficients per channel)   F  MLP hidden size, mlp_ratio * D

Streaming protocol (what the compiler relies on): forward(x) (B, T, d_in) -> logits of the last step;
init_state() -> one memory (1, C, d) per block, zeros; step(x_t, *state) -> (logits_t, *new_state),
equal to forward after T steps. step uses only linear layers, elementwise arithmetic, LayerNorm, GELU
and reshapes, so torch.export turns it into a graph of ops that the C kernels have.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

# ZOH keeps every eigenvalue inside the unit circle in exact arithmetic, but a radius this close to 1
# means the memory barely decays, and float32 rounding of A_bar can push it to 1 or beyond.
_RADIUS_MARGIN = 1e-6


@dataclass(frozen=True)
class LMUConfig:
    input_dim: int = 28  # d_in
    num_classes: int = 10
    embed_dim: int = 32  # D
    memory_dim: int = 32  # C: channels of u, each with its own Legendre memory
    order: int = 16  # d
    theta: float = 28.0  # the memory's window, in time steps
    depth: int = 1  # LMU blocks
    mlp_ratio: float = 2.0
    discretization: str = "zoh"  # "zoh" (zero-order hold) or "euler"

    def __post_init__(self) -> None:
        for name in ("input_dim", "num_classes", "embed_dim", "memory_dim", "order", "depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        if not self.theta > 0:
            raise ValueError(f"theta must be > 0 (time steps), not {self.theta}")
        if self.discretization not in ("zoh", "euler"):
            raise ValueError(f"discretization must be 'zoh' or 'euler', not {self.discretization!r}")

    @property
    def state_floats(self) -> int:
        """Floats of recurrent state the board keeps between steps: one (C, d) memory per block."""
        return self.depth * self.memory_dim * self.order

    def to_dict(self) -> dict:
        return asdict(self)


def legendre_ab(order: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The continuous-time (A (d, d), B (d,)) of Voelker 2019, divided by theta, in float64."""
    i = torch.arange(order, dtype=torch.float64)
    r = (2 * i + 1)[:, None]  # (d, 1)
    diff = i[:, None] - i[None, :]  # i - j
    A = r * torch.where(i[:, None] < i[None, :], -1.0, (-1.0) ** (diff + 1))
    B = (2 * i + 1) * (-1.0) ** i
    return A / theta, B / theta


def discretize(A: torch.Tensor, B: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(A_bar, B_bar) for a step of 1, in float64. zoh: A_bar = expm(A), B_bar = A^-1 (A_bar - I) B;
    euler: A_bar = I + A, B_bar = B."""
    A, B = A.double(), B.double()
    eye = torch.eye(A.shape[0], dtype=torch.float64)
    if method == "zoh":
        A_bar = torch.linalg.matrix_exp(A)
        return A_bar, torch.linalg.solve(A, (A_bar - eye) @ B)
    if method == "euler":
        return eye + A, B.clone()
    raise ValueError(f"discretization must be 'zoh' or 'euler', not {method!r}")


def spectral_radius(M: torch.Tensor) -> float:
    return torch.linalg.eigvals(M.double()).abs().max().item()


def euler_min_theta(order: int) -> float:
    """The smallest theta for which Euler's A_bar = I + A/theta is stable: |1 + mu/theta| < 1 for every
    eigenvalue mu of A (theta = 1), i.e. theta > |mu|^2 / (2 |Re mu|)."""
    mu = torch.linalg.eigvals(legendre_ab(order, 1.0)[0])
    return (mu.abs() ** 2 / (2 * mu.real.abs())).max().item()


def zoh_max_theta(order: int) -> float:
    """The theta above which ZOH's slowest mode, exp(Re mu / theta), is within _RADIUS_MARGIN of 1. It
    grows with the order: higher orders have no slower mode than lower ones."""
    slowest = torch.linalg.eigvals(legendre_ab(order, 1.0)[0]).real.abs().min().item()
    return slowest / -math.log1p(-_RADIUS_MARGIN)


class LegendreMemory(nn.Module):
    """C independent Legendre memories of order d, one per input channel.

    A_bar (d, d) and B_bar (d,) are buffers (constants to the compiler), fixed at construction.
    forward: u (B, T, C) -> m (B, T, C, d), every step at once (FFT). step: one step of the recurrence.
    """

    def __init__(self, order: int, theta: float, discretization: str = "zoh"):
        super().__init__()
        self.order, self.theta, self.discretization = order, theta, discretization
        A_bar, B_bar = discretize(*legendre_ab(order, theta), discretization)
        radius = spectral_radius(A_bar.float())  # as stored, in float32
        if discretization == "euler" and radius >= 1.0:
            raise ValueError(
                f"Euler discretization of the Legendre memory with order {order} and theta {theta} is "
                f"unstable: the spectral radius of A_bar is {radius:.4g} >= 1, so the memory grows without "
                f"bound. Use a larger theta (> {euler_min_theta(order):.4g} steps for order {order}), a "
                "lower order, or discretization='zoh'"
            )
        if radius >= 1.0 - _RADIUS_MARGIN:
            warnings.warn(
                f"the Legendre memory (order {order}, theta {theta}, {discretization}) has A_bar with "
                f"spectral radius {radius:.8f}, within {_RADIUS_MARGIN} of 1: it barely decays and float32 "
                f"rounding may make it drift or grow; use a smaller theta (below about "
                f"{zoh_max_theta(order):.3g} steps for order {order})",
                stacklevel=2,
            )
        self.register_buffer("A_bar", A_bar.float())  # (d, d)
        self.register_buffer("B_bar", B_bar.float())  # (d,)

    def impulse_response(self, T: int) -> torch.Tensor:
        """H (T, d), H[k] = A_bar^k B_bar, in float64 from the float32 buffers (the system the recurrence
        runs). Powers by doubling: log2(T) batched matmuls."""
        A_bar, B_bar = self.A_bar.double(), self.B_bar.double()
        powers = torch.eye(self.order, dtype=torch.float64, device=A_bar.device)[None]  # (1, d, d): A_bar^0
        step = A_bar  # A_bar^len(powers)
        while len(powers) < T:
            powers = torch.cat([powers, step @ powers])  # A_bar^(n..2n-1) = A_bar^n A_bar^(0..n-1)
            step = step @ step
        return powers[:T] @ B_bar  # (T, d)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        B, T, C = u.shape
        H = self.impulse_response(T).to(u.dtype)  # (T, d)
        n = 2 * T  # zero padding to 2T makes the FFT's circular convolution a linear one
        U = torch.fft.rfft(u, n=n, dim=1)  # (B, n/2+1, C)
        Hf = torch.fft.rfft(H, n=n, dim=0)  # (n/2+1, d)
        m = torch.fft.irfft(U.unsqueeze(-1) * Hf.unsqueeze(1), n=n, dim=1)  # (B, n, C, d)
        return m[:, :T]  # (B, T, C, d): m_t = sum_{j <= t} H[t - j] u_j

    def recurrence(self, u: torch.Tensor) -> torch.Tensor:
        """The same m (B, T, C, d) as forward, one step at a time (O(T) sequential steps; for tests)."""
        m = u.new_zeros(u.shape[0], u.shape[2], self.order)  # (B, C, d)
        out = []
        for t in range(u.shape[1]):
            m = self.step(u[:, t], m)
            out.append(m)
        return torch.stack(out, dim=1)

    def step(self, u: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """u (B, C), m (B, C, d) -> m' = A_bar m + B_bar u per channel, (B, C, d)."""
        return F.linear(m, self.A_bar) + u.unsqueeze(-1) * self.B_bar  # m @ A_bar^T: a constant linear


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # (..., D) -> (..., F) -> (..., D)


class LMUBlock(nn.Module):
    """Pre-norm block: x + GELU(W_m m(W_u norm(x))), then x + mlp(norm(x)).

    W_u encodes each step into C channels, the memory keeps each channel's last theta steps as d
    Legendre coefficients, and W_m reads all C * d coefficients back into D features (the LMU's
    memory-to-hidden path; the residual carries x itself)."""

    def __init__(self, cfg: LMUConfig):
        super().__init__()
        D, C, d = cfg.embed_dim, cfg.memory_dim, cfg.order
        self.norm1 = nn.LayerNorm(D)
        self.u_proj = nn.Linear(D, C)  # W_u
        self.memory = LegendreMemory(d, cfg.theta, cfg.discretization)
        self.m_proj = nn.Linear(C * d, D)  # W_m
        self.norm2 = nn.LayerNorm(D)
        self.mlp = MLP(D, int(D * cfg.mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.memory(self.u_proj(self.norm1(x)))  # (B, T, D) -> (B, T, C) -> (B, T, C, d)
        x = x + F.gelu(self.m_proj(m.flatten(2)))  # (B, T, C*d) -> (B, T, D)
        return x + self.mlp(self.norm2(x))

    def step(self, x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (1, D), m (1, C, d) -> (x' (1, D), m' (1, C, d))."""
        m = self.memory.step(self.u_proj(self.norm1(x)), m)
        x = x + F.gelu(self.m_proj(m.reshape(m.shape[0], -1)))  # (1, C*d) -> (1, D)
        return x + self.mlp(self.norm2(x)), m


class LMU(nn.Module):
    """Embedding, `depth` LMU blocks, LayerNorm, and a linear classifier on the last step."""

    def __init__(self, cfg: LMUConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Linear(cfg.input_dim, cfg.embed_dim)
        self.blocks = nn.ModuleList(LMUBlock(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.embed_dim)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes)  # PyTorch's default init throughout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embedding(x)  # (B, T, d_in) -> (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, -1]))  # (B, num_classes)

    def init_state(self) -> tuple[torch.Tensor, ...]:
        """One zero memory (1, C, d) per block."""
        shape = (1, self.cfg.memory_dim, self.cfg.order)
        return tuple(torch.zeros(shape, device=self.head.weight.device) for _ in self.blocks)

    def state_names(self) -> list[str]:
        """Names for init_state()'s tensors (the generated C's buffers are named after them)."""
        return [f"memory{i}" for i in range(len(self.blocks))]

    def step(self, x_t: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x_t (1, d_in), state from init_state or the last step -> (logits_t (1, classes), *new_state)."""
        x = self.embedding(x_t)  # (1, D)
        new_state = []
        for block, m in zip(self.blocks, state, strict=True):
            x, m = block.step(x, m)
            new_state.append(m)
        return (self.head(self.norm(x)), *new_state)

"""A tiny int8 transformer block of odd widths for the Helium kernels' tails (tests/test_m55_end_to_end.py):
LayerNorm over 37 (37 % 4 = 1 left to the scalar loop), linear layers 37 -> 53 -> 37 -> 23 (k % 16 and
m % 3 tails), a residual add of 9 x 37."""

import numpy as np
import torch
from torch import nn


class Odd(nn.Module):
    """Odd widths everywhere: LayerNorm over 37, an MLP 37 -> 53 -> 37 with a residual, LN + linear to 23."""

    def __init__(self) -> None:
        super().__init__()
        self.ln1, self.fc1, self.fc2 = nn.LayerNorm(37), nn.Linear(37, 53), nn.Linear(53, 37)
        self.ln2, self.head = nn.LayerNorm(37), nn.Linear(37, 23)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (1, 9, 37)
        x = x + self.fc2(nn.functional.gelu(self.fc1(self.ln1(x))))
        return self.head(self.ln2(x))


def build() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    m = Odd().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return m, torch.randn(1, 9, 37)


def write(directory: str) -> None:
    """odd_test.npz (16 samples) and odd_calib.npz (64), x only."""
    rng = np.random.default_rng(0)
    for name, n in (("test", 16), ("calib", 64)):
        x = (rng.standard_normal((n, 9, 37)) * rng.uniform(0.5, 3, (n, 1, 1))).astype(np.float32)
        np.savez(f"{directory}/odd_{name}.npz", x=x)

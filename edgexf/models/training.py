"""Train and evaluate classifiers: AdamW, cosine schedule with linear warmup, cross-entropy.

Generic over models: anything mapping a (B, ...) float batch to (B, num_classes) logits. Runs on the
device of the model's parameters (the CPU unless moved, or `device=` given); data stays on the CPU and
goes over batch by batch. Deterministic for a given seed on a given machine and thread count (on the
CPU): shuffling and augmentation draw from their own CPU torch.Generator, and the global RNG is seeded
for anything inside the model (dropout).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

# augment(x, generator) -> x': a batch-wise input transform applied during training only.
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class History:
    """Per-epoch training metrics (averaged over the epoch's batches, augmented inputs)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # learning rate at the end of each epoch


def random_shift(max_shift: int = 1) -> Augment:
    """Shift each image by up to `max_shift` pixels in x and y, filling with zeros. x: (B, C, H, W).

    Implemented as pad + per-sample crop; O(B) small copies, fine for the small images used here.
    """

    def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        B, _, H, W = x.shape
        s = max_shift
        padded = nn.functional.pad(x, (s, s, s, s))  # (B, C, H + 2s, W + 2s)
        offsets = torch.randint(0, 2 * s + 1, (B, 2), generator=generator)
        return torch.stack(
            [padded[i, :, dy : dy + H, dx : dx + W] for i, (dy, dx) in enumerate(offsets.tolist())]
        )

    return augment


def cosine_with_warmup(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear up to 1 over `warmup_steps`, then a cosine down to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _as_tensors(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y, dtype=torch.int64)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    return x, y


def train_classifier(
    model: nn.Module,
    x_train,
    y_train,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    seed: int,
    progress: bool = True,
    augment: Augment | None = None,
    label_smoothing: float = 0.0,
    warmup_epochs: float = 1.0,
    grad_clip: float | None = None,
    device: str | torch.device | None = None,
) -> History:
    """Train `model` in place on (x_train, y_train) (numpy arrays or tensors) and return its History.

    AdamW, with weight decay on linear and conv weights only (not biases, norms, position embeddings).
    The learning rate warms up linearly over `warmup_epochs` then follows a cosine to zero, stepped
    per batch. The last partial batch is kept. `grad_clip`, if given, caps the global gradient norm.
    `device`, if given, moves the model there first (it stays there); batches follow the model.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, not {epochs} and {batch_size}")
    x, y = _as_tensors(x_train, y_train)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    if device is not None:
        model.to(device)
    device = _device_of(model)

    # Decay only the weights of linear and conv layers, not biases, norms or embeddings.
    decay_ids = {id(m.weight) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))}
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if id(p) in decay_ids]
    no_decay = [p for p in params if id(p) not in decay_ids]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total_steps = epochs * steps_per_epoch
    warmup_steps = max(1, round(warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(total_steps, warmup_steps))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    history = History()
    model.train()
    bar = tqdm(range(epochs), desc="train", unit="epoch", disable=not progress)
    for _ in bar:
        order = torch.randperm(len(x), generator=generator)
        loss_sum, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = x[idx], y[idx]
            if augment is not None:
                xb = augment(xb, generator)
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)  # (B, num_classes)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        history.loss.append(loss_sum / len(x))
        history.accuracy.append(correct / len(x))
        history.lr.append(scheduler.get_last_lr()[0])
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.3f}")
    model.eval()
    return history


@torch.no_grad()
def evaluate(model: nn.Module, x, y, batch_size: int = 256) -> float:
    """Top-1 accuracy of `model` on (x, y), in eval mode on its own device (it is left in eval mode)."""
    x, y = _as_tensors(x, y)
    if len(x) == 0:
        raise ValueError("evaluate needs at least one example")
    model.eval()
    device = _device_of(model)
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size].to(device))  # (B, num_classes)
        correct += (logits.argmax(dim=1).cpu() == y[start : start + batch_size]).sum().item()
    return correct / len(x)

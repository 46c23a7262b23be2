"""Fine-tune a decomposed (or otherwise compressed) classifier and say what it gained.

    split = training_data("train.npz")            # or "mnist5k" / "digits": the bundled example data
    result = finetune(model, split.x_train, split.y_train, held_out=(split.x_test, split.y_test), epochs=10)
    result.accuracy_before, result.accuracy_after  # top-1 on the held-out data

The loop is edgexf.models.training.train_classifier (AdamW, warmup then cosine, a tqdm bar); the
defaults are those of a short fine-tune from trained weights: a learning rate a quarter of the ViT
examples' 2e-3, one epoch of warmup. Accuracy is measured on data not trained on: the held-out set
given, or a stratified share of (x, y).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from edgexf.datasets import Split, load_digits, load_mnist5k, load_npz
from edgexf.errors import DataError
from edgexf.models.training import Augment, History, evaluate, train_classifier

EXAMPLE_DATA = {"mnist5k": load_mnist5k, "digits": load_digits}


@dataclass
class FinetuneResult:
    accuracy_before: float  # top-1 on the held-out data, before fine-tuning
    accuracy_after: float
    epochs: int
    seconds: float  # training only
    train_examples: int
    held_out_examples: int
    history: History

    def to_dict(self) -> dict:
        return {
            "accuracy_before": self.accuracy_before,
            "accuracy_after": self.accuracy_after,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 2),
            "train_examples": self.train_examples,
            "held_out_examples": self.held_out_examples,
            "final_train_loss": self.history.loss[-1] if self.history.loss else None,
        }


def training_data(source: str | Path, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Labelled data to fine-tune on: an example data set by name ("mnist5k", "digits"; their fixed
    split), or a .npz with x and y, split stratified into train and held-out parts."""
    if str(source) in EXAMPLE_DATA:
        return EXAMPLE_DATA[str(source)](test_fraction=test_fraction, seed=seed)
    x, y = load_npz(source)
    if y is None:
        raise DataError(
            f"data file {source} has no labels ('y'); fine-tuning needs them: np.savez(path, x=..., y=...)"
        )
    x_train, y_train, x_test, y_test = hold_out(x, y, test_fraction, seed)
    return Split(x_train, y_train, x_test, y_test)


def hold_out(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_held, y_held): a stratified split, deterministic for a seed."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise DataError(f"the held-out fraction must be in (0, 1), not {fraction}")
    if len(x) != len(y):
        raise DataError(f"x has {len(x)} rows but y has {len(y)}")
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 and round(fraction * len(y)) >= len(counts) else None
    try:
        x_tr, x_ho, y_tr, y_ho = train_test_split(
            x, y, test_size=fraction, random_state=seed, stratify=stratify
        )
    except ValueError as e:  # too few examples for the split asked
        raise DataError(f"cannot hold out {fraction} of {len(x)} examples: {e}") from e
    return x_tr, y_tr, x_ho, y_ho


def finetune(
    model: nn.Module,
    x,
    y,
    *,
    epochs: int,
    held_out: tuple | None = None,
    held_out_fraction: float = 0.1,
    lr: float = 5e-4,
    batch_size: int = 64,
    weight_decay: float = 0.05,
    label_smoothing: float = 0.1,
    warmup_epochs: float = 1.0,
    grad_clip: float | None = 1.0,
    augment: Augment | None = None,
    seed: int = 0,
    progress: bool = True,
    device: str | None = None,
) -> FinetuneResult:
    """Train `model` in place on (x, y) for `epochs` and return top-1 on held-out data before and after.

    `held_out` = (x, y) to measure on; without it, `held_out_fraction` of (x, y) is set aside
    (stratified, by `seed`) and not trained on. The model is left in eval mode, on `device` if given.
    """
    if held_out is None:
        x, y, x_held, y_held = hold_out(np.asarray(x), np.asarray(y), held_out_fraction, seed)
    else:
        x_held, y_held = held_out
    if len(x_held) == 0:
        raise DataError("the held-out set is empty: accuracy before and after cannot be measured")
    if device is not None:
        model.to(device)
    before = evaluate(model, x_held, y_held)
    start = time.perf_counter()
    history = train_classifier(
        model,
        x,
        y,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        weight_decay=weight_decay,
        seed=seed,
        progress=progress,
        augment=augment,
        label_smoothing=label_smoothing,
        warmup_epochs=warmup_epochs,
        grad_clip=grad_clip,
    )
    seconds = time.perf_counter() - start
    after = evaluate(model, x_held, y_held)
    return FinetuneResult(before, after, epochs, seconds, len(x), len(x_held), history)

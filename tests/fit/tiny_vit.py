"""A tiny ViT on scikit-learn's digits (8x8), for `edgexf fit` tests: `tiny_vit.py:build`.

D 32, depth 2, 4x4 patches of 8x8 (4 tokens and a class token): about 18k parameters. Trained when
built, on 512 images for 2 epochs (a second or two): better than chance, not a good model.
"""

from __future__ import annotations

import torch

from edgexf.datasets import load_digits
from edgexf.models.training import train_classifier
from edgexf.models.vit import ViT, ViTConfig

CONFIG = ViTConfig(image_size=8, patch_size=4, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0)


def build() -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    data = load_digits(test_fraction=0.2, seed=0)
    model = ViT(CONFIG)
    train_classifier(
        model, data.x_train[:512], data.y_train[:512], epochs=2, lr=2e-3, batch_size=64, weight_decay=0.05,
        seed=0, progress=False,
    )  # fmt: skip
    return model.eval(), torch.from_numpy(data.x_test[:1])

"""Make the small .tflite ViTs the TFLite-import tests read (float32 and full-integer int8).

    /work/tflm-venv/bin/python tests/data/tflite/make_tflite.py

Runs in the converter venv described in benchmarks/tflm_arena.py (litert-torch 0.10 + ai-edge-quantizer
0.10), not in edgexf's own. The outputs are committed, so the tests need neither that venv nor network:

- vit_digits_float32.tflite: a small ViT (8x8 digits, patch 2, D 32, 2 heads, depth 2), trained for 30
  epochs (91.7% on the digits test split) so its logits are not near ties; GELU in the tanh-sigmoid
  form TFLM runs (tflm_arena.py).
- vit_digits_int8.tflite: the same, static_wi8_ai8 (int8 activations per tensor, int8 per-channel
  weights, int32 biases; int8 input and output), min/max over 200 training images.
- vit_digits_data.npz: x_calib (64 training images), x_test (32 test images), y_test.

Deterministic up to the converter's own behaviour (seeded training, fixed data split).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

CONFIG = dict(
    image_size=8,
    patch_size=2,
    in_channels=1,
    num_classes=10,
    embed_dim=32,
    depth=2,
    num_heads=2,
    mlp_ratio=2.0,
)
EPOCHS = 30


def train(x: np.ndarray, y: np.ndarray):
    import torch

    from edgexf.models.vit import ViT, ViTConfig

    torch.manual_seed(0)
    model = ViT(ViTConfig(**CONFIG))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i : i + 64]
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def main() -> None:
    import torch
    from tflm_arena import export_tflite, tflite_summary

    from edgexf.datasets import load_digits

    torch.set_num_threads(2)
    data = load_digits(test_fraction=0.2, seed=0)
    model = train(data.x_train, data.y_train)
    with torch.no_grad():
        acc = (model(torch.from_numpy(data.x_test)).argmax(1).numpy() == data.y_test).mean()
    print(f"trained: test accuracy {acc:.3f}", file=sys.stderr)
    for dtype in ("float32", "int8"):
        path = export_tflite(
            model, data.x_test[:1], data.x_train[:200], dtype, HERE / f"vit_digits_{dtype}.tflite"
        )
        print(path.name, path.stat().st_size, tflite_summary(path)["ops"], file=sys.stderr)
    np.savez_compressed(
        HERE / "vit_digits_data.npz",
        x_calib=data.x_train[:64],
        x_test=data.x_test[:32],
        y_test=data.y_test[:32],
    )


if __name__ == "__main__":
    main()

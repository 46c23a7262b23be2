"""A ViT too wide for the STM32F746's flash, for `edgexf fit` to bring down to size.

    python examples/vit_mnist_wide.py [--epochs 6] [--save-state PATH] [--device cpu|cuda]
    edgexf fit examples/vit_mnist_wide.py:build --board stm32f746 --data mnist5k -o fit_wide/

28x28 MNIST in 7x7 patches (16 patches + a class token), D 192, 6 heads, depth 5, MLP ratio 2:
1,500,490 parameters, 1,596,984 B of int8 weights (with int32 biases and requantization tables)
against the F746's 1 MB of flash. Its activations are small (17 tokens, a 16.5 KB arena): flash, not
SRAM, is the limit.

Training is short on purpose: 6 epochs on the CPU (2 threads, about 1 minute an epoch on a shared
machine) reached 92.6% test accuracy, not the 97-98% of examples/vit_mnist.py's 100 epochs: the
example shows fitting, not the best model. `build()` loads the weights saved beside this file by
--save-state (vit_mnist_wide_state.pt, float16, 3 MB; written by default), or says how to make them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from edgexf.datasets import load_mnist5k
from edgexf.errors import ModelLoadError
from edgexf.models.training import evaluate, random_shift, train_classifier
from edgexf.models.vit import ViT, ViTConfig

STATE_FILE = Path(__file__).resolve().with_name("vit_mnist_wide_state.pt")
CONFIG = dict(
    image_size=28,
    patch_size=7,
    in_channels=1,
    num_classes=10,
    embed_dim=192,
    depth=5,
    num_heads=6,
    mlp_ratio=2.0,
)
TRAINING = dict(
    lr=1e-3, batch_size=64, weight_decay=0.05, label_smoothing=0.1, warmup_epochs=1, grad_clip=1.0
)
EPOCHS = 6


def build() -> tuple[torch.nn.Module, torch.Tensor]:
    """The trained wide ViT (eval mode, CPU) and a (1, 1, 28, 28) example input: for FILE.py:build."""
    if not STATE_FILE.is_file():
        raise ModelLoadError(
            f"{STATE_FILE} does not exist; train the model first (a few minutes on the CPU):\n"
            f"    python {Path(__file__).name} --save-state {STATE_FILE}"
        )
    saved = torch.load(STATE_FILE, map_location="cpu", weights_only=True)
    model = ViT(ViTConfig(**saved["config"]))
    model.load_state_dict({k: v.float() for k, v in saved["state_dict"].items()})
    example_input = torch.from_numpy(load_mnist5k(test_fraction=0.2, seed=0).x_test[:1])
    return model.eval(), example_input


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save-state", type=Path, default=STATE_FILE)
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    data = load_mnist5k(test_fraction=0.2, seed=0)  # the fixed split of examples/vit_mnist.py
    cfg = ViTConfig(**CONFIG)
    torch.manual_seed(args.seed)
    model = ViT(cfg)
    print(f"ViT {cfg.to_dict()}: {sum(p.numel() for p in model.parameters()):,} parameters")
    t0 = time.perf_counter()
    train_classifier(
        model, data.x_train, data.y_train, epochs=args.epochs, seed=args.seed,
        augment=random_shift(1), device=args.device, **TRAINING,
    )  # fmt: skip
    model.cpu()
    accuracy = evaluate(model, data.x_test, data.y_test)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs ({time.perf_counter() - t0:.0f} s)")
    # float16 halves the file (3 MB); build() widens it back to float32.
    state = {k: v.half() for k, v in model.state_dict().items()}
    torch.save({"config": cfg.to_dict(), "state_dict": state}, args.save_state)
    print(f"saved state: {args.save_state}")


if __name__ == "__main__":
    main()

"""MCUFormer's STM32F746 configuration: a ViT on 240 x 240 RGB images, for the STM32F746G-DISCO.

MCUFormer (Liang et al., "MCUFormer: Deploying Vision Transformers on Microcontrollers with Limited
Memory", NeurIPS 2023) runs an ImageNet ViT on the STM32F746 in its 320 KB of SRAM. The configuration
here is the one its memory calculation uses, as issue 20 quotes it: 240 px input (the paper's crop),
3 channels, patch 20 (144 patches + a class token = 145 tokens), embedding 224, depth 12, 4 heads,
MLP ratio 4, 1000 classes: 7.8M parameters.

ImageNet is not available here, so the weights are random (seeded, edgexf.models.vit's initialisation)
and no accuracy is claimed: what this example shows is that the model fits and runs exactly. Its int8
weights (7.8 MB) go to the board's 16 MB QSPI flash (`--weights auto`), the arena to the 320 KB SRAM:

    python examples/mcuformer.py --write-data data/          # random RGB images: calibration and test
    edgexf compile examples/mcuformer.py:full --board stm32f746g-disco --quantize int8 \\
        --calibration data/mcuformer_calib.npz --test-data data/mcuformer_test.npz -o build_mcuformer/

`small()` is the same design scaled down for the test suite (60 px, depth 2): its 1.2 MB of int8
weights still outgrow the internal flash, so it takes the same two-tier path in seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from edgexf.datasets import save_npz
from edgexf.models.vit import ViT, ViTConfig

FULL = ViTConfig(
    image_size=240, patch_size=20, in_channels=3, num_classes=1000, embed_dim=224, depth=12, num_heads=4,
    mlp_ratio=4.0,
)  # fmt: skip
SMALL = ViTConfig(
    image_size=60, patch_size=20, in_channels=3, num_classes=1000, embed_dim=224, depth=2, num_heads=4,
    mlp_ratio=4.0,
)  # fmt: skip
CALIB_FILE, TEST_FILE = "mcuformer_calib.npz", "mcuformer_test.npz"


def _build(cfg: ViTConfig) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = ViT(cfg).eval()
    return model, torch.rand(1, cfg.in_channels, cfg.image_size, cfg.image_size)


def full() -> tuple[torch.nn.Module, torch.Tensor]:
    """MCUFormer's F746 configuration, random weights."""
    return _build(FULL)


def small() -> tuple[torch.nn.Module, torch.Tensor]:
    """The same design at 60 px and depth 2, random weights."""
    return _build(SMALL)


def write_data(directory: Path, cfg: ViTConfig = FULL, calib: int = 32, test: int = 4) -> tuple[Path, Path]:
    """Random images in [0, 1) (uniform RGB noise: there is no RGB data set here), for int8 calibration
    and for the test vectors; labels are not written, since random weights have no accuracy to measure."""
    rng = np.random.default_rng(0)
    shape = (cfg.in_channels, cfg.image_size, cfg.image_size)
    directory.mkdir(parents=True, exist_ok=True)
    c = save_npz(directory / CALIB_FILE, rng.random((calib, *shape), dtype=np.float32))
    t = save_npz(directory / TEST_FILE, rng.random((test, *shape), dtype=np.float32))
    return c, t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-data", type=Path, required=True, help="folder for the two .npz files")
    parser.add_argument("--small", action="store_true", help="images for small() (60 px) instead of full()")
    args = parser.parse_args(argv)
    for path in write_data(args.write_data, SMALL if args.small else FULL):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""A small timm VisionTransformer (a third-party model edgexf did not write), and its ONNX export.

build() -> (model, example input): timm.models.vision_transformer.VisionTransformer as timm makes it
(class token, learned position embedding, pre-norm blocks, LayerNorm and GELU, fused qkv Linear,
F.scaled_dot_product_attention), 32x32 RGB images, patch 8 (16 tokens + the class token), embed_dim
32, depth 2, 2 heads, MLP ratio 2, 10 classes; timm's own random initialization from a fixed seed.
24,234 parameters.

export(path, opset) writes it with torch.onnx.export(dynamo=False): opset 17 keeps LayerNormalization
as one node; below 17 LayerNorm is decomposed (ReduceMean, Sub, Pow, Sqrt, Div), and GELU is Erf, Div,
Mul at any opset. torch exports scaled_dot_product_attention from opset 14 on: below that, export
switches timm's attention to its unfused path (q * scale @ k^T, Softmax, @ v: the same computation,
as separate MatMul, Mul and Softmax nodes).
"""

from __future__ import annotations

import enum
import importlib.machinery
import sys
import types
import warnings
from pathlib import Path

import torch

IMG, PATCH, CHANNELS, CLASSES = 32, 8, 3, 10
SEED = 0


def _stand_in_for_torchvision() -> None:
    """Registers a minimal `torchvision` module when the real one cannot be imported.

    Why: timm 1.0.31 requires torchvision, but the only torchvision wheel for torch 2.13 on PyPI
    (0.28.0) is a CUDA build: with CPU torch its _C extension fails to load and `import torchvision`
    raises "operator torchvision::nms does not exist". scripts/setup.sh therefore installs timm with
    --no-deps. timm's ViT does not use torchvision; `import timm` only reaches these names at import
    time: torchvision.ops.misc.FrozenBatchNorm2d (referenced in timm.layers and timm.utils),
    torchvision.transforms.ToTensor (subclassed in timm.data), InterpolationMode (used in tables in
    timm.data), and six dataset classes (timm.data.dataset_factory). Each class here raises when
    instantiated, so nothing can silently run on a stand-in; only the enum is real (its values are
    torchvision's). A torchvision that imports is always used instead.
    """
    try:
        import torchvision  # noqa: F401
    except Exception:  # ImportError, or the RuntimeError of a wheel built for another torch
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]  # a half-imported real torchvision
    else:
        return

    def unavailable(module: str, name: str) -> type:
        def __init__(self, *args, **kwargs):
            raise ImportError(f"{module}.{name}: torchvision is not installed (tests/data/timm_vit.py)")

        return type(name, (), {"__init__": __init__, "__module__": module})

    class InterpolationMode(enum.Enum):
        NEAREST = "nearest"
        NEAREST_EXACT = "nearest-exact"
        BILINEAR = "bilinear"
        BICUBIC = "bicubic"
        BOX = "box"
        HAMMING = "hamming"
        LANCZOS = "lanczos"

    def module(name: str, **attrs) -> types.ModuleType:
        m = types.ModuleType(name, "stand-in: see tests/data/timm_vit.py")
        m.__dict__.update(attrs)
        # a spec, as an imported module has: torch.onnx's dynamo exporter calls find_spec("torchvision")
        m.__spec__ = importlib.machinery.ModuleSpec(name, None)
        sys.modules[name] = m
        return m

    datasets = ("CIFAR10", "CIFAR100", "MNIST", "KMNIST", "FashionMNIST", "ImageFolder")
    functional = module("torchvision.transforms.functional", InterpolationMode=InterpolationMode)
    transforms = module(
        "torchvision.transforms",
        functional=functional,
        InterpolationMode=InterpolationMode,
        ToTensor=unavailable("torchvision.transforms", "ToTensor"),
    )
    frozen_bn = unavailable("torchvision.ops.misc", "FrozenBatchNorm2d")
    misc = module("torchvision.ops.misc", FrozenBatchNorm2d=frozen_bn)
    ops = module("torchvision.ops", misc=misc)
    data = module("torchvision.datasets", **{d: unavailable("torchvision.datasets", d) for d in datasets})
    module("torchvision", transforms=transforms, ops=ops, datasets=data, __version__="0+stand-in")


def build(global_pool: str = "token") -> tuple[torch.nn.Module, torch.Tensor]:
    """global_pool: timm's "token" (the class token), or "max" (max over the tokens, no class token:
    exported as ReduceMax)."""
    _stand_in_for_torchvision()
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(SEED)
    model = VisionTransformer(
        img_size=IMG, patch_size=PATCH, in_chans=CHANNELS, num_classes=CLASSES,
        embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0,
        global_pool=global_pool, class_token=global_pool == "token",
    )  # fmt: skip
    return model.eval(), torch.randn(1, CHANNELS, IMG, IMG)


def export_dynamo(path: Path, global_pool: str = "token") -> Path:
    """The model as ONNX at `path` by torch.onnx.export's default (dynamo) exporter, as a user of torch
    2.13 makes one (input "x", output "logits", batch 1)."""
    from hf_vit import quiet_onnx_export

    model, example = build(global_pool)
    quiet_onnx_export()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), str(path), input_names=["x"], output_names=["logits"], verbose=False
        )
    return Path(path)


def export(path: Path, opset: int = 17) -> Path:
    """The model as ONNX at `path` (input "x", output "logits", batch 1)."""
    model, example = build()
    if opset < 14:  # no ONNX form of F.scaled_dot_product_attention: timm's own unfused attention
        for block in model.blocks:
            block.attn.fused_attn = False
    with warnings.catch_warnings():
        # dynamo=False is the TorchScript exporter on purpose (it is deprecated); the tracer warns about
        # timm's shape checks, which become constants: right for a static-shape batch-1 model.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model, (example,), str(path), input_names=["x"], output_names=["logits"],
            opset_version=opset, dynamo=False,
        )  # fmt: skip
    return Path(path)


if __name__ == "__main__":
    out = export(Path(sys.argv[1] if len(sys.argv) > 1 else "timm_vit.onnx"))
    print(f"wrote {out}")

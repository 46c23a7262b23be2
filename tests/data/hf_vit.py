"""A small HuggingFace transformers ViTForImageClassification (random weights from a fixed seed; nothing
is downloaded), and its ONNX export the way its users make one with torch 2.13: the default
torch.onnx.export, which is the dynamo exporter (torch.export, then onnxscript's torchlib).

32x32 RGB images, patch 8 (16 tokens + the class token), hidden 32, 2 layers, 2 heads, MLP 64, 10
classes. attn_implementation "eager" writes attention as MatMul, Softmax, MatMul; "sdpa"
(F.scaled_dot_product_attention) is exported as Softmax -> IsNaN -> Where(isnan, 0, p), the guard for
fully masked rows.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import torch

IMG, PATCH, CHANNELS, CLASSES = 32, 8, 3, 10
SEED = 0


def build(attn_implementation: str = "sdpa") -> tuple[torch.nn.Module, torch.Tensor]:
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(
        image_size=IMG, patch_size=PATCH, num_channels=CHANNELS, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, num_labels=CLASSES,
        attn_implementation=attn_implementation,
    )  # fmt: skip
    torch.manual_seed(SEED)
    return ViTForImageClassification(config).eval(), torch.randn(1, CHANNELS, IMG, IMG)


class _Logits(torch.nn.Module):
    """The model's logits as a plain tensor (HF returns an ImageClassifierOutput)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(pixel_values=x).logits


def export(path: Path, attn_implementation: str = "sdpa") -> Path:
    """The model as ONNX at `path` (input "x", output "logits", batch 1), by torch.onnx.export's default
    (dynamo) exporter."""
    model, example = build(attn_implementation)
    quiet_onnx_export()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations inside transformers and onnxscript
        torch.onnx.export(
            _Logits(model), (example,), str(path), input_names=["x"], output_names=["logits"], verbose=False
        )
    return Path(path)


def quiet_onnx_export() -> None:
    """The dynamo exporter logs each step (torch.export, decompositions, the translation) at INFO and
    above: only errors go to the test log."""
    for name in ("torch.onnx", "torch.export", "torch._export", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)


if __name__ == "__main__":
    out = export(Path(sys.argv[1] if len(sys.argv) > 1 else "hf_vit.onnx"))
    print(f"wrote {out}")

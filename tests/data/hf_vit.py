"""A small HuggingFace transformers ViTForImageClassification (a third-party model edgexf did not write),
and its ONNX export as its users write it.

build(attn) -> (model, example input): 32x32 RGB images, patch 8 (16 tokens + the class token), hidden
32, 2 layers, 2 heads, intermediate 64, 10 labels; random weights from a fixed seed (no download).
attn is transformers' `attn_implementation`: "eager" (q @ k^T / sqrt(dh), Softmax, @ v, written out) or
"sdpa" (torch's scaled_dot_product_attention). Its attention has separate query, key and value Linears.

export(path, attn, dynamo) writes the logits for pixel values "x" with torch.onnx.export: dynamo=True is
torch 2.13's default exporter (it needs onnxscript), dynamo=False the TorchScript one at opset 17.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

IMG, PATCH, CHANNELS, CLASSES = 32, 8, 3, 10
SEED = 0


class _Logits(torch.nn.Module):
    """pixel values -> logits: what users export (the HF model returns an output object)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=x).logits


def build(attn: str = "eager", **config) -> tuple[torch.nn.Module, torch.Tensor]:
    """The model above; `config` overrides ViTConfig's fields (benchmarks/imports.py)."""
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(SEED)
    config = dict(
        image_size=IMG, patch_size=PATCH, num_channels=CHANNELS, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, num_labels=CLASSES,
    ) | config  # fmt: skip
    model = ViTForImageClassification(ViTConfig(**config, attn_implementation=attn)).eval()
    return _Logits(model), torch.randn(1, CHANNELS, config["image_size"], config["image_size"])


def export(path: Path, attn: str = "eager", dynamo: bool = False, **config) -> Path:
    model, example = build(attn, **config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation, tracer warnings
        # the dynamo exporter logs a traceback per torchvision op it cannot register (no torchvision)
        logging.getLogger("torch.onnx").setLevel(logging.CRITICAL)
        torch.onnx.export(
            model, (example,), str(path), input_names=["x"], output_names=["logits"],
            opset_version=None if dynamo else 17, dynamo=dynamo,
        )  # fmt: skip
    return Path(path)

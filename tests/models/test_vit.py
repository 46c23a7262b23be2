"""The compact ViT: config checks, output shapes, and torch.export fidelity."""

from __future__ import annotations

import pytest
import torch

from edgexf.models.vit import ViT, ViTConfig

SMALL = dict(image_size=8, patch_size=2, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(image_size=8, patch_size=3), "not a multiple of patch_size"),
        (dict(embed_dim=30, num_heads=4), "not divisible by num_heads"),
        (dict(pool="max"), "pool must be"),
        (dict(gelu="relu"), "gelu must be"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ViTConfig(**kwargs)


def test_config_num_patches_and_dict():
    cfg = ViTConfig(image_size=8, patch_size=2)
    assert cfg.num_patches == 16
    assert ViTConfig(**cfg.to_dict()) == cfg


@pytest.mark.parametrize("pool, tokens", [("cls", 17), ("mean", 16)])
def test_output_shape(pool, tokens):
    torch.manual_seed(0)
    model = ViT(ViTConfig(**SMALL, pool=pool, num_classes=7))
    assert model.pos_embed.shape == (1, tokens, 16)
    assert (model.cls_token is not None) == (pool == "cls")
    out = model(torch.rand(5, 1, 8, 8))
    assert out.shape == (5, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("pool", ["cls", "mean"])
@pytest.mark.parametrize("gelu", ["erf", "tanh"])
def test_export_matches_module(pool, gelu, tmp_path):
    torch.manual_seed(0)
    model = ViT(ViTConfig(**SMALL, pool=pool, gelu=gelu)).eval()
    x = torch.rand(1, 1, 8, 8)
    program = torch.export.export(model, (x,))
    path = tmp_path / "vit.pt2"
    torch.export.save(program, path)
    loaded = torch.export.load(path)

    x2 = torch.rand(1, 1, 8, 8)  # not the example input: the graph must not have baked it in
    with torch.no_grad():
        expected = model(x2)
        torch.testing.assert_close(program.module()(x2), expected)
        torch.testing.assert_close(loaded.module()(x2), expected)
    # The attention stays explicit (matmul + softmax), which the frontend relies on.
    targets = {str(n.target) for n in program.graph.nodes if n.op == "call_function"}
    assert any("softmax" in t for t in targets), targets
    assert not any("scaled_dot_product" in t for t in targets), targets

"""What a user sees for a model edgexf cannot take: the problem named, and what to do."""

from __future__ import annotations

import textwrap

import pytest
import torch

from edgexf.errors import ModelLoadError, UnsupportedOpError
from edgexf.frontends import load_model


class Sorter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.cumsum(self.fc(x), dim=-1)


def test_unsupported_op_names_op_location_and_alternatives(tmp_path):
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(Sorter(), (torch.randn(1, 4),)), path)
    with pytest.raises(UnsupportedOpError) as e:
        load_model(path)
    msg = str(e.value)
    assert "aten.cumsum" in msg
    assert "test_load_errors.py" in msg  # the user's source line
    assert "supported aten ops:" in msg and "aten.linear.default" in msg


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "nope.pt2")
    (tmp_path / "m.onnx").write_bytes(b"\x08\x01")
    with pytest.raises(ModelLoadError, match="onnx.checker rejects the model"):
        load_model(tmp_path / "m.onnx")
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="unknown model format"):
        load_model(tmp_path / "m.bin")


def test_corrupt_pt2(tmp_path):
    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(torch.nn.Linear(3, 2), (torch.randn(1, 3),)), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelLoadError, match="not a readable torch.export program"):
        load_model(path)


def test_python_builder_spec(tmp_path):
    (tmp_path / "mk.py").write_text(
        textwrap.dedent("""
        import torch
        def build():
            return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()), torch.randn(1, 3)
        def wrong():
            return 42
    """)
    )
    loaded = load_model(f"{tmp_path / 'mk.py'}:build")
    assert [op.type for op in loaded.graph.ops] == ["linear", "relu"]
    with pytest.raises(ModelLoadError, match="must return"):
        load_model(f"{tmp_path / 'mk.py'}:wrong")
    with pytest.raises(ModelLoadError, match="has no function 'nothing'"):
        load_model(f"{tmp_path / 'mk.py'}:nothing")

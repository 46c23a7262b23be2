"""Which int8 ops run the DSP kernels: a linear too narrow for one group of 4 stays portable."""

from __future__ import annotations

import numpy as np
import torch

from edgexf.cli import main


def test_narrow_linear_stays_portable_and_the_build_is_exact(tmp_path, capsys):
    # a rank-3 bottleneck, as low-rank decomposition makes: k = 3 has no group of 4 to widen
    module = torch.nn.Sequential(torch.nn.Linear(8, 3, bias=False), torch.nn.Linear(3, 6)).eval()
    model = tmp_path / "narrow.pt2"
    torch.export.save(torch.export.export(module, (torch.randn(1, 8),)), model)
    np.savez(
        tmp_path / "calib.npz", x=np.random.default_rng(0).standard_normal((64, 1, 8)).astype(np.float32)
    )
    args = ["compile", str(model), "--board", "stm32f746", "-o", str(tmp_path / "b"), "--quantize", "int8"]
    assert main([*args, "--calibration", str(tmp_path / "calib.npz"), "--exact-seconds", "0.2"]) == 0
    assert "(1 ops on DSP-extension kernels)" in capsys.readouterr().out  # the k = 8 linear only
    assert main(["run", str(tmp_path / "b"), "--check"]) == 0

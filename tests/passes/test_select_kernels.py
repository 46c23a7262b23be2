"""Which int8 ops run the DSP kernels: a linear too narrow for one group of 4 stays portable with int8 weights
and runs the int16-weight kernel with int16 ones; a depthwise conv
takes the direct path, a grouped conv with few outputs per group stays portable."""

from __future__ import annotations

import numpy as np
import torch

from edgexf.cli import main


def test_narrow_linear_stays_portable_with_int8_weights_and_the_builds_are_exact(tmp_path, capsys):
    # a rank-3 bottleneck, as low-rank decomposition makes: k = 3 has no group of 4 to widen (int8 weights),
    # but its one zero-padded group of int16 weights takes half the portable kernel's instructions
    module = torch.nn.Sequential(torch.nn.Linear(8, 3, bias=False), torch.nn.Linear(3, 6)).eval()
    model = tmp_path / "narrow.pt2"
    torch.export.save(torch.export.export(module, (torch.randn(1, 8),)), model)
    np.savez(
        tmp_path / "calib.npz", x=np.random.default_rng(0).standard_normal((64, 1, 8)).astype(np.float32)
    )
    for weights, ops in (("int8", 1), ("int16", 2)):  # int8: the k = 8 linear only
        out = tmp_path / weights
        args = ["compile", str(model), "--board", "stm32f746", "-o", str(out), "--quantize", "int8"]
        args += ["--calibration", str(tmp_path / "calib.npz"), "--exact-seconds", "0.2"]
        assert main([*args, "--dsp-weights", weights]) == 0
        assert f"({ops} ops on DSP-extension kernels)" in capsys.readouterr().out
        assert main(["run", str(out), "--check"]) == 0


def test_dsp_linear_scratch_holds_a_block_or_fewer_rows(tmp_path, capsys):
    """The DSP linear widens a block of 6 rows (fewer where there are fewer: a recurrent model's step has
    one), so its scratch is sized by min(rows, 6); in QEMU, with the buffers packed around it, the build
    stays bit-exact with the reference (an overrun would corrupt a neighbour)."""
    from edgexf.ir.graph import Op
    from edgexf.ir.ops import OPS

    op = Op("q_linear", "l", ["x", "w", "b", "m", "s"], ["y"], {"kernel": "dsp", "out_zp": 0})
    scratch = OPS["q_linear"].scratch
    assert scratch(op, [((1, 512), "int8")]) == 512 // 4 * 8
    assert scratch(op, [((3, 64), "int8")]) == 3 * 64 // 4 * 8
    assert scratch(op, [((50, 64), "int8")]) == 6 * 64 // 4 * 8
    module = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5)).eval()
    model = tmp_path / "row.pt2"
    torch.export.save(torch.export.export(module, (torch.randn(1, 64),)), model)
    x = np.random.default_rng(1).standard_normal((64, 1, 64)).astype(np.float32)
    np.savez(tmp_path / "calib.npz", x=x)
    args = ["compile", str(model), "--board", "stm32f746", "-o", str(tmp_path / "b"), "--quantize", "int8"]
    assert main([*args, "--calibration", str(tmp_path / "calib.npz"), "--exact-seconds", "0.2"]) == 0
    assert "(2 ops on DSP-extension kernels)" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "b"), "--emulate", "--check"]) == 0


def test_depthwise_conv_runs_the_dsp_kernel_and_a_grouped_one_with_few_outputs_stays_portable(
    tmp_path, capsys
):
    """A depthwise conv (one input channel per group) takes exf_conv2d_s8_dsp's direct path; a grouped conv
    with 2 input and 2 output channels per group stays portable (im2col would widen each patch for 2 rows:
    no faster); in QEMU, with the planned scratch between its neighbours, the build is bit-exact."""
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),  # dsp: im2col
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1, groups=8),  # dsp: the direct path
        torch.nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=4),  # portable
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 6 * 6, 5),  # dsp
    ).eval()
    model = tmp_path / "convs.onnx"  # groups come through ONNX (the torch frontend takes groups=1 only)
    torch.onnx.export(module, (torch.randn(1, 3, 12, 12),), str(model), dynamo=False)
    x = np.random.default_rng(2).standard_normal((32, 1, 3, 12, 12)).astype(np.float32)
    np.savez(tmp_path / "calib.npz", x=x)
    args = ["compile", str(model), "--board", "stm32f746", "-o", str(tmp_path / "b"), "--quantize", "int8"]
    assert main([*args, "--calibration", str(tmp_path / "calib.npz"), "--exact-seconds", "0.2"]) == 0
    assert "(3 ops on DSP-extension kernels)" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "b"), "--emulate", "--check"]) == 0

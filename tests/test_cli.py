"""The command line as a user meets it: exit codes and messages for each kind of bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

from edgexf.cli import main


def save(module, shape, path):
    torch.export.save(torch.export.export(module.eval(), (torch.randn(*shape),)), path)
    return str(path)


@pytest.fixture
def tiny(tmp_path):
    return save(torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU()), (1, 8), tmp_path / "tiny.pt2")


def test_compile_tiny_model_and_report(tiny, tmp_path, capsys):
    assert main(["compile", tiny, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 0
    out = capsys.readouterr()
    assert "arena" in out.out and "lower bound" in out.out and "/ 1,048,576 B" in out.out
    assert "[1/9] checking board and tools" in out.err  # progress on stderr
    assert (tmp_path / "b" / "report.json").is_file() and (tmp_path / "b" / "test_vectors.npz").is_file()
    assert main(["run", str(tmp_path / "b"), "--check"]) == 0  # the host build, on its saved vectors


def test_unknown_board_lists_known_ones(tiny, tmp_path, capsys):
    assert main(["compile", tiny, "--board", "stm32f999", "-o", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "stm32f999" in err and "stm32f746" in err and "mps2-an500" in err


def test_a_board_typo_is_told_at_once_with_the_closest_names(tmp_path):
    """Before torch is imported (seconds): a fresh process says so."""
    code = (
        "import sys; from edgexf.cli import main; "
        "rc = main(['compile', 'm.pt2', '--board', 'stm32f764', '-o', 'b']); "
        "print('torch imported' if 'torch' in sys.modules else 'torch not imported'); sys.exit(rc)"
    )
    cmd = [sys.executable, "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stdout.strip() == "torch not imported"
    assert "unknown board 'stm32f764'; did you mean stm32f746" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_model_file(tmp_path, capsys):
    assert (
        main(["compile", str(tmp_path / "none.pt2"), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_unsupported_op_exit_code(tmp_path, capsys):
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.sort(x, dim=-1).values

    path = save(M(), (1, 5), tmp_path / "m.pt2")
    assert main(["compile", path, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 3
    err = capsys.readouterr().err
    assert "aten.sort" in err and "supported aten ops" in err


def test_weights_too_big_for_flash(tmp_path, capsys):
    path = save(torch.nn.Linear(1024, 300), (1, 1024), tmp_path / "big.pt2")  # 1.23 MB of float32 weights
    assert main(["compile", path, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 5
    err = capsys.readouterr().err
    over = 300 * 1025 * 4 - 1024 * 1024
    assert f"flash: needs {300 * 1025 * 4:,} B" in err and f"over by {over:,} B" in err
    assert "mps2-an500" in err  # a board on which it would fit
    assert not (tmp_path / "b" / "report.json").exists()


class ReluTimesInput(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * x  # x is read again after relu: it cannot be overwritten by relu's output


def test_activations_too_big_for_ram(tmp_path, capsys):
    path = save(ReluTimesInput(), (1, 50_000), tmp_path / "wide.pt2")  # 200 KB in + 200 KB out, both live
    assert main(["compile", path, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 5
    err = capsys.readouterr().err
    assert "RAM: needs" in err and "arena 400,000 B" in err


def test_missing_cross_compiler_says_how_to_install(tiny, tmp_path, capsys, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("gcc"), bin_dir / "gcc")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert main(["compile", tiny, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 4
    err = capsys.readouterr().err
    assert (
        "arm-none-eabi-gcc was not found" in err and "apt-get install" in err and "gcc-arm-none-eabi" in err
    )


def test_run_on_a_directory_that_is_not_a_build(tmp_path, capsys):
    assert main(["run", str(tmp_path), "--emulate"]) == 1
    assert "not an edgexf build directory" in capsys.readouterr().err


def test_compile_from_python_builder(tmp_path, capsys):
    (tmp_path / "net.py").write_text(
        textwrap.dedent("""
        import torch
        def build():
            torch.manual_seed(0)
            return torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Softmax(dim=-1)), torch.randn(1, 6)
    """)
    )
    assert (
        main(["compile", f"{tmp_path / 'net.py'}:build", "--board", "mps2-an500", "-o", str(tmp_path / "b")])
        == 0
    )
    assert "net for mps2-an500" in capsys.readouterr().out


def test_bad_test_data_file(tiny, tmp_path, capsys):
    (tmp_path / "d.npz").write_bytes(b"not a zip")
    assert (
        main(
            [
                "compile",
                tiny,
                "--board",
                "stm32f746",
                "-o",
                str(tmp_path / "b"),
                "--test-data",
                str(tmp_path / "d.npz"),
            ]
        )
        == 2
    )
    assert "is not a readable .npz" in capsys.readouterr().err


def test_test_data_of_the_wrong_shape(tiny, tmp_path, capsys):
    import numpy as np

    np.savez(tmp_path / "d.npz", x=np.zeros((4, 7), np.float32))  # the model takes (1, 8)
    assert (
        main(
            [
                "compile",
                tiny,
                "--board",
                "stm32f746",
                "-o",
                str(tmp_path / "b"),
                "--test-data",
                str(tmp_path / "d.npz"),
            ]
        )
        == 2
    )
    assert "does not hold samples of the model's input [1, 8]" in capsys.readouterr().err


BUILDERS = """
import torch


def build():
    return load_weights("/nowhere/w.pt")


def load_weights(path):
    raise ValueError(f"no weights at {path}")


def wrong():
    return torch.nn.Linear(2, 2)


count = 3
"""


@pytest.mark.parametrize(
    "source, func, expected",
    [
        (BUILDERS, "build", ["net.py:build() raised ValueError: no weights at /nowhere/w.pt",
                             "net.py:6 in build: return load_weights", "net.py:10 in load_weights: raise"]),
        (BUILDERS, "buidl", ["net.py has no function 'buidl' (it has: build, load_weights, wrong)"]),
        (BUILDERS, "count", ["'count' is not a function (int)"]),
        (BUILDERS, "wrong", ["net.py:wrong must return (nn.Module, example_input), got Linear"]),
        ("def build(:\n", "build", ["net.py failed: SyntaxError: invalid syntax (net.py, line 1)"]),
        ("import no_such_module_xyz\n", "build", ["ModuleNotFoundError", "net.py:1 in <module>: import"]),
    ],
)  # fmt: skip
def test_a_python_builder_that_fails_is_a_load_error_naming_it(tmp_path, capsys, source, func, expected):
    (tmp_path / "net.py").write_text(source)
    out = tmp_path / "b"
    assert main(["compile", f"{tmp_path / 'net.py'}:{func}", "--board", "mps2-an500", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("[1/9]") and "edgexf: error: " in err and "internal error" not in err
    assert all(e in err for e in expected), err
    assert "Traceback" not in err and "edgexf/frontends" not in err  # the user's lines, not edgexf's
    assert not out.exists()

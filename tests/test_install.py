"""A wheel built from the repository, installed in a fresh venv, finds its templates, boards and
firmware (they travel inside the wheel as edgexf/_data/) and compiles a model.

The new venv borrows the already-installed dependencies (torch, numpy, ...) through a .pth file,
so the test installs only the wheel itself (no network, no 700 MB torch copy).
"""

from __future__ import annotations

import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_compiles(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("edgexf-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    new_site = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # dependencies come from this interpreter's site-packages; a path line in a .pth does not run the
    # editable install's own .pth hooks, so edgexf itself can only come from the wheel
    (new_site / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, timeout=300)

    (tmp_path / "net.py").write_text(
        textwrap.dedent("""
        import torch
        def build():
            return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()), torch.randn(1, 4)
    """)
    )
    script = textwrap.dedent(f"""
        import edgexf, edgexf.resources as r
        print(edgexf.__file__)
        print(r.templates_dir(), r.boards_dir(), r.firmware_dir())
        from edgexf.cli import main
        raise SystemExit(main(["compile", "{tmp_path / "net.py"}:build", "--board", "stm32f746",
                               "-o", "{tmp_path / "build"}"]))
    """)
    out = subprocess.run([py, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(new_site)), "edgexf was not imported from the installed wheel"
    assert all(p.startswith(str(new_site / "edgexf" / "_data")) for p in lines[1].split())
    assert (tmp_path / "build" / "emulator" / "app.elf").is_file()

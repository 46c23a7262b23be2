"""Two models compiled with --prefix (the digits ViT as vit, int8; the keyword-spotting LMU as kws) linked
into one image with one kernel library, separate arenas or one shared arena, run in QEMU bit-exact
with each build's reference; the prefix's names (nm), edgexf's own apps on a prefixed build, and the
kernel version check refusing a mismatched link or header."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_builds import vit_digits

from edgexf.cli import main as edgexf_main
from edgexf.codegen.kernel_version import KernelVersion
from edgexf.codegen.names import Names, check_prefix
from edgexf.datasets import fsdd_root
from edgexf.errors import EdgexfError
from edgexf.resources import firmware_dir
from edgexf.run.build_dir import run_build
from edgexf.run.qemu import qemu_command
from edgexf.run.vectors import encode_inputs
from edgexf.targets.boards import load_board
from edgexf.targets.image import link_models, two_models_defines

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOARD = "stm32f746"


def _compile(model: str, data: Path, data_name: str, out: Path, prefix: str, int8: bool) -> Path:
    args = ["compile", model, "--board", BOARD, "-o", str(out), "--prefix", prefix, "--exact-seconds", "0"]
    args += ["--test-data", str(data / f"{data_name}_test.npz"), "--max-vectors", "8"]
    if int8:
        args += ["--quantize", "int8", "--calibration", str(data / f"{data_name}_calib.npz")]
    assert edgexf_main(args) == 0
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The digits ViT (trained once per run, shared_builds.py) as vit, int8; the keyword-spotting LMU
    as kws. About 20 s."""
    work = tmp_path_factory.mktemp("two_models")
    digits = vit_digits(tmp_path_factory)
    vit = _compile(str(digits / "vit.pt2"), digits, "vit_digits", work / "vit", "vit", int8=True)
    data = work / "kws_data"
    cmd = [sys.executable, str(EXAMPLES / "kws_fsdd.py"), "--write-data", str(data)]
    subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    # int8 needs the recordings for calibration; without them the float32 LMU (bit-exact all the same)
    kws_model = f"{EXAMPLES / 'kws_fsdd.py'}:bundled"
    kws = _compile(kws_model, data, "kws_fsdd", work / "kws", "kws", int8=fsdd_root().is_dir())
    return {"vit": vit, "kws": kws}


def test_prefix_is_checked_before_any_work(tmp_path):
    assert check_prefix("kws2") == "kws2"
    for bad, why in [("KWS", "lowercase C identifier"), ("2kws", "lowercase"), ("int", "C keyword"),
                     ("exf", "kernel library"), ("exfq_a", "kernel library"), ("edgexf", "default"),
                     ("kws_", "is added"), ("k-ws", "lowercase")]:  # fmt: skip
        with pytest.raises(EdgexfError, match=why):
            Names(bad)
    out = tmp_path / "build"
    assert edgexf_main(["compile", "x.onnx", "--board", BOARD, "-o", str(out), "--prefix", "Bad"]) == 1
    assert not out.exists()


def test_prefixed_build_names_only_its_own_symbols(builds):
    model = builds["vit"] / "model"
    assert {p.name for p in model.glob("vit_*")} == {"vit_model.h", "vit_model.c", "vit_weights.c"}
    assert not (model / "model.h").exists()
    objects = sorted((builds["vit"] / "firmware" / "obj").glob("vit_*.o"))
    nm = subprocess.run(["arm-none-eabi-nm", "-g", *objects], capture_output=True, text=True, check=True)
    defined = {f[2] for f in (ln.split() for ln in nm.stdout.splitlines()) if len(f) == 3}
    undefined = {f[1] for f in (ln.split() for ln in nm.stdout.splitlines()) if len(f) == 2 and f[0] == "U"}
    assert defined >= {"vit_run", "vit_init", "vit_input", "vit_output", "vit_input_info", "vit_output_info"}
    assert all(s.startswith("vit_") for s in defined), sorted(s for s in defined if not s.startswith("vit_"))
    assert any(s.startswith("vit_W_") for s in defined)
    assert all(s.startswith(("vit_", "exf_", "mem")) for s in undefined), sorted(undefined)
    header = (model / "vit_model.h").read_text()
    assert "#define VIT_ARENA_BYTES" in header and "EDGEXF_ARENA_BYTES VIT_ARENA_BYTES" in header
    assert not re.search(r"^#define EDGEXF_\w+ \d", header, re.M)  # no generic macro of its own


@pytest.mark.qemu
def test_edgexf_apps_run_a_prefixed_build(builds):
    """runner.c through EDGEXF_GENERIC_NAMES: --check and --profile on a prefixed streaming model."""
    run = run_build(builds["kws"], emulate=True, check=True)
    assert run.agreement.bit_exact_with_reference == run.agreement.samples == 8
    assert edgexf_main(["run", str(builds["kws"]), "--emulate", "--profile"]) == 0
    profile = json.loads((builds["kws"] / "profile.json").read_text())
    assert profile  # per-op counts came back through kws_profile_op


@pytest.mark.qemu
def test_edgexf_eval_runs_a_prefixed_build(builds, tmp_path_factory):
    """eval_app.c through EDGEXF_GENERIC_NAMES: the evaluation firmware of a prefixed int8 ViT answers
    over the emulated UART, its handshake carrying the prefixed build's model hash."""
    data = vit_digits(tmp_path_factory) / "vit_digits_test.npz"
    assert edgexf_main(["eval", str(builds["vit"]), "--emulate", "--data", str(data), "--limit", "8"]) == 0
    report = json.loads((builds["vit"] / "eval_report.json").read_text())
    build = json.loads((builds["vit"] / "report.json").read_text())
    assert report["samples"] == 8 and report["failed_runs"] == 0
    assert report["model_hash"] == build["model_hash"] and report["counter"]["avg"] > 0


def _run_image(builds: dict[str, Path], out: Path, shared: bool) -> dict[str, bool]:
    board = load_board(BOARD)
    dirs = [b / "model" for b in builds.values()]
    app, defines = firmware_dir() / "app" / "two_models.c", two_models_defines(dirs, shared)
    fw = link_models(board, dirs, app, out, emulated=True, shared_arena=shared, defines=defines)
    refs = {}
    for prefix, build in builds.items():
        report = json.loads((build / "report.json").read_text())
        vectors = np.load(build / "test_vectors.npz")
        (out / f"{prefix}_in.bin").write_bytes(encode_inputs(vectors["x"], report["inputs"][0]).tobytes())
        refs[prefix] = vectors["reference"]
    result = subprocess.run(qemu_command(board, fw.elf), cwd=out, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    nm = subprocess.run(["arm-none-eabi-nm", fw.elf], capture_output=True, text=True, check=True).stdout
    assert len(re.findall(r" T exf_add_q$", nm, re.M)) <= 1 and len(re.findall(r" exf_kernels_", nm)) == 1
    assert (" shared_arena" in nm) == shared
    exact = {}
    for prefix, ref in refs.items():
        got = np.frombuffer((out / f"{prefix}_out.bin").read_bytes(), dtype=np.uint8)
        exact[prefix] = np.array_equal(got, ref.reshape(-1).view(np.uint8))  # int8 values or float bits
    return exact


@pytest.mark.qemu
@pytest.mark.parametrize("shared", [False, True], ids=["separate_arenas", "shared_arena"])
def test_two_models_in_one_image_are_bit_exact(builds, tmp_path, shared):
    assert _run_image(builds, tmp_path, shared) == {"vit": True, "kws": True}


def _restamped(model: Path, out: Path) -> Path:
    """A copy of the model folder whose kernels are another version's."""
    other = KernelVersion("9.9.9+deadbeef", "exf_kernels_9_9_9_deadbeef", 0xDEADBEEF)
    out.mkdir()
    for f in model.iterdir():
        text = f.read_text()
        (out / f.name).write_text(other.stamp(text) if f.name == "edgexf_kernels.h" else text)
    return out


def test_kernels_of_another_version_do_not_compile_or_link(builds, tmp_path):
    """model.c beside another version's header: #error; its objects against another version's
    kernel library: the link names the version symbol it needs."""
    model = builds["vit"] / "model"
    other = _restamped(model, tmp_path / "other")
    ours = re.search(r"#define EXF_KERNELS_ID (\w+)", (model / "edgexf_kernels.h").read_text())[1]
    gcc = ["gcc", "-std=c11", "-O1", "-ffunction-sections", "-fdata-sections"]
    bad = subprocess.run([*gcc, f"-I{other}", "-c", other / "vit_model.c", "-o", tmp_path / "x.o"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode != 0 and "generated for the edgexf kernels 0." in bad.stderr
    main = tmp_path / "main.c"
    main.write_text('#include "vit_model.h"\nint main(void) { vit_init(); return vit_run(); }\n')
    objects = []
    for src in [main, model / "vit_model.c", model / "vit_weights.c"]:
        objects.append(tmp_path / f"{src.stem}.o")
        subprocess.run([*gcc, f"-I{model}", "-c", src, "-o", objects[-1]], check=True)
    kernels = [p for p in sorted(model.glob("*.c")) if not p.name.startswith(("vit_", "version"))]
    for version_dir, ok in [(model, True), (other, False)]:
        library = [*kernels, version_dir / "version.c"]  # the version symbol: this folder's
        link = [*gcc, f"-I{version_dir}", *objects, *library, "-o", tmp_path / "app"]
        result = subprocess.run([*link, "-Wl,--gc-sections", "-lm"], capture_output=True, text=True)
        assert (result.returncode == 0) == ok, result.stderr[-1000:]
        if not ok:
            assert f"undefined reference to `{ours}'" in result.stderr


def test_images_refuse_models_of_different_kernels(builds, tmp_path):
    other = _restamped(builds["kws"] / "model", tmp_path / "other")
    with pytest.raises(EdgexfError, match="different kernel libraries"):
        link_models(load_board(BOARD), [builds["vit"] / "model", other], Path("app.c"), tmp_path, True)

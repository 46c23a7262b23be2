"""model/ as a CMake package: configured and built with cmake for the host and for a Cortex-M7 board
in a temporary folder; the host build, linked into a small main of a user's own, gives the same bytes
as edgexf's host runner. Needs cmake, gcc and arm-none-eabi-gcc (scripts/setup.sh installs them)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgexf.codegen.generate import generate_c
from edgexf.ir.builder import GraphBuilder
from edgexf.memory.plan import plan_memory
from edgexf.run.host import run_host
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_host, package_flags

# A user's program: input 0 from stdin, one run, output 0 to stdout (what the runner does per sample).
USER_MAIN = r"""
#include <stdint.h>
#include <stdio.h>
#include "model.h"
int main(void) {
    edgexf_init();
    if (fread(edgexf_input(0), 1, EDGEXF_INPUT0_BYTES, stdin) != EDGEXF_INPUT0_BYTES) return 2;
    if (edgexf_run() != 0 || edgexf_input(EDGEXF_NUM_INPUTS) != NULL) return 3;
    /* the alignment model.h states (16 for this model) */
    if ((uintptr_t)edgexf_input(0) % 16 || (uintptr_t)edgexf_output(0) % 16) return 4;
    fwrite(edgexf_output(0), 1, EDGEXF_OUTPUT0_BYTES, stdout);
    return 0;
}
"""


def small_graph(seed: int = 0):
    """linear -> gelu -> add of a broadcast row: a float model whose add walks its broadcast through a
    function pointer."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder("small_mlp")
    x = b.add_input("x", (3, 6))
    w = b.add_const("fc.weight", rng.standard_normal((5, 6)).astype(np.float32))
    bias = b.add_const("fc.bias", rng.standard_normal(5).astype(np.float32))
    h = b.add1("gelu", [b.add1("linear", [x, w, bias], name="fc")], name="act")
    shift = b.add_const("shift", rng.standard_normal((1, 5)).astype(np.float32))
    return b.build([b.add1("add", [h, shift], name="out")])


def cmake(*args: str | Path, cwd: Path) -> None:
    done = subprocess.run(["cmake", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    g = small_graph()
    model = tmp_path_factory.mktemp("pkg") / "model"
    meta = {"command": "test", "board": "stm32f746", "target_flags": package_flags(load_board("stm32f746"))}
    generate_c(g, plan_memory(g), model, meta)
    return model


def test_host_cmake_build_runs_as_the_runner_does(package, tmp_path):
    x = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32).tobytes()
    expected = run_host(build_host(package, tmp_path / "runner"), x, 3 * 5 * 4, timeout=60).outputs

    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(USER_MAIN)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(user_app C)\n"
        f'add_subdirectory("{package}" model)\n'
        "add_executable(user_app main.c)\ntarget_link_libraries(user_app PRIVATE edgexf::small_mlp)\n"
    )
    cmake("-S", app, "-B", app / "build", "-DCMAKE_BUILD_TYPE=Debug", cwd=tmp_path)  # Debug: our -O2 wins
    cmake("--build", app / "build", "-j", "1", cwd=tmp_path)
    exe = app / "build" / "user_app"
    done = subprocess.run([exe], input=x, capture_output=True, timeout=60)
    assert done.returncode == 0
    assert len(expected) == 60 and done.stdout == expected
    assert " *   input 0: 16\n *   output 0: 16\n" in (package / "model.h").read_text()
    # the library's own objects got the flags that keep float bits; the app's main did not
    commands = (app / "build" / "model" / "CMakeFiles" / "small_mlp.dir" / "flags.make").read_text()
    assert "-ffp-contract=off" in commands and "-ffunction-sections" in commands
    assert "-mcpu" not in commands  # the host: no board flags


def test_arm_cmake_build_is_for_the_boards_core(package, tmp_path):
    build = tmp_path / "arm"
    cmake(
        "-S", package, "-B", build,
        "-DCMAKE_SYSTEM_NAME=Generic", "-DCMAKE_C_COMPILER=arm-none-eabi-gcc",
        "-DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY",
        cwd=tmp_path,
    )  # fmt: skip
    cmake("--build", build, "-j", "1", cwd=tmp_path)
    attributes = subprocess.run(
        ["arm-none-eabi-readelf", "-A", build / "libsmall_mlp.a"], capture_output=True, text=True, check=True
    ).stdout
    # stm32f746: Cortex-M7 (v7E-M), single-precision FPv5, floats passed in FPU registers (hard ABI)
    assert "Tag_CPU_arch: v7E-M" in attributes and "Tag_ABI_VFP_args: VFP registers" in attributes
    assert "Tag_FP_arch: FPv5/FP-D16 for ARMv8" in attributes

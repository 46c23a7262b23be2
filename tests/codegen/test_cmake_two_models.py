"""Two prefixed models as CMake packages in one program: each folder's library holds its own two files,
the first folder added makes the one edgexf_kernels target both link, and the program's outputs are
the host runner's bytes for each model. Needs cmake and gcc."""

from __future__ import annotations

import subprocess

import numpy as np
from codegen.test_cmake_package import cmake, small_graph

from edgexf.codegen.generate import generate_c
from edgexf.codegen.names import Names
from edgexf.memory.plan import plan_memory
from edgexf.run.host import run_host
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_host, package_flags

# Both models on the same input, A's output then B's; with one arena shared (-DA_ARENA=shared_arena)
MAIN = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "a_model.h"
#include "b_model.h"
#define SHARED_BYTES (A_ARENA_BYTES > B_ARENA_BYTES ? A_ARENA_BYTES : B_ARENA_BYTES)
uint8_t shared_arena[SHARED_BYTES] __attribute__((aligned(16)));
int main(void) {
    uint8_t x[A_INPUT0_BYTES];
    a_init();
    b_init();
    if (fread(x, 1, sizeof x, stdin) != sizeof x) return 2;
    memcpy(a_input(0), x, sizeof x);
    if (a_run() != 0) return 3;
    fwrite(a_output(0), 1, A_OUTPUT0_BYTES, stdout);
    memcpy(b_input(0), x, sizeof x);
    if (b_run() != 0) return 3;
    fwrite(b_output(0), 1, B_OUTPUT0_BYTES, stdout);
    const uint8_t *a = a_output(0); /* in the shared region; b's in its own arena */
    const uint8_t *b = b_output(0);
    const int a_shared = a >= shared_arena && a < shared_arena + SHARED_BYTES;
    const int b_shared = b >= shared_arena && b < shared_arena + SHARED_BYTES;
    return a_shared && !b_shared ? 0 : 4;
}
"""


def test_two_prefixed_packages_link_one_kernel_library(tmp_path):
    meta = {"command": "test", "board": "stm32f746", "target_flags": package_flags(load_board("stm32f746"))}
    x = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32).tobytes()
    expected = b""
    for prefix, seed in (("a", 0), ("b", 1)):
        g = small_graph(seed)
        generate_c(g, plan_memory(g), tmp_path / prefix, meta, names=Names(prefix))
        runner = build_host(tmp_path / prefix, tmp_path / f"runner_{prefix}")
        expected += run_host(runner, x, 60, timeout=60).outputs
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(MAIN)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(user_app C)\n"
        f'add_subdirectory("{tmp_path / "a"}" a)\nadd_subdirectory("{tmp_path / "b"}" b)\n'
        "target_compile_definitions(a PRIVATE A_ARENA=shared_arena)\n"
        "add_executable(user_app main.c)\ntarget_link_libraries(user_app PRIVATE edgexf::a edgexf::b)\n"
    )
    cmake("-S", app, "-B", app / "build", cwd=tmp_path)
    cmake("--build", app / "build", "-j", "1", cwd=tmp_path)
    done = subprocess.run([app / "build" / "user_app"], input=x, capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout == expected and expected[:60] != expected[60:]
    nm = subprocess.run(["nm", app / "build" / "b" / "libb.a"], capture_output=True, text=True).stdout
    assert " T b_run" in nm and " T exf_" not in nm and " U exf_" in nm  # the kernels: edgexf_kernels
    assert (app / "build" / "a" / "libedgexf_kernels.a").is_file()
    assert not (app / "build" / "b" / "libedgexf_kernels.a").exists()

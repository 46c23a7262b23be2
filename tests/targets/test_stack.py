"""edgexf_run's stack (targets/stack.py) against gcc's own -fstack-usage figures: a hand-written call
graph with a call through a pointer, recursion refused, a generated model's deepest path frame by frame,
and a figure past the board's reserved stack refused. Needs arm-none-eabi-gcc."""

from __future__ import annotations

import json
import re
import subprocess
from functools import partial
from pathlib import Path

import pytest

from edgexf.codegen.generate import generate_c
from edgexf.errors import DoesNotFitError, ToolchainError
from edgexf.memory.plan import plan_memory
from edgexf.targets.boards import load_board
from edgexf.targets.stack import StackFigure, check_stack, measure_stack, stack_entry
from edgexf.targets.toolchain import COMMON_CFLAGS, FIRMWARE_FLAGS
from tests.codegen.test_cmake_package import small_graph  # linear, gelu, a broadcast add

BOARD = load_board("stm32f746")

# edgexf_run -> walk -(pointer)-> big_block: the deepest path; small() is shallower; unused() is never
# called and its address never taken, so its large frame must not count.
KNOWN = r"""
#include <stdint.h>
typedef void (*block_fn)(volatile uint8_t *);
__attribute__((noinline)) static void big_block(volatile uint8_t *p) {
    volatile uint8_t buf[200]; for (int i = 0; i < 200; i++) buf[i] = p[i]; p[0] = buf[7]; }
__attribute__((noinline)) static void tiny_block(volatile uint8_t *p) { p[0] = 1; }
__attribute__((noinline)) void walk(block_fn fn, volatile uint8_t *p) {
    volatile uint8_t pad[24]; pad[0] = p[1]; fn(p); p[2] = pad[0]; }
__attribute__((noinline)) void small(volatile uint8_t *p) {
    volatile uint8_t buf[40]; buf[3] = p[0]; p[1] = buf[3]; }
__attribute__((noinline)) void unused(volatile uint8_t *p) {
    volatile uint8_t buf[4000]; buf[9] = p[0]; p[1] = buf[9]; }
static uint8_t arena[256];
int32_t edgexf_run(void) {
    small(arena); walk(big_block, arena); walk(tiny_block, arena); return 0; }
"""

RECURSIVE = r"""
#include <stdint.h>
__attribute__((noinline)) int32_t down(int32_t n) { return n <= 0 ? 0 : 1 + down(n - 2) + down(n - 1); }
volatile int32_t depth = 5;
int32_t edgexf_run(void) { return down(depth); }
"""


def su_frames(model_dir: Path, tmp: Path) -> dict[str, int]:
    """gcc's .su figures of model_dir's functions (name -> bytes), compiled as the firmware is."""
    sources = [s.resolve() for s in sorted(model_dir.glob("*.c")) if s.name != "weights.c"]
    cmd = ["arm-none-eabi-gcc", *BOARD.cflags(), *COMMON_CFLAGS, *FIRMWARE_FLAGS, f"-I{model_dir}"]
    subprocess.run([*cmd, "-fstack-usage", "-c", *sources], cwd=tmp, check=True, capture_output=True)
    frames = {}
    for su in tmp.glob("*.su"):
        for line in su.read_text().splitlines():  # file.c:12:6:name<TAB>bytes<TAB>static
            where, size, kind = line.split("\t")
            assert kind == "static", line
            frames[where.rsplit(":", 1)[-1]] = int(size)
    return frames


def model_dir_with(tmp: Path, code: str) -> Path:
    d = tmp / "model"
    d.mkdir()
    (d / "model.h").write_text("/* stands in for a generated model.h */\n")
    (d / "model.c").write_text(code)
    return d


def test_the_deepest_path_follows_the_pointer_call(tmp_path):
    d = model_dir_with(tmp_path, KNOWN)
    su = su_frames(d, tmp_path)
    figure = measure_stack(BOARD, d)
    assert su["big_block"] > su["small"] + 100 and su["unused"] >= 4000  # the frames are what the code says
    assert figure.measured_bytes == su["edgexf_run"] + su["walk"] + su["big_block"]
    assert [f.rsplit(":", 1)[-1] for f, _ in figure.path] == ["edgexf_run", "walk", "big_block"]
    assert [n for _, n in figure.path] == [su["edgexf_run"], su["walk"], su["big_block"]]


def test_recursion_has_no_bound_and_is_refused(tmp_path):
    with pytest.raises(ToolchainError, match=r"recursion has no static stack bound: down -> down"):
        measure_stack(BOARD, model_dir_with(tmp_path, RECURSIVE))


def test_a_generated_models_figure_is_its_path_of_gcc_frames(tmp_path):
    g = small_graph()
    sources = generate_c(g, plan_memory(g), tmp_path / "model", {"board": BOARD.name}, None,
                         partial(stack_entry, BOARD))  # fmt: skip
    su = su_frames(tmp_path / "model", tmp_path)
    stack = sources.stack
    path = stack["deepest_path"]
    assert path[0]["function"] == "edgexf_run" and len(path) >= 3  # through the broadcast walk
    assert all(p["frame_bytes"] == su[p["function"]] for p in path)
    assert stack["measured_bytes"] == sum(p["frame_bytes"] for p in path)
    assert stack["reserved_bytes"] == BOARD.stack_bytes
    # no other function edgexf_run reaches directly needs more than the path below it
    assert stack["measured_bytes"] >= su["edgexf_run"] + max(su["exf_linear_f32"], su["exf_gelu_f32"])
    header = (tmp_path / "model" / "model.h").read_text()
    assert f"#define EDGEXF_STACK_BYTES {stack['measured_bytes']} " in header
    assert "Deepest path: edgexf_run -> " in header


def test_the_cached_call_graphs_give_the_same_figure(tmp_path, monkeypatch):
    """Cold, warm (objects and .ci files from the caches) and with the caches off: one figure."""
    d = model_dir_with(tmp_path, KNOWN)
    (d / "other.c").write_text("int other(void) { return 7; }\n")  # a second file
    monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "cache"))
    cold = measure_stack(BOARD, d)
    assert len(list((tmp_path / "cache" / "callgraphs").glob("*.ci"))) == 2
    assert measure_stack(BOARD, d) == cold
    monkeypatch.setenv("EDGEXF_OBJECT_CACHE", "off")
    assert measure_stack(BOARD, d) == cold and cold.measured_bytes > 200


def test_a_stack_past_the_boards_reserve_is_refused():
    figure = StackFigure("edgexf_run", BOARD.stack_bytes + 8, (("edgexf_run", BOARD.stack_bytes + 8),), ())
    with pytest.raises(DoesNotFitError, match=r"edgexf_run needs 8,200 B of stack, more than the 8,192 B"):
        check_stack(figure, BOARD)
    check_stack(StackFigure("edgexf_run", BOARD.stack_bytes, (), ()), BOARD)  # exactly the reserve: fits


def test_compile_reports_the_stack_and_refuses_a_board_that_reserves_too_little(tmp_path, capsys):
    import torch

    from edgexf.cli import main

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU()).eval()
    model = tmp_path / "tiny.pt2"
    torch.export.save(torch.export.export(net, (torch.randn(1, 8),)), model)
    assert main(["compile", str(model), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    stack = report["stack"]
    assert report["stack_bytes"] == stack["reserved_bytes"] == BOARD.stack_bytes  # the reservation, kept
    assert 0 < stack["measured_bytes"] < BOARD.stack_bytes
    header = (tmp_path / "b" / "model" / "model.h").read_text()
    assert f"#define EDGEXF_STACK_BYTES {stack['measured_bytes']} " in header

    # the same board reserving fewer bytes than edgexf_run needs: refused, naming the path
    text = BOARD.path.read_text()
    small = tmp_path / "tight.toml"
    small.write_text(re.sub(r"(?m)^stack_bytes = .*$", "stack_bytes = 64", text))
    capsys.readouterr()
    assert main(["compile", str(model), "--board", str(small), "-o", str(tmp_path / "c")]) == 5
    err = capsys.readouterr().err
    assert f"edgexf_run needs {stack['measured_bytes']:,} B of stack, more than the 64 B" in err
    assert not (tmp_path / "c").exists()

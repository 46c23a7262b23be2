"""Per-op profiling (`edgexf run DIR --profile`): the hook in the generated code, the profile builds on
the host and in QEMU, their figures against a normal run, and the command line."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from elftools.elf.elffile import ELFFile

from edgexf.build_output import write_manifest
from edgexf.cli import main
from edgexf.pipeline import MemoryOptions, compile_model
from edgexf.run.build_dir import read_report, run_build
from edgexf.run.profile import PROFILE_DIR, PROFILE_FILE, build_profile, format_profile, profile_build

pytestmark = pytest.mark.qemu


class BigMiddle(torch.nn.Module):
    """Three linears; the middle one has 4x the MACs of the next largest and dominates the run."""

    def __init__(self) -> None:
        super().__init__()
        self.inp, self.big, self.out = (
            torch.nn.Linear(16, 64),
            torch.nn.Linear(64, 64),
            torch.nn.Linear(64, 4),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.big(torch.relu(self.inp(x)))))


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BigMiddle compiled for stm32f746: a build directory as `edgexf compile` writes it."""
    for tool in ("gcc", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    tmp = tmp_path_factory.mktemp("profile")
    torch.manual_seed(0)
    model = tmp / "big_middle.pt2"
    torch.export.save(torch.export.export(BigMiddle().eval(), (torch.randn(1, 16),)), model)
    out = tmp / "build"
    memory = MemoryOptions(exact_time_s=0)  # the heuristic planners are enough here
    compile_model(model, "stm32f746", out, max_vectors=8, log=lambda s: None, memory=memory)
    return out


def one_input() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((1, 1, 16), dtype=np.float32)


def test_generated_code_calls_the_hook_after_every_op_only_in_a_profile_build(build: Path) -> None:
    ops = read_report(build)["ops"]
    assert [op["index"] for op in ops] == list(range(len(ops))) and len(ops) >= 5
    model_c = (build / "model" / "model.c").read_text()
    body = model_c[model_c.index("int32_t edgexf_run(void)") :]
    # report.json's order is model.c's: "op i: type name", its call, then the hook for op i
    emitted = re.findall(
        r"/\* op (\d+): (\w+) (\S+) ->.*\n(?:    .*\n)*?    EDGEXF_PROFILE_OP\((\d+)\);", body
    )
    assert [(int(i), t, n, int(h)) for i, t, n, h in emitted] == [
        (op["index"], op["type"], op["name"], op["index"]) for op in ops
    ]
    assert f"#define EDGEXF_NUM_OPS {len(ops)}\n" in (build / "model" / "model.h").read_text()
    assert "edgexf_profile_op" not in _symbols(build / "emulator" / "app.elf")  # a normal build: no hook
    assert "edgexf_profile_op" in _symbols(build_profile(build, emulate=True))


def test_host_profile_lists_every_op_in_order(build: Path) -> None:
    ops = read_report(build)["ops"]
    profile = profile_build(build, emulate=False, timeout=30)
    assert [(op.index, op.name, op.type, op.macs) for op in profile.ops] == [
        (op["index"], op["name"], op["type"], op["macs"]) for op in ops
    ]
    assert profile.samples == 8 and profile.unit == "ns" and profile.instructions_per_tick is None
    assert all(op.instructions is None and op.macs_per_instruction is None for op in profile.ops)
    assert abs(sum(op.share for op in profile.ops) - 1) < 1e-9
    assert (build / PROFILE_DIR / "host" / "runner").is_file()


def test_qemu_profile_adds_up_to_a_normal_run(build: Path) -> None:
    x = one_input()
    ops = read_report(build)["ops"]
    profile = profile_build(build, emulate=True, inputs=x, timeout=30)
    assert [(op.index, op.name, op.type) for op in profile.ops] == [
        (op["index"], op["name"], op["type"]) for op in ops
    ]
    assert profile.instructions_per_tick == 40 and profile.samples == 1
    per_op = [op.instructions for op in profile.ops]
    assert all(n is not None and n > 0 and n % 40 == 0 for n in per_op)
    normal = run_build(build, emulate=True, inputs=x, timeout=30).result.instructions
    assert normal is not None
    # each op carries one hook (a few dozen instructions) and up to a tick of rounding
    assert abs(sum(per_op) - normal[0]) <= len(ops) * 80 + 200, (sum(per_op), normal[0])
    whole = profile.totals()["whole_run_instructions"]  # the ops tile the whole profiled run, return aside
    assert 0 <= whole - sum(per_op) <= 40


def test_op_with_the_most_macs_costs_the_most_instructions(build: Path) -> None:
    profile = profile_build(build, emulate=True, inputs=one_input(), timeout=30)
    biggest = max(profile.ops, key=lambda op: op.macs)
    assert biggest.type == "linear" and biggest.macs == 64 * 64
    assert max(profile.ops, key=profile.cost) == biggest
    assert biggest.share > 0.5
    assert biggest.macs_per_instruction is not None and 0 < biggest.macs_per_instruction < 1
    linear = next(row for row in profile.by_type() if row["type"] == "linear")
    assert profile.by_type()[0] == linear and linear["count"] == 3


def test_qemu_profile_is_deterministic_and_reuses_its_build(build: Path) -> None:
    elf = build_profile(build, emulate=True)
    built = elf.stat().st_mtime_ns
    first = profile_build(build, emulate=True, timeout=30)
    second = profile_build(build, emulate=True, timeout=30)
    assert first == second and first.samples == 8
    assert elf.stat().st_mtime_ns == built  # newer than every model source: not built again


def test_profile_build_is_redone_when_the_model_is_newer(build: Path) -> None:
    exe = build_profile(build, emulate=False)
    model_c = (build / "model" / "model.c").stat().st_mtime_ns
    os.utime(exe, ns=(model_c - 10**9, model_c - 10**9))  # as if built before model.c was last written
    assert build_profile(build, emulate=False) == exe
    assert exe.stat().st_mtime_ns > model_c  # built again


def test_cli_prints_the_table_and_writes_profile_json(
    build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "x.npy", one_input())
    assert main(["run", str(build), "--profile", "--emulate", "--input", str(tmp_path / "x.npy")]) == 0
    out = capsys.readouterr().out
    ops = read_report(build)["ops"]
    assert re.search(r"#\s+op\s+type\s+MACs\s+instructions\s+MACs/instr\s+share", out)
    for op in ops:
        assert re.search(rf"^\s+{op['index']}\s+{op['name']}\s+{op['type']}\s+{op['macs']:,}\s", out, re.M)
    assert re.search(r"^linear\s+3\s+", out, re.M) and re.search(r"^relu\s+2\s+", out, re.M)
    assert re.search(r"^total\s+5\s+.*100\.0%$", out, re.M)
    assert "1 tick = 40 instructions" in out
    saved = json.loads((build / PROFILE_FILE).read_text())
    assert saved["emulated"] is True and saved["where"].startswith("QEMU mps2-an500")
    assert [row["name"] for row in saved["ops"]] == [op["name"] for op in ops]
    assert saved["totals"]["instructions"] == sum(row["instructions"] for row in saved["ops"])


def test_names_are_shortened_in_the_middle(build: Path) -> None:
    text = format_profile(profile_build(build, emulate=False, inputs=one_input(), timeout=30), name_width=7)
    assert re.search(r"^\s+0\s+linear\s+linear\s", text, re.M)  # 6 characters: kept whole
    assert re.search(r"^\s+2\s+li\.\.\._1\s+linear\s", text, re.M)  # linear_1
    assert re.search(r"^\s+4\s+li\.\.\._2\s+linear\s", text, re.M)


def test_a_build_without_the_ops_list_says_to_recompile(
    build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    report = read_report(build) | {"ops": 5, "command": "edgexf compile m.pt2 --board stm32f746 -o old"}
    (old / "report.json").write_text(json.dumps(report))  # as edgexf wrote it before per-op profiles
    write_manifest(old)
    assert main(["run", str(old), "--profile"]) == 1
    err = capsys.readouterr().err
    # report.json's fields are checked when it is read (run/report_schema.py): the one that is wrong is named
    assert err.startswith("edgexf: error: ") and "report.ops is int, not a list" in err
    assert "compile the build again" in err
    assert not (old / PROFILE_DIR).exists()


def _symbols(elf: Path) -> set[str]:
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        return {s.name for s in table.iter_symbols()}

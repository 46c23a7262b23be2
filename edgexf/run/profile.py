"""Per-op profile of a build directory (`edgexf run DIR --profile [--emulate]`).

A profile build is the build's own generated model (DIR/model) compiled again with -DEDGEXF_PROFILE:
edgexf_run() then calls edgexf_profile_op(i) after op i, and firmware/app/runner.c adds the ticks
since the previous call (since just before edgexf_run() for op 0) to op i and writes them per sample
to profile.bin. It is built on demand into DIR/profile/host/ or DIR/profile/emulator/ and built
again only when a source is newer than it. Op i is report.json's ops[i] and model.c's "op i".

What the figures mean:
- In QEMU the clock is SysTick at the board's emulated core clock under -icount shift=0: one tick is
  40 instructions on mps2-an500 (25 MHz), so each op's count is a multiple of 40 (or 20, as the
  median of an even number of samples) and is off by up to a tick either way. The ops' counts are
  differences of one clock, so they add up to the whole run to within a tick.
- Each op's figure includes the hook's own cost, a few dozen instructions (the call, a 64-bit timer
  read, an add). An op of a few hundred instructions is measured only roughly; small ops mostly
  measure the hook. The whole profiled run is longer than a normal one by about that per op.
- On the host the figures are wall-clock nanoseconds of the gcc build: a rough timing, not a count.
- Each figure is the median over the samples run, op by op.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgexf.errors import EdgexfError, RunError
from edgexf.resources import firmware_dir
from edgexf.run.build_dir import read_report
from edgexf.run.host import run_host
from edgexf.run.qemu import instructions_per_tick, run_qemu
from edgexf.run.vectors import TestVectors, encode_inputs
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_firmware, build_host

PROFILE_DEFINE = "EDGEXF_PROFILE"
PROFILE_DIR = "profile"  # DIR/profile/host/runner, DIR/profile/emulator/app.elf
PROFILE_FILE = "profile.json"
DEFAULT_SAMPLES = 8  # test vectors profiled when no inputs are given


@dataclass(frozen=True)
class OpProfile:
    index: int  # report.json's ops[index], model.c's "op index"
    name: str
    type: str
    macs: int
    ticks: float  # median over the samples: ns on the host, SysTick ticks in QEMU
    instructions: int | None  # QEMU: ticks x instructions per tick; None on the host
    macs_per_instruction: float | None  # None on the host, or for an op of 0 instructions
    share: float  # of the sum over all ops, 0..1


@dataclass(frozen=True)
class Profile:
    model: str
    board: str
    emulated: bool
    where: str  # in words: "QEMU mps2-an500 (stm32f746 firmware)" or "host (gcc build)"
    samples: int
    instructions_per_tick: int | None  # QEMU only
    ops: list[OpProfile]  # in execution order
    whole_ticks: float  # median of the whole profiled edgexf_run() (ticks.bin), hooks included

    @property
    def unit(self) -> str:
        return "instructions" if self.emulated else "ns"

    def cost(self, op: OpProfile) -> float:
        """What the table shows for an op: instructions in QEMU, ns on the host."""
        return op.instructions if op.instructions is not None else op.ticks

    def totals(self) -> dict:
        macs, cost = sum(op.macs for op in self.ops), sum(self.cost(op) for op in self.ops)
        whole = (
            round(self.whole_ticks * self.instructions_per_tick)
            if self.instructions_per_tick
            else self.whole_ticks
        )
        return {"ops": len(self.ops), "macs": macs, self.unit: cost, f"whole_run_{self.unit}": whole} | (
            {"macs_per_instruction": _ratio(macs, cost)} if self.emulated else {}
        )

    def by_type(self) -> list[dict]:
        """One row per op type, the most costly first."""
        total = sum(self.cost(op) for op in self.ops)
        rows: dict[str, dict] = {}
        for op in self.ops:
            row = rows.setdefault(op.type, {"type": op.type, "count": 0, "macs": 0, self.unit: 0})
            row["count"] += 1
            row["macs"] += op.macs
            row[self.unit] += self.cost(op)
        for row in rows.values():
            if self.emulated:
                row["macs_per_instruction"] = _ratio(row["macs"], row[self.unit])
            row["share"] = row[self.unit] / total if total else 0.0
        return sorted(rows.values(), key=lambda r: -r[self.unit])

    def to_dict(self) -> dict:
        head = {k: v for k, v in asdict(self).items() if k not in ("ops", "whole_ticks")}
        return head | {
            "unit": self.unit,
            "ops": [asdict(op) for op in self.ops],
            "by_type": self.by_type(),
            "totals": self.totals(),
        }

    def save(self, build_dir: Path) -> Path:
        path = Path(build_dir) / PROFILE_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path


def report_ops(report: dict, build_dir: Path) -> list[dict]:
    """report.json's "ops" list, or an error saying to recompile a build made before it existed."""
    ops = report.get("ops")
    if not isinstance(ops, list):
        raise EdgexfError(
            f"{build_dir} was compiled by an edgexf without per-op profiling (its report.json has no "
            f'"ops" list): recompile it, e.g. with: {report.get("command", "edgexf compile MODEL ...")}'
        )
    return ops


def build_profile(build_dir: Path, emulate: bool) -> Path:
    """The profile build of DIR/model (host executable, or the ELF for QEMU), made when missing or
    older than any of its sources."""
    build_dir = Path(build_dir)
    report = read_report(build_dir)
    report_ops(report, build_dir)
    model_dir = build_dir / report["files"]["sources"]
    out = build_dir / PROFILE_DIR / ("emulator" if emulate else "host")
    target = out / ("app.elf" if emulate else "runner")
    if emulate and not report["files"].get("emulator_elf"):
        raise RunError(f"board {report['board']} has no emulator, so this build cannot be profiled in QEMU")
    if target.is_file() and target.stat().st_mtime_ns > _newest_source(model_dir):
        return target
    if emulate:
        board = load_board(report["board"])
        return build_firmware(board, model_dir, out, emulated=True, defines=(PROFILE_DEFINE,)).elf
    return build_host(model_dir, out, defines=(PROFILE_DEFINE,))


def profile_build(
    build_dir: Path, emulate: bool, inputs: np.ndarray | None = None, timeout: float = 600
) -> Profile:
    """Builds (when needed) and runs the profile build on `inputs` ((S, *input shape) floats; default:
    the first DEFAULT_SAMPLES test vectors), in QEMU or on the host; per-op figures in report order."""
    build_dir = Path(build_dir)
    report = read_report(build_dir)
    ops = report_ops(report, build_dir)
    exe = build_profile(build_dir, emulate)
    (inp,), (out,) = report["inputs"], report["outputs"]
    x = TestVectors.load(build_dir).x[:DEFAULT_SAMPLES] if inputs is None else inputs
    data = encode_inputs(x, inp).tobytes()
    per_tick = None
    if emulate:
        board = load_board(report["board"])
        result = run_qemu(board, exe, data, out["bytes"], timeout, profile_ops=len(ops))
        assert board.emulator is not None  # run_qemu checked
        per_tick = instructions_per_tick(board.emulator)
        where = f"QEMU {board.emulator.machine} ({board.name} firmware)"
    else:
        result = run_host(exe, data, out["bytes"], timeout, profile_ops=len(ops))
        where = "host (gcc build)"
    assert result.op_ticks is not None  # run_vectors read profile.bin
    medians = np.median(np.array(result.op_ticks, np.float64).reshape(len(x), len(ops)), axis=0)
    costs = medians * (per_tick or 1)
    total = float(costs.sum())
    rows = []
    for op, ticks, cost in zip(ops, medians.tolist(), costs.tolist(), strict=True):
        instructions = round(cost) if per_tick else None
        rows.append(
            OpProfile(
                op["index"], op["name"], op["type"], op["macs"], ticks, instructions,
                _ratio(op["macs"], instructions) if instructions is not None else None,
                cost / total if total else 0.0,
            )
        )  # fmt: skip
    whole = float(np.median(result.ticks))
    return Profile(report["model"], report["board"], emulate, where, len(x), per_tick, rows, whole)


def format_profile(profile: Profile, name_width: int = 32) -> str:
    """The per-op table, the per-type summary and the totals, as `edgexf run --profile` prints them."""
    unit = "instructions" if profile.emulated else "ns (host)"
    width = min(name_width, max([len("op"), *(len(op.name) for op in profile.ops)]))
    type_w = min(name_width, max([len("total"), *(len(op.type) for op in profile.ops)]))
    cost_w = max(len(unit), 12)

    def figures(macs: int | str, cost: float | str, ratio: float | None | str, share: float | str) -> str:
        if not isinstance(cost, str):  # a row of numbers, not the header
            macs, cost, ratio, share = f"{macs:,}", f"{round(cost):,}", _fmt_ratio(ratio), f"{share:.1%}"
        return f"{macs:>12} {cost:>{cost_w}} {ratio:>10} {share:>7}"

    lines = [
        f"{profile.model} ({profile.board}): per-op profile, {profile.where}, "
        f"median of {profile.samples} sample{'s' if profile.samples != 1 else ''}",
        f"{'#':>4}  {'op':<{width}}  {'type':<{type_w}} {figures('MACs', unit, 'MACs/instr', 'share')}",
    ]
    for op in profile.ops:
        cells = figures(op.macs, profile.cost(op), op.macs_per_instruction, op.share)
        name, kind = _shorten(op.name, width), _shorten(op.type, type_w)
        lines.append(f"{op.index:>4}  {name:<{width}}  {kind:<{type_w}} {cells}")
    lines += [
        "",
        "by op type:",
        f"{'type':<{type_w}} {'ops':>5} {figures('MACs', unit, 'MACs/instr', 'share')}",
    ]
    for row in profile.by_type():
        cells = figures(row["macs"], row[profile.unit], row.get("macs_per_instruction"), row["share"])
        lines.append(f"{_shorten(row['type'], type_w):<{type_w}} {row['count']:>5} {cells}")
    t = profile.totals()
    cells = figures(
        t["macs"], t[profile.unit], t.get("macs_per_instruction"), 1.0 if t[profile.unit] else 0.0
    )
    lines.append(f"{'total':<{type_w}} {t['ops']:>5} {cells}")
    whole = t[f"whole_run_{profile.unit}"]
    if profile.emulated:
        lines += [
            f"whole profiled run {round(whole):,} instructions (the hooks included; a normal build runs "
            "without them)",
            f"resolution: 1 tick = {profile.instructions_per_tick:.4g} instructions; each op's count "
            "includes its profiling hook (a few dozen instructions)",
        ]
    else:
        lines.append(
            f"whole profiled run {round(whole):,} ns; host figures are wall-clock ns of the gcc build, "
            "rough and not instruction counts"
        )
    return "\n".join(lines)


def _newest_source(model_dir: Path) -> int:
    fw = firmware_dir()
    sources = [*model_dir.iterdir(), fw / "app" / "runner.c", *(fw / "platform").iterdir()]
    sources += (fw / "startup").iterdir()
    return max(p.stat().st_mtime_ns for p in sources if p.is_file())


def _ratio(macs: int, cost: float) -> float | None:
    return macs / cost if cost else None


def _fmt_ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _num(v: float) -> str:
    return f"{round(v):,}"


def _shorten(text: str, width: int) -> str:
    """text in at most `width` characters, its middle elided: names differ at both ends (blocks_3_mlp_fc1)."""
    if len(text) <= width:
        return text
    head = (width - 3) // 2
    return text[:head] + "..." + text[len(text) - (width - 3 - head) :]

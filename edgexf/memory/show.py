"""Pictures of a memory plan: bytes live per op step, and where every buffer sits in the arena.

`timeline_text` is for a terminal (`edgexf compile --print-plan`): one line per op step with the arena
drawn across `width` columns; `write_plan_picture` writes the same as a PNG with matplotlib.
"""

from __future__ import annotations

import math
import string
from pathlib import Path

from edgexf.ir.graph import Graph
from edgexf.memory.lifetimes import Buffer
from edgexf.memory.plan import MemoryPlan

_POOL = string.ascii_lowercase + string.digits  # a buffer's character; letters drawn uppercase at birth
_COLORS = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)  # ANSI foreground codes, cycled


def _steps(plan: MemoryPlan, graph: Graph | None = None) -> int:
    return max([b.end for b in plan.buffers] + [len(graph.ops) if graph is not None else 0])


def live_bytes(plan: MemoryPlan, steps: int | None = None) -> list[int]:
    """Bytes live at each op step t: the sum of the sizes of the buffers with start <= t < end."""
    diff = [0] * ((steps if steps is not None else _steps(plan)) + 1)
    for b in plan.buffers:
        diff[min(b.start, len(diff) - 1)] += b.size
        diff[min(b.end, len(diff) - 1)] -= b.size
    live, run = [], 0
    for d in diff[:-1]:
        run += d
        live.append(run)
    return live


def buffer_chars(plan: MemoryPlan) -> dict[str, str]:
    """A character per buffer, distinct among buffers live at the same time (characters are reused
    round-robin once a buffer dies, so the legend's live interval tells same-letter buffers apart)."""
    chars: dict[str, str] = {}
    active: list[tuple[int, str]] = []  # (end, char)
    nxt = 0
    for b in sorted(plan.buffers, key=lambda b: (b.start, -b.size, b.name)):
        active = [(e, c) for e, c in active if e > b.start]
        used = {c for _, c in active}
        free = [_POOL[(nxt + k) % len(_POOL)] for k in range(len(_POOL))]
        c = next((c for c in free if c not in used), "#")
        nxt = _POOL.index(c) + 1 if c in _POOL else nxt
        chars[b.name] = c
        active.append((b.end, c))
    return chars


def _kib(n: int) -> str:
    return f"{n:,} B ({n / 1024:.1f} KiB)"


def _results(plan: MemoryPlan) -> dict[str, int]:
    """Each planner's arena in bytes, from `plan.results` when the plan carries one."""
    out = {}
    for name, r in (getattr(plan, "results", None) or {}).items():
        v = r.get("arena_bytes") if isinstance(r, dict) else r
        if isinstance(v, int | float):
            out[name] = int(v)
    return out


def _ruler(ncol: int, scale: int) -> str:
    row = [" "] * (ncol + 12)
    for c in sorted({0, ncol // 4, ncol // 2, 3 * ncol // 4, ncol}):
        label = f"|{c * scale / 1024:.1f}K" if c else "|0"
        if all(ch == " " for ch in row[c : c + len(label) + 1]):
            row[c : c + len(label)] = label
    return "".join(row).rstrip()


def timeline_text(
    plan: MemoryPlan, graph: Graph | None, width: int = 100, color: bool = False, legend: int = 24
) -> str:
    """One line per op step: step, op type, op name, KiB live, the arena as a bar of `width` columns
    (a buffer's character over its bytes: UPPERCASE where this step writes it, '.' free) and the
    buffers born there. A header gives the sizes and the scale; a legend the `legend` biggest buffers."""
    steps = _steps(plan, graph)
    live = live_bytes(plan, steps)
    peak = max(live, default=0)
    arena = plan.arena_bytes
    scale = max(1, math.ceil(arena / max(1, width)))  # bytes per column
    ncol = math.ceil(arena / scale)
    chars = buffer_chars(plan)
    owner = {t: b for b in plan.buffers for t in b.tensors}
    name = graph.name if graph is not None else "model"
    over = f", arena is {100 * (arena / plan.lower_bound_bytes - 1):+.1f}%" if plan.lower_bound_bytes else ""
    head = [
        f"memory plan of {name}: {len(plan.buffers)} buffers over {steps} op steps, planner {plan.planner}",
        f"  arena {_kib(arena)}; lower bound {_kib(plan.lower_bound_bytes)}{over}; "
        f"naive {_kib(plan.naive_bytes)}",
    ]
    if res := _results(plan):
        head.append(
            "  planners: " + ", ".join(f"{k} {v:,} B" for k, v in sorted(res.items(), key=lambda x: x[1]))
        )
    head.append(
        f"  scale: 1 column = {scale:,} bytes; a..z/0..9 = a live buffer, UPPERCASE = written by this step, "
        f"'.' = free;"
    )
    head.append(
        "  * = a peak step; notes: X=name a buffer this step writes, x~name a tensor stored in buffer x "
        "(a reshape, or written in place)"
    )
    pad = " " * 46
    ruler = pad + " " + _ruler(ncol, scale)

    def paint(c: str, born: bool) -> str:
        s = c.upper() if born else c
        if not color or c == ".":
            return s
        code = _COLORS[_POOL.index(c) % len(_COLORS)] if c in _POOL else 37
        return f"\x1b[{'1;' if born else ''}{code}m{s}\x1b[0m"

    by_offset = sorted(plan.buffers, key=lambda b: plan.offsets[b.name])
    lines = head + ["", ruler]
    for t in range(steps):
        if t and t % 50 == 0:
            lines.append(ruler)
        cells: list[Buffer | None] = [None] * ncol
        cover = [0] * ncol
        for b in by_offset:
            if not b.start <= t < b.end or b.size <= 0:
                continue
            lo = plan.offsets[b.name]
            hi = lo + b.size
            for c in range(lo // scale, min(ncol, math.ceil(hi / scale))):
                got = min(hi, (c + 1) * scale) - max(lo, c * scale)
                if got > cover[c]:
                    cells[c], cover[c] = b, got
        bar = "".join(paint(chars[b.name], b.start == t) if b else "." for b in cells)
        op = graph.ops[t] if graph is not None and t < len(graph.ops) else None
        notes = [f"{chars[b.name].upper()}={b.name}" for b in plan.buffers if b.start == t]
        if op is not None:
            notes += [f"{chars[owner[o].name]}~{o}" for o in op.outputs if o in owner and owner[o].name != o]
        mark = "*" if live[t] == peak and peak else " "
        lines.append(
            f"{t:>5} {op.type if op else '':<10.10} {op.name if op else '':<20.20} "
            f"{live[t] / 1024:>7.1f}{mark}|{bar}| {' '.join(notes)}".rstrip()
        )
    big = sorted(plan.buffers, key=lambda b: (-b.size, b.start, b.name))
    shown = min(legend, len(big))
    lines += [
        "",
        f"legend ({shown} biggest of {len(big)} buffers; a character is reused once its buffer dies):",
    ]
    for b in big[:legend]:
        t = graph.tensors.get(b.name) if graph is not None else None
        shape = f"{t.dtype}{list(t.shape)}" if t is not None else "(scratch)" if b.is_scratch else ""
        shape = f"(rest of {b.anchor[0]})" if b.anchor else shape
        off = plan.offsets[b.name]
        inner = getattr(b, "offset_in", lambda _: 0)
        also = [f"{v}" + (f"@+{inner(v)}" if inner(v) else "") for v in b.tensors[1:]]
        more = f", ... ({len(also) - 6} more)" if len(also) > 6 else ""
        views = f"  also holds: {', '.join(also[:6])}{more}" if also else ""
        where = f"[{off:,}, {off + b.size:,})"
        lines.append(
            f"  {chars[b.name]}: {b.name:<24.24} {shape:<24} {b.size:>10,} B  at {where:<22}"
            f" live [{b.start}, {b.end}){views}"
        )
    if len(big) > legend:
        lines.append(f"  ... {len(big) - legend} more buffers of {big[legend].size:,} B or less")
    return "\n".join(lines) + "\n"


def write_plan_picture(plan: MemoryPlan, graph: Graph | None, path: Path) -> Path:
    """A PNG: top, bytes live per op step against the arena and the lower bound; bottom, the arena
    layout with each buffer a rectangle over its live steps [start, end) and bytes [offset, +size)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    path = Path(path)
    steps = _steps(plan, graph)
    live = live_bytes(plan, steps)
    kib = 1 / 1024
    name = graph.name if graph is not None else "model"
    fig_w = min(40.0, max(10.0, 0.12 * steps))
    fig = Figure(figsize=(fig_w, 10), dpi=100)  # fixed axes: a layout engine would draw twice
    FigureCanvasAgg(fig)
    left, right = 0.8 / fig_w, 1 - 0.25 / fig_w
    top = fig.add_axes((left, 0.67, right - left, 0.26))
    bottom = fig.add_axes((left, 0.06, right - left, 0.46))
    fig.suptitle(
        f"{name}: arena {plan.arena_bytes * kib:.1f} KiB, lower bound "
        f"{plan.lower_bound_bytes * kib:.1f} KiB, naive {plan.naive_bytes * kib:.1f} KiB ({plan.planner})"
    )

    top.stairs([v * kib for v in live], range(steps + 1), color="tab:blue", fill=True, alpha=0.4)
    top.axhline(plan.arena_bytes * kib, color="tab:red", label=f"arena ({plan.planner})")
    top.axhline(plan.lower_bound_bytes * kib, color="black", ls="--", label="lower bound")
    for i, (k, v) in enumerate(sorted(_results(plan).items())):
        if k != plan.planner:
            top.axhline(v * kib, color=f"C{i + 2}", ls=":", label=k)
    top.set_xlim(0, max(steps, 1))
    top.set_ylabel("live KiB")
    top.set_title("bytes live at each op step")
    top.set_ylim(0, max(plan.arena_bytes, max(live, default=0), 1) * kib * 1.2)
    top.legend(loc="upper right", fontsize=8, ncols=3)
    every = max(1, math.ceil(steps / 80))
    ticks = list(range(0, steps, every))
    top.set_xticks([t + 0.5 for t in ticks])
    if graph is not None and len(graph.ops) >= steps:
        top.set_xticklabels([f"{t} {graph.ops[t].name[:24]}" for t in ticks], rotation=90, fontsize=6)
    else:
        top.set_xticklabels([str(t) for t in ticks], rotation=90, fontsize=6)

    rects, colors = [], []
    for i, b in enumerate(sorted(plan.buffers, key=lambda b: b.start)):
        rects.append(Rectangle((b.start, plan.offsets[b.name] * kib), b.end - b.start, b.size * kib))
        colors.append(f"C{i % 10}")
    bottom.add_collection(PatchCollection(rects, facecolors=colors, edgecolors="black", linewidths=0.3))
    bottom.set_xlim(0, max(steps, 1))
    bottom.set_ylim(0, max(plan.arena_bytes * kib, 1e-3))
    bottom.set_xlabel("op step")
    bottom.set_ylabel("arena offset (KiB)")
    bottom.set_title("arena layout: a buffer spans its live steps [start, end) and its bytes")
    # label the rectangles big enough to hold their name (~7 px a character at fontsize 7), upright if narrow
    w_px, h_px = fig.get_figwidth() * fig.dpi * 0.9, fig.get_figheight() * fig.dpi * 0.55
    labels = 0
    for b in sorted(plan.buffers, key=lambda b: -b.size * (b.end - b.start)):
        w, h = (b.end - b.start) * w_px / max(steps, 1), b.size * h_px / max(plan.arena_bytes, 1)
        text = 7 * len(b.name)
        rotation = 0 if w >= text and h >= 11 else 90 if h >= text and w >= 11 else None
        if rotation is None or labels >= 80:
            continue
        labels += 1
        x, y = (b.start + b.end) / 2, (plan.offsets[b.name] + b.size / 2) * kib
        bottom.text(x, y, b.name, ha="center", va="center", fontsize=7, rotation=rotation, clip_on=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path

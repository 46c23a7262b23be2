"""The README's speed tables from benchmarks/latency.py's JSON lines:

    python benchmarks/latency.py --models mnist,lmu_smnist,mamba_smnist,kws_lmu,kws_mamba > lat.jsonl
    python benchmarks/latency_table.py lat.jsonl

Prints the MNIST ViT per op type (float32, int8 portable, int8 DSP with int8 weights, int8 DSP as
compile picks) and the recurrent models per step, as Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROWS = (  # (label, op types: float, int8)
    ("token MLP (LN, fc1, GELU, fc2, add) x4", ("token_mlp", "q_token_mlp")),
    ("LN + linear (qkv x4; the head, its LayerNorm on the class token)", ("ln_linear", "q_ln_linear")),
    ("attention x4", ("attention", "q_attention")),
    ("linear (proj x4)", ("linear", "q_linear")),
    ("patch embedding", ("patch_embed", "q_patch_embed")),
    ("residual adds x4", ("add", "q_add")),
    ("LayerNorm not fused", ("layernorm", "q_layernorm")),  # none since slice_before_rows.py
)
VIT_COLUMNS = (("float32", None), ("int8", "portable"), ("int8", "dsp-int8"), ("int8", "dsp-int16"))
RECURRENT = (("lmu_smnist", "LMU, MNIST rows"), ("mamba_smnist", "Mamba, MNIST rows"),
             ("kws_lmu", "LMU, FSDD"), ("kws_mamba", "Mamba, FSDD"))  # fmt: skip


def _key(line: dict) -> tuple[str, str | None]:
    if line["dtype"] == "float32":
        return "float32", None
    return "int8", "portable" if line["kernels"] == "portable" else f"dsp-{line['dsp_weights']}"


def vit_table(lines: list[dict], model: str = "mnist") -> str:
    """The ViT's table, or "" when the file holds none of its builds (a recurrent-only run)."""
    builds = {_key(x): x for x in lines if x.get("model") == model and "by_type" in x}
    missing = [c for c in VIT_COLUMNS if c not in builds]
    if len(missing) == len(VIT_COLUMNS):
        return ""
    if missing:
        raise SystemExit(f"latency_table: {model} lacks the builds {missing}")
    cols = [builds[c] for c in VIT_COLUMNS]
    out = [
        "| op type | MACs | float32 | int8 portable | int8 dsp, int8 weights | int8 dsp (default) "
        "| MACs/instr |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, (f_type, q_type) in ROWS:
        cells, macs, last = [], 0, None
        for b in cols:
            t = next((r for r in b["by_type"] if r["type"] in (f_type, q_type)), None)
            cells.append(f"{t['instructions']:,}" if t else "")
            macs, last = (t["macs"], t) if t else (macs, last)
        if last is None:  # no build has this op type
            continue
        ratio = f"{last['macs'] / last['instructions']:.2f}" if last["macs"] else ""
        out.append(f"| {label} | {macs:,} | {' | '.join(cells)} | {ratio} |")
    whole = " | ".join(f"{b['instructions_per_inference']:,}" for b in cols)
    out.append(f"| whole model | {cols[0]['macs']:,} | {whole} | {cols[-1]['macs_per_instruction']:.2f} |")
    flash = " | ".join(f"{b['flash_bytes']:,} B" for b in cols)
    out.append(f"| flash | | {flash} | |")
    return "\n".join(out)


def recurrent_table(lines: list[dict]) -> str:
    out = [
        "| model | float32 | int8, portable kernels | int8, dsp (default) "
        "| int8 arena / flash (dsp, default) |",
        "|---|---|---|---|---|",
    ]
    for model, label in RECURRENT:
        builds = {_key(x): x for x in lines if x.get("model") == model and "by_type" in x}
        if not builds:
            continue
        f, p, d = builds[("float32", None)], builds[("int8", "portable")], _dsp(builds)
        per = [f"{round(b['instructions_per_step']):,}" for b in (f, p, d)]
        out.append(f"| {label} | {' | '.join(per)} | {d['arena_bytes']:,} B / {d['flash_bytes']:,} B |")
    return "\n".join(out)


def _dsp(builds: dict) -> dict:
    """The DSP build as compile picks it (int16 weights where they fit), else the int8-weight one."""
    return builds.get(("int8", "dsp-int16")) or builds[("int8", "dsp-int8")]


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("jsonl", type=Path, help="benchmarks/latency.py's output")
    args = parser.parse_args()
    lines = [json.loads(x) for x in args.jsonl.read_text().splitlines() if x.strip()]
    vit = vit_table(lines)
    if vit:
        print(vit, end="\n\n")
    print(recurrent_table(lines))


if __name__ == "__main__":
    main()

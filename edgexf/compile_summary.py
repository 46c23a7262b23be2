"""The summary `edgexf compile` prints: report.json's figures a user checks first, one line each."""

from __future__ import annotations

import textwrap

from edgexf.compress.layer_errors import format_layer_errors


def _fmt_bytes(n: int, capacity: int | None = None) -> str:
    s = f"{n:>10,} B"
    return s + (f" / {capacity:,} B ({n / capacity:.1%})" if capacity else "")


def print_report(r: dict) -> None:
    print(f"\n{r['model']} for {r['board']} (edgexf {r['edgexf_version']})")
    print(f"  parameters     {r['params']:>10,}")
    st = r.get("streaming")
    per = f" ({st['macs_per_step']:,} per step x {st['steps']} steps)" if st else ""
    print(f"  MACs           {r['macs']:>10,} per inference, {len(r['ops'])} ops{per}")
    placed = r.get("weights_placement") or {}
    ext = (
        f"; {placed['external_bytes']:,} B of it in '{placed['tier']}'"
        if placed.get("external_tensors")
        else ""
    )
    print(f"  weights        {_fmt_bytes(r['weights_bytes'])}  (const, flash{ext})")
    outside = (r.get("arena_placement") or {}).get("tier")  # --arena external: the arena's memory
    print(
        f"  arena          {_fmt_bytes(r['arena_bytes'])}  lower bound {r['arena_lower_bound_bytes']:,} B, "
        f"sum of activations {r['activations_sum_bytes']:,} B ({r['planner']})"
        + (f"; in '{outside}' (--arena external)" if outside else "")
    )
    if st:
        seq, step = st["sequence_input_bytes"], st["step_input_bytes"]
        print(
            f"  state          {_fmt_bytes(st['state_bytes'])}  ({len(st['states'])} tensors, persistent: "
            f"apart from the arena); input {seq:,} B per sequence, {step:,} B per step"
        )
    unrolled = r.get("unrolled")
    if unrolled:
        print(f"  sequence       all {unrolled['steps']} steps in one graph, unrolled: it does not stream")
    mem = r.get("memory")
    if mem:
        from edgexf.memory_techniques import format_techniques

        results = mem["planners"].items()
        planners = ", ".join(
            f"{k} {v['arena_bytes']:,} B" if "arena_bytes" in v else f"{k} skipped" for k, v in results
        )
        print(f"  planners       {planners}")
        print(format_techniques(mem["techniques"]))
    print(f"  flash          {_fmt_bytes(r['flash_bytes'], r['flash_capacity_bytes'])}")
    print(
        f"  RAM            {_fmt_bytes(r['ram_bytes'], r['ram_capacity_bytes'])}  "
        f"({'' if outside else 'arena + '}{'state + sequence + ' if st else ''}{r['stack_bytes']:,} B stack "
        "+ runtime)"
    )
    for tier in r.get("memory_tiers", [])[2:]:  # after the internal flash and RAM: the external memories
        used = _fmt_bytes(tier["used_bytes"], tier["size"])
        print(f"  {tier['name']:<14} {used}  ({tier['kind']} at {tier['origin']:#010x})")
    hc = r["host_check"]
    who = r.get("original") or "PyTorch"
    float_model = "the float PyTorch model" if who == "PyTorch" else who
    versus = f"{float_model} (dequantized)" if r.get("quantization") else who
    if hc.get("original_int8"):  # the same int8 file in its own runtime: not quantization error
        versus = f"{who} on the same int8 file"
        closeness = (
            f"{hc['identical_to_original']}/{hc['samples']} identical, at most {hc['max_lsb_vs_original']} "
            f"LSB apart, same class {hc['same_class_as_original']}/{hc['samples']}, cosine {hc['cosine']:.4f}"
        )
    elif (r.get("quantization") or r.get("approximation")) and "cosine" in hc:
        # an int8 or low-rank build is judged by class agreement and closeness, not by its worst logit
        closeness = (
            f"same class {hc['same_class_as_original']}/{hc['samples']}, cosine {hc['cosine']:.4f}, "
            f"RMSE {hc['rel_rmse']:.1%} of the signal"
        )
    else:
        closeness = f"worst relative error {hc['max_rel_err_vs_original']:.1e}"
    print(
        f"  host check     {hc['bit_exact_with_reference']}/{hc['samples']} bit-exact with the reference; "
        f"vs {versus}: {closeness}"
    )
    q = r.get("quantization")
    if q:
        f = r["float"]
        print(
            f"  quantized      {q['dtype']}: weights {f['weights_bytes']:,} -> {r['weights_bytes']:,} B, "
            f"arena {f['arena_bytes']:,} -> {r['arena_bytes']:,} B (float32 -> {q['dtype']})"
        )
        if hc.get("accuracy") is not None:
            print(
                f"  accuracy       {hc['accuracy']:.2%} {q['dtype']}, "
                f"{hc['original_accuracy']:.2%} {'float (PyTorch)' if who == 'PyTorch' else who}"
            )
        if q.get("layers") is not None:  # None: an int8 .tflite compiled without data
            print(f"  worst layers against the float model ({q['layer_error_samples']} calibration samples):")
            print(format_layer_errors(q["layers"], limit=5))
    low = r.get("lowrank")
    if low:
        cost = (low.get("agreement") or {}).get("top1_agreement")
        agree = f", top-1 agreement {cost:.1%} with the model as given" if cost is not None else ""
        print(
            f"  low-rank       {low['factorized']} layers factorized: linear weights "
            f"{low['params_before']:,} -> {low['params_after']:,}{agree}"
        )
    kern = r.get("kernels")
    if kern:
        print(f"  kernels        {kern['used']} ({kern['dsp_ops']} ops on DSP-extension kernels)")
        if kern.get("wide_ops"):
            print(
                f"  dsp weights    int16 for {kern['wide_ops']} ops (+{kern['wide_extra_bytes']:,} B flash; "
                "--dsp-weights int8 keeps them int8)"
            )
    print(f"  compiled in    {r['compile_seconds']} s")
    if unrolled:
        note = f"note: {unrolled['message']}"
        print(textwrap.fill(note, 110, initial_indent="  ", subsequent_indent="    "))

"""The int8 attention kernels (exf_attention_s8, exf_attention_s8_dsp in its plain-C form) against the
NumPy reference (edgexf/ir/kernels_q_attention.py) on the host: random shapes (odd t, every residue of
dh mod 4, one to four heads), zero points at the extremes, the whole range of both shifts, all-equal
scores, saturated outputs, and the tables the code generator makes. QEMU runs the fast kernel's real
instructions against the portable one in tests/firmware/test_kernels_dsp.py (kernel_check.c)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgexf.compress.attention_q import TABLE, attention_terms, exp_table
from edgexf.ir.kernels_q_attention import attention_s8
from edgexf.resources import firmware_dir

rng = np.random.default_rng(23)


def test_table_size_agrees_with_the_header():
    header = (firmware_dir() / "kernels" / "quant_attention.h").read_text()
    assert int(re.search(r"#define EXF_ATTENTION_TABLE (\d+)", header)[1]) == TABLE == len(exp_table(50)[0])


def reference(qkv, heads, *terms) -> np.ndarray:
    t, d3 = qkv.shape
    dh = d3 // (3 * heads)
    q, k, v = (np.swapaxes(qkv.reshape(t, 3, heads, dh)[:, i], 0, 1) for i in range(3))  # (heads, t, dh)
    return np.swapaxes(attention_s8(q, k, v, *terms), 0, 1).reshape(t, heads * dh)


def case(t, heads, dh, g, flat=False, table=None):
    qkv = g.integers(-128, 128, (t, 3 * heads * dh), dtype=np.int8)
    if flat:  # every key equal: every score of a row the same
        qkv.reshape(t, 3, heads * dh)[:, 1] = qkv.reshape(t, 3, heads * dh)[0, 1]
    if table is None:
        table = g.integers(0, 32768, TABLE).astype(np.int16)
        table[0] = max(1, table[0])
    zp = lambda: int(g.choice([-128, 127, g.integers(-128, 128)]))  # noqa: E731
    exp_rq = (int(g.integers(1, 2**31)), int(g.integers(33, 63)))
    av = (int(g.integers(2**29, 2**31)), int(g.integers(1, 43)), zp())
    return qkv, heads, table, zp(), zp(), zp(), exp_rq, av


@pytest.mark.parametrize("dsp", [False, True])
def test_random_shapes_match_the_reference(qk, dsp):
    g = np.random.default_rng(5)
    for n in range(120):
        t, dh = (n + 1, n % 9 + 1) if n < 20 else (int(g.integers(1, 65)), int(g.integers(1, 41)))
        heads = int(g.integers(1, 5))
        args = case(t, heads, dh, g, flat=n % 8 == 3)
        want = reference(args[0], *args[1:])
        got = qk.attention(*args, dsp=dsp)
        assert np.array_equal(got, want), (n, t, heads, dh)


def test_generated_tables_and_saturation(qk):
    """The code generator's table and multipliers (attention_terms) on the MNIST ViT's shape, then an
    output multiplier 2^8 times too large: saturated outputs, the same bytes."""
    g = np.random.default_rng(7)
    table, _ = exp_table(50)
    terms = attention_terms(50, 0.03 * 0.03 * 0.25, 0.03, 0.02)
    assert table[0] == 32767 and table[-1] == 0 and np.all(np.diff(table) <= 0)
    for av_shift in (terms["av"][1], terms["av"][1] - 8):
        qkv = g.integers(-128, 128, (50, 3 * 64), dtype=np.int8)
        args = (qkv, 4, table, 3, -5, 127, terms["exp"], (terms["av"][0], av_shift, -128))
        want = reference(*args)
        for dsp in (False, True):
            assert np.array_equal(qk.attention(*args, dsp=dsp), want)
    assert np.mean(np.abs(want.astype(int)) >= 127) > 0.3  # the second pass saturates


def test_weights_are_the_softmax():
    """Against float: with one-hot values (v_j - v_zp = 64 at channel j), output c is 64 p_c, so the
    int8 outputs show the weights e_c / S: the float softmax of the real scores to within 1/2 output
    step (1/128) plus the table's step (2.3% relative)."""
    t, dh, scale = 50, 16, 0.02 * 0.02 * 0.25
    g = np.random.default_rng(3)
    q, k = g.integers(-128, 128, (2, 1, t, dh))
    v = (64 * np.eye(t, dh, dtype=np.int64) - 64).astype(np.int8)[None]  # v_zp -64
    terms = attention_terms(t, scale, 1.0, 1.0)  # v_scale 1, out_scale 1: out = 64 p_c - 128
    y = attention_s8(q, k, v, exp_table(t)[0], 0, 0, -64, terms["exp"], (*terms["av"], -128))
    s = (q @ np.swapaxes(k, -1, -2)).astype(np.float64) * scale
    p = np.exp(s - s.max(-1, keepdims=True))
    p = (p / p.sum(-1, keepdims=True))[..., :dh]
    got = (y.astype(np.float64) + 128) / 64
    assert np.all(np.abs(got - p) <= 1 / 128 + 0.025 * p + 1e-9), np.abs(got - p).max()

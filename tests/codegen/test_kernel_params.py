"""Kernel parameter structs in the generated C (codegen/kernel_params.py): the designated initializer's
layout, and that an int8 model's kernel calls carry no bare numbers (each is a named struct field)."""

from __future__ import annotations

import re

import numpy as np
import torch

from edgexf.codegen.generate import generate_c
from edgexf.codegen.kernel_params import designated_initializer
from edgexf.compress.calibrate import calibrate
from edgexf.compress.quantize import quantize_graph
from edgexf.memory.plan import plan_memory
from edgexf.passes.select_kernels import select_kernels
from edgexf.passes.widen_weights import widen_weights
from tests.model_helpers import to_graph


def test_designated_initializer_names_every_field():
    fields = {
        "ln": {"gamma": "(const int32_t *)W_g", "beta": "(const int32_t *)W_b", "out_zp": -3},
        "res": {"a_zp": 1, "b_zp": 2},
        "table": "(const int8_t *)W_t",
        "shape": [1, 1, 5, 7],
        "rows": 50,
        "d": 64,
        "eps_term": "INT64_C(75)",
    }
    assert designated_initializer("exf_x_params_t", "op_params", fields) == (
        "static const exf_x_params_t op_params = {\n"
        "    .ln = {.gamma = (const int32_t *)W_g, .beta = (const int32_t *)W_b, .out_zp = -3},\n"
        "    .res = {.a_zp = 1, .b_zp = 2},\n"
        "    .table = (const int8_t *)W_t,\n"
        "    .shape = {1, 1, 5, 7},\n"
        "    .rows = 50, .d = 64, .eps_term = INT64_C(75),\n"
        "};"
    )


def test_long_fields_wrap_one_per_line_and_numbers_pack_to_the_width():
    ptrs = {f"p{i}": f"(const int32_t *)W_a_rather_long_constant_name_{i}" for i in range(3)}
    text = designated_initializer("t", "n", {"fc": ptrs, **{f"n{i}": 1000 + i for i in range(30)}})
    lines = text.splitlines()
    assert lines[1] == "    .fc = {" and lines[5] == "    },"
    assert lines[2] == "        .p0 = (const int32_t *)W_a_rather_long_constant_name_0,"
    assert all(len(line) <= 110 for line in lines)
    numbers = lines[6:-1]
    assert len(numbers) == 4 and all(line.startswith("    .n") and len(line) > 90 for line in numbers[:-1])


def test_int8_kernel_calls_pass_only_a_struct_and_buffers(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Linear(16, 7)).eval()
    g = to_graph(module, torch.randn(5, 24))
    x = np.random.default_rng(1).standard_normal((16, 5, 24)).astype(np.float32)
    q = quantize_graph(g, calibrate(g, x, "minmax", 99.99, progress=False), ()).graph
    for kernels, weights in (("portable", "int8"), ("dsp", "int8"), ("dsp", "int16")):
        sg = widen_weights(select_kernels(q, kernels, weights)[0])
        out = tmp_path / f"{kernels}_{weights}"
        generate_c(sg, plan_memory(sg), out, {"command": "test"})
        model_c = (out / "model.c").read_text()
        calls = re.findall(r"^\s+(exf_\w+_(?:s8|q)\w*)\((.*)\);$", model_c, flags=re.M)
        assert calls, model_c
        for fn, args in calls:
            first, *rest = [a.strip() for a in args.split(",")]
            assert re.fullmatch(r"&\w+_params", first), (fn, args)
            assert all(not re.fullmatch(r"-?\d+", a) for a in rest), (fn, args)  # no bare numbers
            name = first[1:]
            assert re.search(rf"^static const exf_\w+_params_t {name} = {{$", model_c, flags=re.M), name

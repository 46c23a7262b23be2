"""ONNX backend node tests through the whole compiler: each case's model becomes C, runs, and is compared.

    python -m edgexf.eval.onnx_conformance [--ops Add,Mul,...] [--jobs N] [--json] [--keep DIR]

prints a table per op (or JSON lines) and exits with 1 if any case failed.

The onnx package ships its node test cases as code (onnx.backend.test.case.node): a one-node model,
its inputs and expected outputs. For every case of the selected ops (OPS; a case that expands an ONNX
function into several nodes, `test_softmax_axis_0_expanded`, counts under its unexpanded case's op):

    onnx_to_graph -> fold_constants -> remove_dead_ops -> plan_memory -> generate_c
    -> gcc (the model plus firmware/app/io_harness.c) -> run: inputs on stdin, outputs on stdout

and each output is compared with the expected one. A case is
  passed       every output within tolerance. Float: |a - e| <= atol + rtol |e| both with the case's
               own rtol/atol (the ONNX backend runner's criterion: 1e-3 and 1e-7 for every node case)
               and with RTOL 1e-5 / ATOL 1e-6, since edgexf's float32 kernels have no reason to be
               looser than that (the largest error of a passing case is about 1e-6). Other dtypes: equal;
  unsupported  onnx_to_graph refused it (UnsupportedOpError or ModelLoadError: an op, attribute or
               dtype edgexf does not have), with the first line of its message;
  failed       anything else: a wrong output, a later stage refusing or crashing, gcc failing, the
               program failing. Each is a bug: in the frontend, the kernels, or a refusal that should
               have come earlier.

Some inputs become constants. The node tests feed every operand as a graph input, while exported
models carry shapes and axes (a Reshape's shape, a Slice's starts/ends/axes/steps, ...), convolution
weights, exponents (x ** 2), gather indices and where-masks as initializers; edgexf compiles static
shapes and keeps weights in flash. Those inputs (CONSTANT_INPUTS) are turned into initializers holding
the case's values before import, and each result lists them (`frozen`); every other input stays a
runtime input.

A frontend that wraps its own crash (a NameError, an IR op that does not exist) in ModelLoadError is
not refusing: such a case counts as failed, with the wrapped exception named.

Speed: collecting the cases takes about 7 s; then a case takes about 0.15 s of one core, mostly gcc
(0.08 s) and writing the C (0.03 s), so all 273 take about 25 s with 2 jobs on an idle 2-core machine.
The kernel library would add 0.9 s of gcc -O1 to every case: it is compiled once per run into a static
archive, and each case compiles only its model.c, weights.c and the harness (-O1) and links the
archive (the model directory's kernel files are copies of firmware/kernels/, checked to be identical).
Memory is planned without the exact (ILP) planner: the arena's size does not matter here.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import filecmp
import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from edgexf.codegen.generate import generate_c
from edgexf.codegen.kernel_version import copy_kernels
from edgexf.errors import EdgexfError, ModelLoadError, UnsupportedOpError
from edgexf.eval.onnx_conformance_summary import summary_rows, table
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.ir.graph import DTYPES, Graph
from edgexf.memory.plan import plan_memory
from edgexf.passes.fold_constants import fold_constants
from edgexf.passes.remove_dead_ops import remove_dead_ops
from edgexf.resources import firmware_dir
from edgexf.targets.toolchain import find_tool

OPS = (
    "MatMul Gemm Add Sub Mul Div Pow Sqrt Reciprocal ReduceMean LayerNormalization Softmax Erf Gelu Tanh "
    "Sigmoid Exp Log Softplus Relu Conv Reshape Transpose Concat Slice Split Gather Squeeze Unsqueeze "
    "Flatten Expand Where CumSum"
).split() + ["Neg", "ReduceSum", "Sum"]  # beyond the list of issue 8: what exported models also use
OPS += ["ReduceMax", "Max", "Pad", "IsNaN"]  # issue 21: what the default exporters write
OPS += ["ScatterND", "ScatterElements", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Equal"]

# op type -> positions of the inputs made initializers (see the docstring)
CONSTANT_INPUTS = {
    # shapes and axes: they fix output shapes, which edgexf needs at compile time
    "Reshape": (1,),
    "Slice": (1, 2, 3, 4),
    "Split": (1,),
    "Squeeze": (1,),
    "Unsqueeze": (1,),
    "ReduceMean": (1,),
    "ReduceSum": (1,),
    "ReduceMax": (1,),
    "Pad": (1, 2, 3),  # pads, constant_value, axes
    "Expand": (1,),
    "CumSum": (1,),
    # weights, exponents, indices and masks: parameters of the model in an exported file
    "Conv": (1, 2),
    "LayerNormalization": (1, 2),  # scale and bias
    "Pow": (1,),
    "Gather": (1,),
    "ScatterND": (1,),
    "ScatterElements": (1,),
    "Where": (0,),
}

RTOL, ATOL = 1e-5, 1e-6  # float outputs must also be this close (see the docstring)
CFLAGS = ["-std=c11", "-O1", "-ffp-contract=off", "-w"]  # -O1: a third of -O2's compile time
GCC_TIMEOUT_S, RUN_TIMEOUT_S = 120, 30
DEFAULT_JOBS = 2


@dataclass(frozen=True)
class Case:
    """One node test case, in a form that pickles cheaply to a worker process."""

    name: str
    op: str
    model: bytes  # the serialized ModelProto
    inputs: tuple[np.ndarray, ...]
    outputs: tuple[np.ndarray, ...]
    rtol: float
    atol: float


@dataclass
class CaseResult:
    name: str
    op: str
    status: str  # "passed", "failed" or "unsupported"
    reason: str = ""  # unsupported: the refusal's first line; failed: what went wrong
    frozen: list[str] = field(default_factory=list)  # inputs made constants (CONSTANT_INPUTS)
    max_abs_err: float | None = None  # over the float outputs
    seconds: float = 0.0


def select_cases(ops: list[str] | None = None) -> list[Case]:
    """The node test cases whose op is one of `ops` (default OPS), in the onnx package's order."""
    from onnx.backend.test.case import node  # makes all 1884 cases: about 7 s

    wanted = set(ops or OPS)
    with warnings.catch_warnings():  # some other ops' cases overflow on purpose while being made
        warnings.simplefilter("ignore")
        cases = node.collect_testcases(None)
    single = {c.name: c.model.graph.node[0].op_type for c in cases if len(c.model.graph.node) == 1}

    def as_array(a) -> np.ndarray:
        return numpy_helper.to_array(a) if isinstance(a, onnx.TensorProto) else np.asarray(a)

    selected = []
    for c in cases:
        # an expanded function body (..._expanded, ..._expanded_ver18) counts under its case's op
        op = single.get(c.name) or single.get(re.sub(r"_expanded(_ver\d+)?$", "", c.name))
        if op not in wanted:
            continue
        (inputs, outputs), *more = c.data_sets
        if more:  # no node case has two today; each would need its own build for its constants
            raise NotImplementedError(f"{c.name} has {1 + len(more)} data sets")
        selected.append(
            Case(
                c.name,
                op,
                c.model.SerializeToString(),
                tuple(map(as_array, inputs)),
                tuple(map(as_array, outputs)),
                c.rtol,
                c.atol,
            )
        )
    return selected


def freeze_shape_inputs(
    model: onnx.ModelProto, inputs: tuple[np.ndarray, ...]
) -> tuple[onnx.ModelProto, list[np.ndarray], list[str]]:
    """(model with CONSTANT_INPUTS made initializers, the remaining inputs' arrays, the frozen names).
    An input is frozen only when every node that reads it reads it at such a position."""
    graph = model.graph
    initialized = {t.name for t in graph.initializer}
    runtime = [vi for vi in graph.input if vi.name not in initialized]
    uses: dict[str, list[bool]] = {vi.name: [] for vi in runtime}
    for n in graph.node:
        for pos, name in enumerate(n.input):
            if name in uses:
                uses[name].append(pos in CONSTANT_INPUTS.get(n.op_type, ()))
    frozen = [vi.name for vi in runtime if uses[vi.name] and all(uses[vi.name])]
    kept = []
    for vi, value in zip(runtime, inputs, strict=True):
        if vi.name in frozen:
            graph.initializer.append(numpy_helper.from_array(value, vi.name))
        else:
            kept.append(value)
    for name in frozen:
        graph.input.remove(next(vi for vi in graph.input if vi.name == name))
    return model, kept, frozen


def build_kernel_archive(out_dir: Path) -> Path:
    """firmware/kernels/*.c compiled once (CFLAGS) into out_dir/libedgexf_kernels.a, from out_dir/src/:
    the copies a model folder gets (edgexf_kernels.h stamped with their version)."""
    kernels = out_dir / "src"
    kernels.mkdir(parents=True, exist_ok=True)
    copy_kernels(kernels)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = sorted(kernels.glob("*.c"))
    _check_run([find_tool("gcc"), *CFLAGS, f"-I{kernels}", "-c", *sources], "compiling the kernels", out_dir)
    archive = out_dir / "libedgexf_kernels.a"
    _check_run(["ar", "rcs", archive, *(out_dir / f"{s.stem}.o" for s in sources)], "ar", out_dir)
    return archive


def _check_run(cmd: list, what: str, cwd: Path | None = None) -> None:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=GCC_TIMEOUT_S)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{r.stderr[-2000:]}")


def run_case(case: Case, work: Path, archive: Path) -> CaseResult:
    """Compile and run one case in `work` (a fresh directory); never raises for the case's own errors."""
    t0 = time.perf_counter()
    try:
        result = _run_case(case, work, archive)
    except Exception as e:  # the comparison itself broke: still one case's result, not the run's end
        result = CaseResult(
            case.name, case.op, "failed", f"checking it: {type(e).__name__}: {_first_line(e)}"
        )
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def _run_case(case: Case, work: Path, archive: Path) -> CaseResult:
    model, inputs, frozen = freeze_shape_inputs(onnx.load_from_string(case.model), case.inputs)

    def failed(reason: str) -> CaseResult:
        return CaseResult(case.name, case.op, "failed", reason, frozen)

    try:
        g = onnx_to_graph(model, name="model")
    except (UnsupportedOpError, ModelLoadError) as e:
        crash = e.__cause__ or e.__context__
        if crash is not None and not isinstance(crash, EdgexfError | onnx.checker.ValidationError):
            return failed(f"onnx_to_graph crashed ({type(crash).__name__}), reported as: {_first_line(e)}")
        return CaseResult(case.name, case.op, "unsupported", _first_line(e), frozen)
    except Exception as e:  # a crash in the frontend is a bug, not a refusal
        return failed(f"onnx_to_graph crashed: {type(e).__name__}: {_first_line(e)}")
    stage = "passes"
    try:
        g = remove_dead_ops(fold_constants(g))
        stage = "plan_memory"
        plan = plan_memory(g, exact_time_s=0)
        stage = "generate_c"
        src = generate_c(g, plan, work / "model", {"command": f"onnx_conformance {case.name}"})
        stage = "gcc"
        for f in src.files:  # the archive holds firmware/kernels/: the model's copies must be the same
            lib = archive.parent / "src" / f.name
            if lib.exists() and not filecmp.cmp(f, lib, shallow=False):
                return failed(f"{f.name} differs from firmware/kernels/{f.name}")
        exe = work / "model.exe"
        sources = [src.dir / "model.c", src.dir / "weights.c", firmware_dir() / "app" / "io_harness.c"]
        _check_run([find_tool("gcc"), *CFLAGS, f"-I{src.dir}", *sources, archive, "-lm", "-o", exe], "gcc")
    except Exception as e:
        return failed(f"{stage}: {type(e).__name__}: {_first_line(e)}")

    if len(g.inputs) != len(inputs) or len(g.outputs) != len(case.outputs):
        return failed(
            f"graph has {len(g.inputs)} inputs, {len(g.outputs)} outputs; the case "
            f"{len(inputs)} (not frozen), {len(case.outputs)}"
        )
    feed = b""
    for name, value in zip(g.inputs, inputs, strict=True):
        t = g.tensors[name]
        if t.numel != value.size:
            return failed(f"input {name!r} is {list(t.shape)} in the graph, {list(value.shape)} in the case")
        feed += np.ascontiguousarray(value, DTYPES[t.dtype]).tobytes()
    try:
        proc = subprocess.run([str(exe)], input=feed, capture_output=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return failed(f"the program did not finish in {RUN_TIMEOUT_S} s")
    if proc.returncode != 0:
        return failed(
            f"the program exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[:500]}"
        )
    out_bytes = sum(g.tensors[n].nbytes for n in g.outputs)
    if len(proc.stdout) != out_bytes:
        return failed(f"the program wrote {len(proc.stdout)} bytes, not the outputs' {out_bytes}")
    return _compare(case, g, proc.stdout, frozen)


def _compare(case: Case, g: Graph, out: bytes, frozen: list[str]) -> CaseResult:
    offset, worst, problems = 0, 0.0, []
    for name, expected in zip(g.outputs, case.outputs, strict=True):
        t = g.tensors[name]
        if t.numel != expected.size:
            problems.append(f"output {name!r} is {list(t.shape)}, expected {list(expected.shape)}")
            break
        actual = np.frombuffer(out, DTYPES[t.dtype], t.numel, offset).reshape(expected.shape)
        offset += t.nbytes
        if np.issubdtype(expected.dtype, np.floating):
            a, e = actual.astype(np.float64), expected.astype(np.float64)
            err = np.abs(a - e)
            tol = np.minimum(case.atol + case.rtol * np.abs(e), ATOL + RTOL * np.abs(e))
            bad = ~(err <= tol) & ~((a == e) | (np.isnan(a) & np.isnan(e)))  # equal infinities: err is nan
            finite = err[np.isfinite(err)]
            worst = max(worst, float(finite.max()) if finite.size else 0.0)
            if bad.any():
                i = tuple(int(k) for k in np.argwhere(bad)[0])
                problems.append(
                    f"output {name!r}: {int(bad.sum())}/{bad.size} values off, e.g. at {list(i)} "
                    f"{a[i]:.7g} for {e[i]:.7g}; max abs err {float(np.nanmax(err)):.3g}"
                )
        elif not np.array_equal(actual, expected):  # compared by value: int32 1 equals int64 1
            problems.append(f"output {name!r} ({t.dtype}): {int((actual != expected).sum())} values differ")
    if problems:
        return CaseResult(case.name, case.op, "failed", "; ".join(problems), frozen, worst)
    return CaseResult(case.name, case.op, "passed", "", frozen, worst)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0]


def _worker(args: tuple[Case, Path, Path]) -> CaseResult:
    case, work, archive = args
    work.mkdir(parents=True, exist_ok=True)
    return run_case(case, work, archive)


def run_conformance(
    ops: list[str] | None = None, jobs: int = DEFAULT_JOBS, keep: Path | None = None, progress: bool = True
) -> list[CaseResult]:
    """Every selected case's result, in the cases' order. keep: a directory to leave the builds in."""
    from tqdm import tqdm

    cases = select_cases(ops)
    with tempfile.TemporaryDirectory(prefix="edgexf_onnx_conf_") as tmp:
        root = Path(keep or tmp)
        archive = build_kernel_archive(root / "kernels")
        tasks = [(c, root / "cases" / c.name, archive) for c in cases]
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(
                tqdm(pool.map(_worker, tasks), total=len(tasks), desc="onnx node cases", disable=not progress)
            )
    return results


def summarize(results: list[CaseResult], seconds: float | None = None, jobs: int | None = None) -> list[dict]:
    """One dict per op (in OPS order) and a total (onnx_conformance_summary.summary_rows)."""
    return summary_rows(results, OPS, seconds, jobs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", help=f"comma-separated ONNX op types (default: all {len(OPS)} of OPS)")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="cases compiled and run in parallel")
    p.add_argument("--json", action="store_true", help="one JSON line per op and a total line, instead")
    p.add_argument("--keep", type=Path, help="leave every case's build in this directory")
    p.add_argument("--cases", action="store_true", help="also list every case's status (table mode)")
    args = p.parse_args(argv)
    ops = args.ops.split(",") if args.ops else None
    unknown = sorted(set(ops or ()) - set(OPS))
    if unknown:
        p.error(f"not among the conformance ops: {', '.join(unknown)}")
    t0 = time.perf_counter()
    results = run_conformance(ops, args.jobs, args.keep, progress=sys.stderr.isatty() or not args.json)
    rows = summarize(results, round(time.perf_counter() - t0, 1), args.jobs)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(table(rows))
        if args.cases:
            for r in results:
                print(json.dumps(asdict(r)))
        print(f"\n{rows[-1]['cases']} cases in {rows[-1]['seconds']} s with {args.jobs} jobs")
    return 1 if rows[-1]["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

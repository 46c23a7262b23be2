"""ONNX step models: an export of a recurrent model's step function becomes a streaming Graph.

    torch.onnx.export(StepModule(model), (x_t, *state), "step.onnx", input_names=["x", "h"],
                      output_names=["y", "h_next"])     # inputs (x_t, *state), outputs (y_t, *next state)

Any ONNX model with more than one input is taken as one: one step input x_t, the rest states, each
paired with the output that holds its next value. The pairs are found, in this order:
  1. given: `pairs` (--state IN=OUT, repeatable), every state named;
  2. by name: each state input S has exactly one output named S plus a suffix (S_out, S_next, S_new,
     S.out, S_1) or with "past" written "present" (HuggingFace's past_key -> present_key); the input and
     the output left over are x_t and y_t;
  3. by order: inputs (x_t, s_1, ..., s_n), outputs (y_t, s_1', ..., s_n'), as step(x_t, *state) returns
     them; used only where no name says otherwise (a name pointing at another position is ambiguous).
A state and its next value must have the same shape; both are float32. The generated C keeps the states
in the persistent region and edgexf_reset() zeroes them, so the model must start from zero state.
`steps` is one sample's sequence length (--steps; else taken from the test data's sequences): the
whole-sequence run resets and runs that many steps, as for a PyTorch step() (frontends/streaming.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnx

from edgexf.datasets import load_npz
from edgexf.errors import ModelLoadError
from edgexf.frontends.streaming import as_streaming
from edgexf.ir.graph import Graph

SUFFIXES = ("_out", "_next", "_new", ".out", "_1")


@dataclass(frozen=True)
class StepOptions:
    """How an ONNX step model streams: --steps and --state, and the test data's shape to take steps from."""

    steps: int | None = None
    pairs: tuple[tuple[str, str], ...] = ()  # (state input, next-state output) by ONNX name
    data_shape: tuple[int, ...] | None = None  # --test-data's x: its sequences' length when steps is None

    @property
    def given(self) -> bool:
        return self.steps is not None or bool(self.pairs)

    def with_data(self, test_data: Path | None) -> StepOptions:
        """These options with the shape of test_data's x (an .npz), read when steps is not given."""
        if test_data is None or self.steps is not None:
            return self
        return replace(self, data_shape=tuple(load_npz(test_data)[0].shape))


@dataclass(frozen=True)
class StepIO:
    """A step model's ONNX names: the step input, the step output, (state input, next state) pairs."""

    x: str
    y: str
    pairs: tuple[tuple[str, str], ...]


def parse_state_pairs(specs: list[str] | None) -> tuple[tuple[str, str], ...]:
    """--state values: 'IN=OUT', an ONNX input and the output holding its next value."""
    pairs = []
    for spec in specs or []:
        state, _, nxt = spec.partition("=")
        if not state.strip() or not nxt.strip():
            raise ModelLoadError(
                f"--state {spec!r}: expected IN=OUT (a state input and the output holding its next value)"
            )
        pairs.append((state.strip(), nxt.strip()))
    return tuple(pairs)


def pair_states(inputs: list[str], outputs: list[str], given=()) -> tuple[str, str, list[tuple[str, str]]]:
    """(x_t input, y_t output, [(state input, next-state output), ...]) by ONNX name; see the module doc."""
    if len(outputs) != len(inputs):
        raise ModelLoadError(
            f"a model with {len(inputs)} inputs is read as a step model, inputs (x_t, *state) and outputs "
            f"(y_t, *next_state), so it needs {len(inputs)} outputs, not {len(outputs)}: inputs {inputs}, "
            f"outputs {outputs}"
        )
    pairs = list(given) if given else _by_name(inputs, outputs) or _by_order(inputs, outputs)
    for s, n in pairs:
        if s not in inputs or n not in outputs:
            raise ModelLoadError(f"--state {s}={n}: the model's inputs are {inputs}, its outputs {outputs}")
    rest_in = [i for i in inputs if i not in {s for s, _ in pairs}]
    rest_out = [o for o in outputs if o not in {n for _, n in pairs}]
    if len(rest_in) != 1 or len(rest_out) != 1 or len({n for _, n in pairs}) != len(pairs):
        raise ModelLoadError(
            f"--state must pair every input but one (x_t) with a distinct output, leaving one output (y_t): "
            f"given {['='.join(p) for p in pairs]}, inputs {inputs}, outputs {outputs}"
        )
    return rest_in[0], rest_out[0], pairs


def _named_next(state: str, outputs: list[str]) -> list[str]:
    names = {state + s for s in SUFFIXES} | ({state.replace("past", "present")} - {state})
    return [o for o in outputs if o in names]


def _by_name(inputs: list[str], outputs: list[str]) -> list[tuple[str, str]] | None:
    """Every input but one paired by name, each with one output; None when names do not pair them all."""
    found = {i: _named_next(i, outputs) for i in inputs}
    many = {i: o for i, o in found.items() if len(o) > 1}
    if many:
        i, o = next(iter(many.items()))
        raise ModelLoadError(
            f"state input {i!r} could pair with outputs {o} by name: ambiguous; give --state {i}=OUTPUT"
        )
    pairs = [(i, o[0]) for i, o in found.items() if o]
    return pairs if len(pairs) == len(inputs) - 1 else None


def _by_order(inputs: list[str], outputs: list[str]) -> list[tuple[str, str]]:
    pairs = list(zip(inputs[1:], outputs[1:], strict=True))
    for state, nxt in pairs:  # a name that points elsewhere: the order may not be what the user meant
        named = _named_next(state, outputs)
        if named and named[0] != nxt:
            raise ModelLoadError(
                f"state input {state!r} pairs by order with output {nxt!r} but by name with {named[0]!r}: "
                f"ambiguous; give every pair with --state IN=OUT (inputs {inputs}, outputs {outputs})"
            )
    return pairs


def as_step_graph(graph: Graph, model: onnx.ModelProto, opts: StepOptions) -> tuple[Graph, StepIO]:
    """The converted graph (inputs and outputs in the ONNX model's order) as a streaming Graph: x_t and
    y_t first, then the states in pair order; and the ONNX names, to run the model as it is."""
    inits = {i.name for i in model.graph.initializer}
    onnx_in = [vi.name for vi in model.graph.input if vi.name not in inits]
    onnx_out = [o.name for o in model.graph.output]
    x, y, pairs = pair_states(onnx_in, onnx_out, opts.pairs)
    ir_in = dict(zip(onnx_in, graph.inputs, strict=True))  # the builder may have made names C-safe
    ir_out = dict(zip(onnx_out, graph.outputs, strict=True))
    for state, nxt in pairs:
        a, b = graph.tensors[ir_in[state]], graph.tensors[ir_out[nxt]]
        if a.shape != b.shape:
            raise ModelLoadError(
                f"state input {state!r} {list(a.shape)} pairs with output {nxt!r} {list(b.shape)}: a state "
                f"and its next value must have one shape (pairs: {[f'{s}={n}' for s, n in pairs]}; give "
                "others with --state IN=OUT)"
            )
    g = graph.copy()
    g.inputs = [ir_in[x], *(ir_in[s] for s, _ in pairs)]
    g.outputs = [ir_out[y], *(ir_out[n] for _, n in pairs)]
    steps = opts.steps or _steps_of(opts.data_shape, graph.tensors[ir_in[x]].shape, x)
    return as_streaming(g, len(pairs), steps), StepIO(x, y, tuple(pairs))


def _steps_of(data_shape: tuple[int, ...] | None, step: tuple[int, ...], name: str) -> int:
    """The sequence length of test data x holding sequences of steps shaped `step` (as Graph.io_shape
    lays them out: (..., T, *step[1:]) for a batch-1 step, (..., T, *step) otherwise)."""
    tail = step[1:] if step[:1] == (1,) else step
    if data_shape is not None and len(data_shape) > len(tail):
        if tuple(data_shape[len(data_shape) - len(tail) :]) == tuple(tail):
            return int(data_shape[len(data_shape) - len(tail) - 1])
    seen = f"; the test data's x is {list(data_shape)}" if data_shape is not None else ""
    raise ModelLoadError(
        f"a step model needs its sequence length: give --steps T (edgexf_run() resets the state and runs T "
        f"steps of {name!r} {list(step)}), or --test-data with x of sequences (..., T, "
        f"{', '.join(map(str, tail))}){seen}"
    )


def step_original(session, io: StepIO, graph: Graph):
    """The ONNX step model run over whole sequences from zero state by `session` (outputs, feeds) ->
    values: (B, ..., T, *step) -> the last step's y_t, (B, *y shape); T from the data, any length."""
    step = graph.tensors[graph.inputs[0]].shape
    zeros = {
        s: np.zeros(graph.tensors[g].shape, np.float32) for (s, _), (g, _) in zip(io.pairs, graph.states)
    }
    wanted = [io.y, *(n for _, n in io.pairs)]

    def run(x: np.ndarray) -> np.ndarray:
        xs = np.ascontiguousarray(x, np.float32).reshape(len(x), -1, *step)  # (B, T, *step)
        outs = []
        for seq in xs:
            state, y = dict(zeros), None
            for x_t in seq:
                y, *nxt = session(wanted, {io.x: x_t, **state})
                state = {s: v for (s, _), v in zip(io.pairs, nxt, strict=True)}
            outs.append(y)
        return np.stack(outs)

    return run


def step_example(graph: Graph) -> np.ndarray:
    """A random sequence of graph.steps steps, as Graph.io_shape lays it out (one sample)."""
    shape = graph.io_shape(graph.inputs[0])
    return np.random.default_rng(0).standard_normal(math.prod(shape)).astype(np.float32).reshape(shape)

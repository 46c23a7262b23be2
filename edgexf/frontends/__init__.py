"""Frontends: a user's model file becomes an IR Graph, plus the original model to compare against."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from edgexf.errors import ModelLoadError
from edgexf.frontends.streaming import (
    as_streaming,
    export_step,
    is_streaming,
    state_names,
    whole_sequence,
)
from edgexf.ir.graph import Graph


@dataclass
class LoadedModel:
    graph: Graph
    original: Callable[[np.ndarray], np.ndarray]  # the source model on a batch: (B, ...) -> (B, ...)
    example_input: np.ndarray  # as exported (batch 1)
    source: str
    # a pre-quantized model (int8 .tflite): the file's own parameters (edgexf/compress/fixed_qparams.py)
    quant: object | None = None
    runtime: str = "PyTorch"  # what runs `original`, as messages name it: onnxruntime, tflite-micro


def load_model(
    spec: str | Path,
    name: str | None = None,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    step=None,
) -> LoadedModel:
    """spec: a torch.export program (.pt2), FILE.py:FUNCTION returning (nn.Module, example_input), or an
    ONNX model (.onnx; input_shapes fixes its symbolic input dimensions; step, an
    onnx_streaming.StepOptions, says how a step model's states pair and how long its sequences are)."""
    spec = str(spec)
    if step is not None and step.given and not spec.endswith(".onnx"):
        raise ModelLoadError(
            "--steps and --state apply to ONNX step models; a PyTorch model's sequence length is that of its "
            "example input, and its states are step()'s arguments"
        )
    if ".py:" in spec:
        path, func = spec.rsplit(":", 1)
        module, example = call_builder(Path(path), func)
        if is_streaming(module):
            return _streaming(module, example, name or Path(path).stem, spec)
        ep = _export(module, example, spec)
        default_name = Path(path).stem
    else:
        path = Path(spec)
        if not path.exists():
            raise ModelLoadError(f"model file {spec} does not exist")
        if path.suffix == ".onnx":
            from edgexf.frontends.onnx_import import load_onnx

            return load_onnx(path, name, input_shapes, step)
        if path.suffix == ".tflite":  # float32 or full-integer int8 (edgexf/frontends/tflite_import.py)
            from edgexf.frontends.tflite_import import load_tflite

            return load_tflite(path, name)
        if path.suffix != ".pt2":
            raise ModelLoadError(
                f"{path.name}: unknown model format {path.suffix!r}; give a torch.export program "
                "(.pt2) or FILE.py:FUNCTION returning (module, example_input)"
            )
        export_log = logging.getLogger("torch.export")
        level = export_log.level
        export_log.setLevel(logging.ERROR)  # its warning prints a traceback of its own before ours
        try:
            ep = torch.export.load(str(path))
        except Exception as e:  # torch raises many types for a bad archive
            raise ModelLoadError(
                f"{path}: not a readable torch.export program (.pt2): {type(e).__name__}: {e}"
            ) from e
        finally:
            export_log.setLevel(level)
        default_name = path.stem
    return from_program(ep, name or default_name, spec)


def call_builder(path: Path, func: str):
    """Import the user's file and call FUNCTION. Whatever their code raises (a syntax error, a missing
    import, an exception in the function) is a ModelLoadError naming the file, the function and their
    exception, with the lines of their file it went through; edgexf's own frames are not shown."""
    if not path.is_file():
        raise ModelLoadError(f"{path} does not exist (expected FILE.py:FUNCTION)")
    mod_name = f"_edgexf_user_{path.stem}"
    loader = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(loader)
    sys.modules[mod_name] = module
    try:
        loader.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(mod_name, None)
        raise ModelLoadError(f"importing {path} failed: {_user_error(e, path)}") from None
    fn = getattr(module, func, None)
    if fn is None:
        found = sorted(k for k, v in vars(module).items() if getattr(v, "__module__", "") == mod_name)
        raise ModelLoadError(f"{path} has no function {func!r} (it has: {', '.join(found) or 'none'})")
    if not callable(fn):
        raise ModelLoadError(f"{path}: {func!r} is not a function ({type(fn).__name__})")
    try:
        result = fn()
    except Exception as e:
        raise ModelLoadError(f"{path}:{func}() raised {_user_error(e, path)}") from None
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], torch.nn.Module)):
        raise ModelLoadError(
            f"{path}:{func} must return (nn.Module, example_input), got {type(result).__name__}"
        )
    return result


def _user_error(error: Exception, path: Path) -> str:
    """'ValueError: message' and the frames of the user's file it passed through, innermost last."""
    import traceback

    text = f"{type(error).__name__}: {error}"
    mine = path.resolve()
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == mine]
    for f in frames[-5:]:
        text += f"\n  {path.name}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
    return text


def _export(module: torch.nn.Module, example, spec: str):
    args = tuple(example) if isinstance(example, (tuple, list)) else (example,)
    try:
        return torch.export.export(module.eval(), args)
    except Exception as e:
        raise ModelLoadError(f"torch.export failed on {spec}: {type(e).__name__}: {e}") from e


def _streaming(module: torch.nn.Module, example, name: str, spec: str) -> LoadedModel:
    """A recurrent model: its step() becomes the graph, its forward() the original to compare with."""
    from edgexf.frontends.torch_export import from_exported_program

    ep, n_states, steps = export_step(module, example, spec)
    graph = as_streaming(from_exported_program(ep, name), n_states, steps, state_names(module, n_states))
    example = example[0] if isinstance(example, (tuple, list)) else example
    original = whole_sequence(module.eval(), tuple(example.shape[1:]), graph.tensors[graph.outputs[0]].shape)
    return LoadedModel(graph, original, example[0].detach().numpy(), spec)


def from_program(ep, name: str, spec: str) -> LoadedModel:
    from edgexf.frontends.torch_export import from_exported_program

    graph = from_exported_program(ep, name)
    user_inputs = [s for s in ep.graph_signature.input_specs if s.kind.name == "USER_INPUT"]
    if len(user_inputs) != 1:
        raise ModelLoadError(
            f"{spec}: models with {len(user_inputs)} inputs are not supported yet (one input)"
        )
    module = ep.module()
    example = ep.example_inputs[0][0] if getattr(ep, "example_inputs", None) else None
    shape = graph.tensors[graph.inputs[0]].shape
    example = example.detach().numpy() if example is not None else np.zeros(shape, np.float32)

    def original(x: np.ndarray) -> np.ndarray:
        """Run the exported model sample by sample (its shapes are static, batch as exported)."""
        with torch.no_grad():
            outs = [
                module(torch.from_numpy(np.ascontiguousarray(s, dtype=np.float32)))
                for s in x.reshape((-1,) + shape)
            ]
        outs = [o[0] if isinstance(o, (tuple, list)) else o for o in outs]
        return np.stack([o.numpy() for o in outs])

    return LoadedModel(graph, original, example, spec)

"""What a graph-to-graph change costs, measured on data: a changed float graph against the original.

For changes made without retraining (low-rank decomposition of an imported model, edgexf.passes.
lowrank_linear): both graphs run in the NumPy reference over the samples (calibration data will do;
labels are optional) and the outputs are compared as a classifier's user would: how often the top-1
class is the same, accuracy of each if labels are given, and the relative L2 error of the outputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from edgexf.compress.calibrate import BATCH, batches
from edgexf.errors import DataError
from edgexf.ir.graph import Graph
from edgexf.ir.reference import run_reference


@dataclass(frozen=True)
class Agreement:
    samples: int
    top1_agreement: float  # share of samples whose argmax is the same in both graphs
    relative_l2: float  # ||changed - original|| / ||original|| over all outputs
    accuracy_original: float | None  # top-1 against the labels, when given
    accuracy_changed: float | None

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        text = f"top-1 agreement {self.top1_agreement:.2%} on {self.samples} samples"
        text += f", relative L2 error {self.relative_l2:.3g}"
        if self.accuracy_original is not None:
            text += f"; accuracy {self.accuracy_original:.2%} -> {self.accuracy_changed:.2%}"
        return text


def agreement(
    original: Graph, changed: Graph, x: np.ndarray, y: np.ndarray | None = None, progress: bool = True
) -> Agreement:
    """Compare the two graphs' first outputs on x (S, *input shape; a leading batch axis of 1 in the
    input shape may be left out). y: (S,) class labels, optional.

    O(S) reference runs of both graphs, in batches of 64: a few seconds for a small ViT on 500 samples.
    """
    shape = original.io_shape(original.inputs[0])
    if changed.io_shape(changed.inputs[0]) != shape:
        raise DataError("the two graphs take inputs of different shapes; they cannot be compared")
    x = np.asarray(x, np.float32)
    if len(x) == 0:
        raise DataError("no samples to compare the graphs on")
    if x.shape[1:] != shape:
        if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
            raise DataError(f"samples of shape {list(x.shape[1:])} do not fit the input {list(shape)}")
        x = x.reshape((len(x),) + shape)
    if y is not None and len(y) != len(x):
        raise DataError(f"{len(x)} samples but {len(y)} labels")
    top_o, top_c, err, norm = [], [], 0.0, 0.0
    bar = tqdm(batches(x), total=-(-len(x) // BATCH), desc="comparing", disable=not progress, leave=False)
    for xb in bar:
        a = run_reference(original, {original.inputs[0]: xb})[original.outputs[0]]
        b = run_reference(changed, {changed.inputs[0]: xb})[changed.outputs[0]]
        a, b = a.reshape(len(xb), -1).astype(np.float64), b.reshape(len(xb), -1).astype(np.float64)
        top_o.append(a.argmax(axis=1))
        top_c.append(b.argmax(axis=1))
        err, norm = err + float(np.sum((b - a) ** 2)), norm + float(np.sum(a**2))
    top_o, top_c = np.concatenate(top_o), np.concatenate(top_c)
    labels = None if y is None else np.asarray(y).reshape(-1)
    return Agreement(
        samples=len(x),
        top1_agreement=float(np.mean(top_o == top_c)),
        relative_l2=float(np.sqrt(err / norm)) if norm > 0 else float(np.sqrt(err)),
        accuracy_original=None if labels is None else float(np.mean(top_o == labels)),
        accuracy_changed=None if labels is None else float(np.mean(top_c == labels)),
    )

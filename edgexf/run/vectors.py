"""Test vectors saved with a build, and the comparison of a run's outputs with them.

The tolerance, stated once: a float32 output sample agrees with PyTorch when
    max |y - y_torch| <= FLOAT_RTOL * max |y_torch|        (per sample, relative to its scale)
and with the IR's NumPy reference only when bit-identical (the kernels are specified so that it is).
A quantized (int8) build is held to bit-exactness with the reference only: its distance from the
float PyTorch model is quantization error, reported (dequantized) but not a failure. An int8 model file
run by its own runtime (an int8 .tflite in tflite-micro) is not a float model: there the gap is how many
output LSB edgexf's integers are from the runtime's on the same int8 file (their kernels round
differently), reported as such, not as quantization error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgexf.compress.qmath import dequantize, quantize
from edgexf.ir.graph import DTYPES, QParams

FLOAT_RTOL = 1e-4
VECTORS_FILE = "test_vectors.npz"


def _params(io: dict) -> QParams | None:
    q = io.get("quant")
    return QParams(q["scale"], q["zero_point"]) if q else None


def encode_inputs(x: np.ndarray, io: dict) -> np.ndarray:
    """Float samples as the model's input bytes want them: quantized for an integer input.
    io: an entry of report.json's "inputs" (dtype, and quant for integer tensors)."""
    params = _params(io)
    if params is not None:
        return quantize(x, params, io["dtype"])
    return np.ascontiguousarray(x, DTYPES[io["dtype"]])


def decode_outputs(y: np.ndarray, io: dict) -> np.ndarray:
    """Outputs as real numbers (float32): dequantized for an integer output."""
    params = _params(io)
    return dequantize(y, params) if params is not None else np.asarray(y, np.float32)


@dataclass
class TestVectors:
    __test__ = False  # not a pytest test class
    x: np.ndarray  # (S, *input shape)
    expected: np.ndarray  # the original (PyTorch) model's outputs, (S, *output shape)
    reference: np.ndarray  # the IR reference's outputs, (S, *output shape)
    labels: np.ndarray | None = None  # (S,) class labels when the data had them

    def save(self, directory: Path) -> Path:
        path = directory / VECTORS_FILE
        arrays = {"x": self.x, "expected": self.expected, "reference": self.reference}
        if self.labels is not None:
            arrays["y"] = self.labels
        np.savez_compressed(path, **arrays)
        return path

    @classmethod
    def load(cls, directory: Path) -> TestVectors:
        with np.load(directory / VECTORS_FILE) as f:
            return cls(f["x"], f["expected"], f["reference"], f["y"] if "y" in f else None)


@dataclass
class Agreement:
    samples: int
    bit_exact_with_reference: int  # samples identical to the IR reference, bit for bit
    max_rel_err_vs_original: float  # worst per-sample max|y - y_torch| / max|y_torch|
    # samples within FLOAT_RTOL of PyTorch; None where that tolerance does not apply (an integer output,
    # an approximation): report.json then says null, not a count of 0 next to ok: true
    within_tolerance: int | None
    same_class_as_original: int  # argmax agrees with PyTorch (classifiers)
    accuracy: float | None  # top-1 against the labels, when there are labels
    original_accuracy: float | None
    quantized: bool = False  # an integer output: only bit-exactness is required
    approximation: str = ""  # e.g. "low-rank decomposition": the graph differs from PyTorch on purpose
    original: str = "PyTorch"  # what computed the expected outputs: PyTorch, onnxruntime, tflite-micro
    # how close where bit-exactness with the original is not expected (int8, low-rank): the measures
    # users judge such a model by, over all samples' outputs together
    cosine: float = 1.0  # cosine similarity of the outputs with the original's
    rel_rmse: float = 0.0  # RMS of the difference over the RMS of the original's outputs
    # the original runs the same int8 model (an int8 .tflite in tflite-micro): its outputs are integers
    # too, and the two are compared in output LSB
    original_int8: bool = False
    identical_to_original: int | None = None  # samples whose integers equal the original's
    max_lsb_vs_original: int | None = None  # the largest difference of any output, in LSB

    @property
    def ok(self) -> bool:
        exact = self.bit_exact_with_reference == self.samples
        return exact and (self.within_tolerance is None or self.within_tolerance == self.samples)

    def closeness(self) -> str:
        return f"cosine {self.cosine:.4f}, RMSE {self.rel_rmse:.1%} of the signal's RMS"

    def to_dict(self) -> dict:
        return dict(self.__dict__, ok=self.ok)

    def describe(self) -> str:
        who = self.original
        err = f"worst relative error {self.max_rel_err_vs_original:.2e}"
        lines = [
            f"  samples                      {self.samples}",
            f"  bit-exact with IR reference  {self.bit_exact_with_reference}/{self.samples}",
            f"  {f'within {FLOAT_RTOL:.0e} of {who}':<29}{self.within_tolerance}/{self.samples} ({err})",
        ]
        if self.original_int8:
            lines[-1] = (
                f"  vs {who} (the same int8 file)  {self.identical_to_original}/{self.samples} identical, at "
                f"most {self.max_lsb_vs_original} LSB apart; {self.closeness()} (the kernels round "
                "differently: reported, not checked)"
            )
        elif self.quantized or self.approximation:
            what = "quantization" if self.quantized else self.approximation
            float_model = "float PyTorch" if who == "PyTorch" and self.quantized else who
            lines[-1] = (
                f"  vs {float_model} ({'dequantized' if self.quantized else 'the model as given'}) "
                f"{self.closeness()} ({what}: reported, not checked)"
            )
        lines += [f"  {f'same class as {who}':<29}{self.same_class_as_original}/{self.samples}"]
        if self.accuracy is not None:
            acc = f"{self.accuracy:.2%} ({who} {self.original_accuracy:.2%})"
            lines.append(f"  top-1 accuracy               {acc}")
        return "\n".join(lines)


def compare(
    outputs: np.ndarray,
    vectors: TestVectors,
    out_io: dict | None = None,
    approximation: str = "",
    original: str = "PyTorch",
    original_int8: bool = False,
) -> Agreement:
    """outputs: what a build computed, in the output's dtype; out_io: report.json's output entry;
    approximation: what makes the compiled graph differ from PyTorch on purpose (report.json's), if any;
    original: what computed vectors.expected (report.json's "original"); original_int8: it ran the same
    int8 model, and vectors.expected are its integers dequantized with the output's own parameters."""
    s = len(vectors.x)
    y, ref, exp = (a.reshape(s, -1) for a in (outputs, vectors.reference, vectors.expected))
    exact = (
        np.all(y.view(np.uint32) == ref.view(np.uint32), axis=1)
        if y.dtype == np.float32
        else np.all(y == ref, 1)
    )
    quantized = out_io is not None and _params(out_io) is not None
    same = lsb = None
    if quantized and original_int8:  # expected is exact in the output's scale: back to its integers
        gap = np.abs(y.astype(np.int64) - quantize(exp, _params(out_io), out_io["dtype"]).astype(np.int64))
        same, lsb = int((gap.max(axis=1, initial=0) == 0).sum()), int(gap.max(initial=0))
    if quantized:
        y = decode_outputs(y, out_io)
    scale = np.maximum(np.abs(exp).max(axis=1), np.finfo(np.float32).tiny)
    rel = np.abs(y.astype(np.float64) - exp).max(axis=1) / scale
    same_class = y.argmax(axis=1) == exp.argmax(axis=1)
    acc = orig_acc = None
    if vectors.labels is not None:
        acc = float(np.mean(y.argmax(axis=1) == vectors.labels))
        orig_acc = float(np.mean(exp.argmax(axis=1) == vectors.labels))
    within = None if quantized or approximation else int((rel <= FLOAT_RTOL).sum())
    a, b = y.astype(np.float64).reshape(-1), exp.astype(np.float64).reshape(-1)
    norms = np.sqrt((a @ a) * (b @ b))
    cosine = float(a @ b / norms) if norms > 0 else float(np.array_equal(a, b))
    rms = np.sqrt(np.mean(b * b))
    rel_rmse = float(np.sqrt(np.mean((a - b) ** 2)) / rms) if rms > 0 else float(np.abs(a).max(initial=0))
    return Agreement(
        s, int(exact.sum()), float(rel.max()), within, int(same_class.sum()), acc, orig_acc, quantized,
        approximation, original, cosine, rel_rmse, quantized and original_int8, same, lsb,
    )  # fmt: skip

"""Metrics of a validation, as STM32Cube.AI's `validate` reports them ("Evaluation report and metrics").

For predictions p and references r of N samples, each flattened over the whole set (N * K values):

    acc   (classifiers) share of samples whose argmax of p equals the label (or the argmax of r)
    rmse  sqrt(mean((p - r)^2))
    mae   mean(|p - r|)
    l2r   ||p - r||_2 / ||r||_2                     (L2 relative error)
    cos   <p, r> / (||p||_2 ||r||_2)                (cosine similarity)

A validation compares three ways: the target against the labels, the original model against the
labels, and the target against the original (Cube.AI's "X-cross"). Labels are class indices (then only
acc applies) or arrays of the outputs' shape (then every metric does). Pure functions of NumPy arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

NUMERIC = ("rmse", "mae", "l2r", "cos")  # the columns after acc
MAX_CLASSES = 1000  # ImageNet's: a longer output vector is taken for values, not class scores


@dataclass(frozen=True)
class Row:
    """One line of the metrics table; None where a metric does not apply."""

    name: str
    samples: int
    acc: float | None = None
    rmse: float | None = None
    mae: float | None = None
    l2r: float | None = None
    cos: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def rmse(p: np.ndarray, r: np.ndarray) -> float:
    d = _f64(p) - _f64(r)
    return float(np.sqrt(np.mean(d * d)))


def mae(p: np.ndarray, r: np.ndarray) -> float:
    return float(np.mean(np.abs(_f64(p) - _f64(r))))


def l2r(p: np.ndarray, r: np.ndarray) -> float:
    """||p - r|| / ||r||; 0 when both are zero, inf when only r is."""
    err, norm = np.linalg.norm(_f64(p) - _f64(r)), np.linalg.norm(_f64(r))
    if norm == 0:
        return 0.0 if err == 0 else float("inf")
    return float(err / norm)


def cosine(p: np.ndarray, r: np.ndarray) -> float | None:
    """<p, r> / (||p|| ||r||); None when either is all zeros (no direction to compare)."""
    p, r = _f64(p), _f64(r)
    norms = np.linalg.norm(p) * np.linalg.norm(r)
    return float(np.dot(p, r) / norms) if norms else None


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Share of equal class indices: predicted and labels are (N,)."""
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def classes_of(outputs: np.ndarray) -> np.ndarray:
    """(N, ...) scores -> (N,) argmax class indices."""
    return np.asarray(outputs).reshape(len(outputs), -1).argmax(axis=1)


def is_classifier(output_shape: tuple[int, ...], labels: np.ndarray | None = None) -> bool:
    """One vector of 2 to MAX_CLASSES scores per sample (axes of 1 aside), with labels, if any, that
    are class indices in range or one-hot (probability) rows of that length. A guess from shapes: a
    regression model with a short vector output passes for a classifier (and gets an acc column)."""
    dims = [d for d in output_shape if d != 1]
    if len(dims) != 1 or not 2 <= dims[0] <= MAX_CLASSES:
        return False
    if labels is None:
        return True
    indices = label_indices(labels)
    if indices is not None:
        return int(indices.min()) >= 0 and int(indices.max()) < dims[0]
    rows = np.asarray(labels, np.float64).reshape(len(labels), -1)
    return rows.shape[1] == dims[0] and bool(np.all(rows >= 0)) and np.allclose(rows.sum(axis=1), 1)


def compare(name: str, p: np.ndarray, r: np.ndarray, classifier: bool) -> Row:
    """p, r: (N, ...) predictions and references of the same shape."""
    if p.shape != r.shape:
        raise ValueError(f"{name}: predictions {p.shape} and references {r.shape} differ in shape")
    acc = accuracy(classes_of(p), classes_of(r)) if classifier else None
    return Row(name, len(p), acc, rmse(p, r), mae(p, r), l2r(p, r), cosine(p, r))


def against_labels(name: str, p: np.ndarray, labels: np.ndarray, classifier: bool) -> Row:
    """Class-index labels give acc only; labels shaped like the outputs give every metric."""
    indices = label_indices(labels)
    if indices is None:
        return compare(name, p, np.asarray(labels, np.float64).reshape(p.shape), classifier)
    return Row(name, len(p), accuracy(classes_of(p), indices) if classifier else None)


def metric_rows(
    target: np.ndarray, original: np.ndarray | None, labels: np.ndarray | None, classifier: bool
) -> list[Row]:
    """The three rows that apply: target vs labels, original vs labels, target vs original."""
    rows = []
    if labels is not None:
        rows.append(against_labels("target vs labels", target, labels, classifier))
        if original is not None:
            rows.append(against_labels("original vs labels", original, labels, classifier))
    if original is not None:
        rows.append(compare("target vs original", target, original, classifier))
    return rows


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: row = true class, column = predicted class."""
    m = np.zeros((classes, classes), np.int64)
    np.add.at(m, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
    return m


def label_indices(labels: np.ndarray) -> np.ndarray | None:
    """(N,) integer class indices, or None for labels that are values (floats, or one array per sample)."""
    labels = np.asarray(labels)
    flat = labels.reshape(len(labels), -1)
    if flat.shape[1] != 1:
        return None
    if labels.dtype.kind in "iub" or np.all(flat == np.round(flat)):
        return flat[:, 0].astype(np.int64)
    return None


def _f64(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float64).reshape(-1)

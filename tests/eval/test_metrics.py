"""edgexf/eval/metrics.py on small arrays whose metrics are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgexf.eval import metrics

P = np.array([[1.0, 2.0], [3.0, 4.0]])
R = np.array([[1.0, 0.0], [3.0, 0.0]])  # p - r = [0, 2, 0, 4]


def test_regression_metrics_by_hand():
    assert metrics.rmse(P, R) == pytest.approx(math.sqrt((4 + 16) / 4))
    assert metrics.mae(P, R) == pytest.approx((2 + 4) / 4)
    assert metrics.l2r(P, R) == pytest.approx(math.sqrt(20) / math.sqrt(1 + 9))
    assert metrics.cosine(P, R) == pytest.approx((1 + 9) / (math.sqrt(1 + 4 + 9 + 16) * math.sqrt(10)))


def test_identical_and_degenerate():
    assert metrics.rmse(P, P) == metrics.mae(P, P) == metrics.l2r(P, P) == 0
    assert metrics.cosine(P, P) == pytest.approx(1)
    zero = np.zeros_like(P)
    assert metrics.l2r(zero, zero) == 0 and metrics.l2r(P, zero) == math.inf
    assert metrics.cosine(P, zero) is None


def test_rows_for_a_classifier_with_class_labels():
    target = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.0, 0.6, 0.4]])  # classes 1 0 2 1
    original = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # 1 0 1 2
    labels = np.array([1, 0, 2, 2])
    assert metrics.is_classifier((1, 3), labels)
    rows = {r.name: r for r in metrics.metric_rows(target, original, labels, classifier=True)}
    assert rows["target vs labels"].acc == 0.75 and rows["target vs labels"].rmse is None
    assert rows["original vs labels"].acc == 0.75
    cross = rows["target vs original"]
    assert cross.acc == 0.5 and cross.samples == 4
    assert cross.rmse == pytest.approx(metrics.rmse(target, original))
    cm = metrics.confusion_matrix(labels, metrics.classes_of(target), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]  # row: label, column: predicted


def test_one_hot_labels_give_every_metric():
    labels = np.eye(2)[[1, 0]]  # one-hot, shaped like the outputs
    assert metrics.is_classifier((2,), labels)
    row = metrics.against_labels("t", P, labels, classifier=True)
    assert row.acc == 0.5  # argmax P = [1, 1], labels [1, 0]
    assert row.mae == pytest.approx((1 + 1 + 2 + 4) / 4)  # |[1-0, 2-1, 3-1, 4-0]|


def test_not_a_classifier():
    assert not metrics.is_classifier((1, 1))  # one score
    assert not metrics.is_classifier((4, 4))  # a map, not a vector
    assert not metrics.is_classifier((1, 1100))  # more scores than classifiers have classes
    assert not metrics.is_classifier((1, 3), np.array([0, 5]))  # labels out of range
    assert not metrics.is_classifier((2,), np.array([[0.3, -2.0]]))  # regression targets
    rows = metrics.metric_rows(P, R, None, classifier=False)
    assert [r.name for r in rows] == ["target vs original"] and rows[0].acc is None
    assert metrics.metric_rows(P, None, None, classifier=False) == []

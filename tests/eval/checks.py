"""What the eval tests check of a results file, shared by test_eval_qemu.py and test_eval_faults.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgexf.eval.results import read_results
from edgexf.ir.graph import DTYPES
from edgexf.run.build_dir import read_report
from edgexf.run.vectors import TestVectors


def check_outputs(build: Path, results: Path) -> list:
    """The results file's outputs are the build's reference outputs, bit for bit; returns its samples."""
    vectors, out = TestVectors.load(build), read_report(build)["outputs"][0]
    samples = read_results(results).samples
    raw = np.frombuffer(b"".join(s.outputs[0] for s in samples), DTYPES[out["dtype"]])
    assert [s.index for s in samples] == list(range(len(samples)))
    assert raw.tobytes() == vectors.reference.reshape(-1)[: raw.size].tobytes()
    return samples

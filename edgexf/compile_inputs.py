"""What `edgexf compile` is given, checked before any work: a bad file fails in a second with a message
naming it, not after minutes of quantizing and building."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgexf.datasets import as_samples, load_npz
from edgexf.errors import DataError, ModelLoadError
from edgexf.frontends import LoadedModel

MIN_CALIBRATION = 10  # fewer calibration samples than this gets a note


def check_inputs(
    loaded: LoadedModel, test_data: Path | None, calibration: Path | None, log: Callable[[str], None]
) -> None:
    """Weights that are not finite; data files of the wrong shape, empty, with NaN or inf (as_samples and
    load_npz say which), or with one label too many or too few; a calibration set too small to trust."""
    g = loaded.graph
    bad = [t.name for t in g.constants() if t.data.dtype.kind == "f" and not np.isfinite(t.data).all()]
    if bad:
        raise ModelLoadError(
            f"the model's weights hold NaN or inf ({', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}): "
            "check the training run (it may have diverged) or the file"
        )
    shape = g.io_shape(g.inputs[0])
    if test_data is not None:
        x, y = load_npz(test_data)
        x = as_samples(x, shape, f"{test_data} (array x)")
        if y is not None and len(y) != len(x):
            raise DataError(f"{test_data}: {len(y)} labels (array y) for {len(x)} samples; give one each")
    if calibration is not None:
        n = len(as_samples(load_npz(calibration)[0], shape, f"{calibration} (array x)"))
        if n < MIN_CALIBRATION:
            log(
                f"  note: calibrating on {n} sample(s): ranges from so few inputs clip others; "
                f"give at least {MIN_CALIBRATION} representative inputs (hundreds are better)"
            )

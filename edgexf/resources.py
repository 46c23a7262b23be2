"""Where the data folders (codegen_templates/, boards/, firmware/) are, in a checkout and in a wheel.

A wheel carries them as edgexf/_data/<name> (see pyproject.toml); an editable install or a plain
checkout has them beside the package, at the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of one data folder: 'codegen_templates', 'boards' or 'firmware'."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"edgexf's {name}/ folder is missing (looked in {_PACKAGE / '_data'} and {_PACKAGE.parent}); "
        "reinstall edgexf"
    )


def templates_dir() -> Path:
    return data_dir("codegen_templates")


def boards_dir() -> Path:
    return data_dir("boards")


def firmware_dir() -> Path:
    return data_dir("firmware")


def user_cache_dir() -> Path:
    """Where edgexf keeps what it can compute again (log-mel features, compiled objects): $EDGEXF_CACHE,
    else $XDG_CACHE_HOME/edgexf or ~/.cache/edgexf."""
    if os.environ.get("EDGEXF_CACHE"):
        return Path(os.environ["EDGEXF_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgexf"

"""Errors a user can act on. The CLI prints their message (no traceback) and exits with `exit_code`.

EXIT_CODES is the one table of exit statuses: `edgexf --help` prints it and the README holds the same
(tests/test_errors.py checks both against it and every error class against it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

INTERNAL_ERROR = 70  # a bug in edgexf (BSD's EX_SOFTWARE): the CLI saves the traceback in a file
INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "a build directory that is incomplete or changed since compile, a compile already writing -o, "
    "an option that needs another, or another error the message explains",
    2: "bad input: a model file, board, data file (.npz/.npy) or -o path that is missing, malformed or "
    "does not match the model",
    3: "an op edgexf has no kernel for, or a model that cannot be quantized as asked",
    4: "a compiler or QEMU missing or failing (the message gives the apt command)",
    5: "the model does not fit the board's memory (the message says which memory and by how much)",
    6: "a run failed or timed out: the host program or the emulated firmware",
    7: "outputs differ from the reference (run --check)",
    8: "the board or its emulator does not answer, answers wrongly, or cannot be flashed",
    INTERNAL_ERROR: "a bug in edgexf: the message says where the traceback was saved",
    INTERRUPTED: "interrupted (Ctrl-C)",
}


class EdgexfError(Exception):
    """Base class: the message names the problem and what to do about it."""

    exit_code = 1


class UnsupportedOpError(EdgexfError):
    exit_code = 3


class QuantizationError(EdgexfError):
    """The model cannot be quantized as asked: an op with no integer form, a scale out of range."""

    exit_code = 3


class ModelLoadError(EdgexfError):
    exit_code = 2


class BoardError(EdgexfError):
    exit_code = 2


class ToolchainError(EdgexfError):
    """A compiler or emulator is missing or failed."""

    exit_code = 4


class DoesNotFitError(EdgexfError):
    """The model needs more flash or RAM than the board has."""

    exit_code = 5


class RunError(EdgexfError):
    """The host program or the emulated firmware failed or timed out."""

    exit_code = 6


class MismatchError(EdgexfError):
    """Outputs differ from the reference beyond the stated tolerance."""

    exit_code = 7


class DataError(EdgexfError, ValueError):
    """A data file (.npz/.npy) is missing, unreadable or lacks the arrays needed."""

    exit_code = 2


class LinkError(EdgexfError):
    """The board (or QEMU standing in for it) does not answer, answers wrongly, or cannot be flashed."""

    exit_code = 8


def first_line(e: BaseException) -> str:
    """An exception as one line for a message: its type and the first non-blank line of its text."""
    lines = [line for line in str(e).splitlines() if line.strip()]
    return f"{type(e).__name__}: {lines[0] if lines else ''}"


def bug_message(error: BaseException) -> str:
    """For an exception edgexf did not expect: the traceback saved to a file (edgexf's cache folder, else
    the temporary folder), and one line for the user that says where."""
    import tempfile
    import time
    import traceback

    from edgexf.resources import user_cache_dir

    text = "".join(traceback.format_exception(error))
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (user_cache_dir() / "crashes", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(f"edgexf {' '.join(sys.argv[1:])}\n\n{text}")
            where = f"the traceback is in {folder / name}"
            break
        except OSError:
            continue
    else:
        where = f"the traceback could not be saved:\n{text}"
    return (
        f"edgexf: internal error (a bug in edgexf, not in your input): {type(error).__name__}: {error}\n"
        f"  {where}; please report it with the command line"
    )

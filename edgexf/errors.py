"""Errors a user can act on. The CLI prints their message (no traceback) and exits with `exit_code`."""

from __future__ import annotations


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

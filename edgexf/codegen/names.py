"""What a generated model calls its symbols, macros and files: edgexf_* by default, PREFIX_* with
`edgexf compile --prefix PREFIX`, so that several models link into one image.

    no prefix             --prefix kws
    model.h, model.c      kws_model.h, kws_model.c, kws_weights.c
    edgexf_run()          kws_run() (and _init, _input, _output, _reset, _step, _input_info, ...)
    EDGEXF_ARENA_BYTES    KWS_ARENA_BYTES (every macro of the header)
    W_blocks_0_q          kws_W_blocks_0_q (weights.c's arrays, the only other global symbols)

The kernels (exf_*) are not renamed: they are one library shared by every model of an image, versioned
(codegen/kernel_version.py). Everything else in model.c is static or a macro local to it.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from edgexf.errors import EdgexfError

# C11 keywords and the names a prefix must not take over (C's own, and edgexf's kernel namespace)
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int "
    "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert "
    "_Thread_local asm bool true false".split()
)
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,30}")


def check_prefix(prefix: str) -> str:
    """The prefix, or EdgexfError saying why it cannot name a model's symbols."""
    why = None
    if not _PREFIX.fullmatch(prefix or ""):
        why = "it must be a lowercase C identifier: a letter, then letters, digits or _ (at most 31)"
    elif prefix in _C_KEYWORDS or keyword.iskeyword(prefix):
        why = "it is a C keyword"
    elif prefix.startswith("exf"):
        why = "exf (exf_, exfq_, exfp_) names the kernel library that every model shares"
    elif prefix == "edgexf":
        why = "edgexf_ is the default: leave --prefix out for it"
    elif prefix.endswith("_"):
        why = "the _ after it is added (kws gives kws_run)"
    if why:
        raise EdgexfError(f"--prefix {prefix!r}: {why}")
    return prefix


@dataclass(frozen=True)
class Names:
    """The names of one generated model. prefix None: edgexf's generic names (model.h, edgexf_run)."""

    prefix: str | None = None

    def __post_init__(self) -> None:
        if self.prefix is not None:
            check_prefix(self.prefix)

    @property
    def api(self) -> str:  # functions and the I/O info tables: api + "_run"
        return self.prefix or "edgexf"

    @property
    def macro(self) -> str:  # macros: macro + "_ARENA_BYTES"
        return self.api.upper()

    @property
    def weight(self) -> str:  # weights.c's arrays: weight + c_ident(tensor name)
        return f"{self.prefix}_W_" if self.prefix else "W_"

    def file(self, base: str) -> str:
        """model.h -> kws_model.h"""
        return f"{self.prefix}_{base}" if self.prefix else base

    @property
    def header(self) -> str:
        return self.file("model.h")

    @property
    def source(self) -> str:
        return self.file("model.c")

    @property
    def weights(self) -> str:
        return self.file("weights.c")

    def library(self, model_name: str) -> str:
        """The CMake target: the prefix, else the model's name as a C identifier."""
        return self.prefix or model_name

    def template_context(self) -> dict:
        return {"api": self.api, "macro": self.macro, "prefixed": self.prefix is not None, **self.files()}

    def files(self) -> dict:
        return {"header": self.header, "source_file": self.source, "weights_file": self.weights}

"""The kernel library's version: edgexf's __version__ plus a hash of the kernel sources it ships.

Every model folder gets a copy of the kernels (firmware/kernels/), and an image with several models
links one copy. The copy of edgexf_kernels.h is stamped with this version (three #defines marked
"stamped by edgexf"); version.c turns it into a symbol that model.c's init function references, and
model.c refuses at compile time a header of another version. So two models from different edgexf
versions, or from different kernel sources, are never silently mixed: the link names the missing
version symbol, or the compile stops at an #error.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from edgexf import __version__
from edgexf.resources import firmware_dir

_STAMPED = re.compile(r"^#define (EXF_KERNELS_(?:ID|VERSION|HASH)) .*/\* stamped by edgexf \*/$", re.M)


@dataclass(frozen=True)
class KernelVersion:
    version: str  # "0.1.0+1a2b3c4d": edgexf's version + the kernel sources' hash
    symbol: str  # exf_kernels_0_1_0_1a2b3c4d: what version.c defines and model.c references
    hash: int  # the hash's first 32 bits: what model.c's #if compares

    @property
    def hash_c(self) -> str:
        return f"{self.hash:#010x}u"

    def stamp(self, header: str) -> str:
        """edgexf_kernels.h's text with this version written into its three stamped lines."""
        values = {"EXF_KERNELS_ID": self.symbol, "EXF_KERNELS_VERSION": f'"{self.version}"',
                  "EXF_KERNELS_HASH": self.hash_c}  # fmt: skip
        stamped, n = _STAMPED.subn(lambda m: f"#define {m[1]} {values[m[1]]} /* stamped by edgexf */", header)
        if n != len(values):
            raise ValueError(f"edgexf_kernels.h has {n} of the {len(values)} lines a version is written into")
        return stamped


def kernel_sources(kernels_dir: Path | None = None) -> list[Path]:
    kernels_dir = kernels_dir or firmware_dir() / "kernels"
    return sorted(p for p in kernels_dir.iterdir() if p.suffix in (".c", ".h"))


@functools.cache
def kernel_version(kernels_dir: Path | None = None) -> KernelVersion:
    """The version of the kernels in kernels_dir (edgexf's own by default), as shipped (unstamped): a
    sha256 over each file's name, a NUL, its length and its bytes, sorted by name."""
    h = hashlib.sha256()
    for path in kernel_sources(kernels_dir):
        data = path.read_bytes()
        h.update(path.name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    digest = h.hexdigest()[:8]
    return KernelVersion(
        f"{__version__}+{digest}", f"exf_kernels_{re.sub(r'[^0-9A-Za-z]', '_', __version__)}_{digest}",
        int(digest, 16),
    )  # fmt: skip


def copy_kernels(out_dir: Path) -> list[Path]:
    """firmware/kernels/'s sources copied into out_dir as a model folder holds them: edgexf_kernels.h
    stamped with their version, the others as they are."""
    version, copied = kernel_version(), []
    for src in kernel_sources():
        dst = out_dir / src.name
        text = src.read_bytes()
        dst.write_bytes(version.stamp(text.decode()).encode() if src.name == "edgexf_kernels.h" else text)
        copied.append(dst)
    return copied

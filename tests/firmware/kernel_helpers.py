"""What the float and integer ctypes wrappers (conftest.py, qkernels.py) and their tests share:
binding signatures, pointers, rank-4 broadcast strides, and a hypothesis strategy for broadcasting."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from edgexf.resources import firmware_dir
from edgexf.targets.objcache import compile_objects

KERNEL_DIR = firmware_dir() / "kernels"


def assert_bits_equal(c: np.ndarray, mirror: np.ndarray) -> None:
    """Bit for bit, NaNs included (sign and payload)."""
    assert c.dtype == mirror.dtype == np.float32 and c.shape == mirror.shape
    diff = c.view(np.uint32) != mirror.view(np.uint32)
    if diff.any():
        i = np.flatnonzero(diff)[0]
        first = f"first at {i}: C {c.flat[i]!r} mirror {mirror.flat[i]!r}"
        raise AssertionError(f"{diff.sum()} of {c.size} differ; {first}")


def bind(lib: ctypes.CDLL, signatures: dict[str, list]) -> None:
    """Declare each function's argument types (all kernels return void)."""
    for name, argtypes in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = None


def ptr(a: np.ndarray | None) -> int | None:
    """The array's address; the caller keeps the array alive (a temporary would be freed at once)."""
    return None if a is None else a.ctypes.data


def i32(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int32)


def strides4(t: np.ndarray, shape4: tuple[int, ...]) -> np.ndarray:
    """Element strides of t seen as rank 4 and broadcast to shape4 (0 on broadcast axes)."""
    s = (1,) * (4 - t.ndim) + t.shape
    contiguous = np.cumprod((1,) + s[:0:-1])[::-1]  # row-major element strides of s
    return i32([0 if s[k] == 1 and shape4[k] != 1 else contiguous[k] for k in range(4)])


def broadcast_pair(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes of rank <= 4 that broadcast together (hypothesis: pass data.draw)."""
    rank = draw(st.integers(0, 4))
    full = draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))

    def operand():  # fmt: skip
        drop = draw(st.integers(0, rank))
        return tuple(1 if draw(st.booleans()) else s for s in full[drop:])

    return operand(), operand()


def build_shim_library(out_dir: Path, shim_c: str, flags: list[str], kernels: bool = True) -> ctypes.CDLL:
    """A test shim (C source) compiled with host gcc into out_dir/libshim.so, with every kernel of
    firmware/kernels/ linked in (kernels=False: the shim alone, for its inline helpers), loaded. The
    kernels' objects come from the object cache: one compile per run for all the shims."""
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("host gcc not found: the C kernels cannot be built")
    shim, lib = out_dir / "shim.c", out_dir / "libshim.so"
    shim.write_text(shim_c)
    sources = [*(sorted(KERNEL_DIR.glob("*.c")) if kernels else []), shim]
    flags = [*flags, "-fPIC", f"-I{KERNEL_DIR}"]
    objects = compile_objects(cc, flags, sources, out_dir / "obj", "compiling the shim", _run)
    _run([cc, "-shared", *objects, "-o", lib, "-lm"], "linking the shim", out_dir)
    return ctypes.CDLL(str(lib))


def _run(cmd: list, what: str, cwd: Path) -> None:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, f"{what}: {' '.join(map(str, cmd))}\n{done.stderr}"


_CTYPES = {"int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64, "float": ctypes.c_float}


def param_structs(header: Path = KERNEL_DIR / "edgexf_params.h") -> dict[str, type[ctypes.Structure]]:
    """ctypes mirrors of the kernel parameter structs, read from the header itself (so they cannot drift
    from it): every `typedef struct { ... } exf_..._t;`, pointers as void *, fixed arrays, nested structs."""
    text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
    structs: dict[str, type[ctypes.Structure]] = {}
    for body, name in re.findall(r"typedef struct \{(.*?)\}\s*(\w+);", text, flags=re.S):
        fields = []
        for decl in filter(None, (d.strip() for d in body.split(";"))):
            base, *rest = re.match(r"(?:const\s+)?(\w+)\s+(.*)", decl, flags=re.S).groups()
            for item in (s.strip() for s in rest[0].split(",")):
                field, count = re.match(r"(\**\s*\w+)(?:\[(\d+)\])?$", item).groups()
                ctype = ctypes.c_void_p if "*" in field else structs.get(base) or _CTYPES[base]
                fields.append((field.lstrip("* "), ctype * int(count) if count else ctype))
        structs[name] = type(name, (ctypes.Structure,), {"_fields_": fields})
    return structs


PARAMS = param_structs()


def params(ctype: str | type[ctypes.Structure], **fields) -> ctypes.Structure:
    """A parameter struct of that C type; a field given as a NumPy array (or None) is its address (the
    caller keeps the array alive), a dict fills a nested struct, a sequence an array field; the rest 0."""
    cls = PARAMS[ctype] if isinstance(ctype, str) else ctype
    kinds = dict(cls._fields_)
    values = {}
    for k, v in fields.items():
        kind = kinds[k]
        if isinstance(v, dict):
            values[k] = params(kind, **v)
        elif kind is ctypes.c_void_p:
            values[k] = ptr(v) if v is None or isinstance(v, np.ndarray) else v
        elif isinstance(v, (list, tuple, np.ndarray)):
            values[k] = kind(*(int(x) for x in v))
        else:
            values[k] = v
    return cls(**values)

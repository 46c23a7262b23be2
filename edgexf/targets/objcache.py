"""Compile C sources to objects, each object cached by what the compiler would see.

A build compiles the model's own files (model.c, weights.c) and the kernel library, which is the same
for every model: compiling the kernels again for each build was most of a build's time. Here each
source is compiled on its own (-c) and its object kept under a key made of:
  - the compiler (its resolved path, size, modification time and --version),
  - every flag except -I (where headers come from changes nothing once they are read),
  - the source as preprocessed with those flags (`-E -P`): the source and every header it includes,
    with every macro expanded.
A change to any header, flag or compiler gives a new key, so a stale object cannot be used; the same
kernel copied into two model directories gives one key, so it is compiled once. The preprocessing
costs about 10 ms a file against 100-300 ms for compiling it.

The cache is the objects/ folder of edgexf's cache ($EDGEXF_CACHE, else ~/.cache/edgexf: see
resources.user_cache_dir); EDGEXF_OBJECT_CACHE=off turns it off. It is filled on its own (a cold
cache is only slower), written by atomic renames (builds running at once share it safely) and pruned
to its least recently used entries past MAX_CACHE_BYTES. A cache that cannot be written is skipped,
never an error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edgexf.resources import user_cache_dir

MAX_CACHE_BYTES = 512 * 1024 * 1024
_KEY_VERSION = b"edgexf-objcache-1"

# run(cmd, what, cwd): compiles or raises (toolchain.run_compiler, passed in to avoid an import cycle)
Runner = Callable[[list, str, Path], None]


def cache_dir() -> Path | None:
    """Where objects are kept, or None when caching is off."""
    if os.environ.get("EDGEXF_OBJECT_CACHE", "").strip().lower() in ("off", "0", "no"):
        return None
    return user_cache_dir() / "objects"


@functools.cache
def _compiler_identity(compiler: str) -> bytes:
    real = Path(shutil.which(compiler) or compiler).resolve()
    st = real.stat()
    version = subprocess.run([str(real), "--version"], capture_output=True, text=True).stdout
    return f"{real}\0{st.st_size}\0{st.st_mtime_ns}\0{version}".encode()


def _key(compiler: str, flags: list[str], source: Path, cwd: Path) -> str | None:
    """The cache key of one source, or None when it cannot be preprocessed (the compile then reports
    the error with its own message)."""
    cmd = [compiler, *flags, "-E", "-P", str(Path(source).resolve())]
    done = subprocess.run(cmd, capture_output=True, cwd=cwd, env={**os.environ, "LC_ALL": "C"})
    if done.returncode != 0:
        return None
    h = hashlib.sha256(_KEY_VERSION)
    for part in (
        _compiler_identity(compiler),
        "\0".join(f for f in flags if not f.startswith("-I")).encode(),
    ):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    h.update(done.stdout)
    return h.hexdigest()


def compile_objects(
    compiler: str, flags: list[str], sources: list[Path], out_dir: Path, what: str, run: Runner
) -> list[Path]:
    """out_dir/<stem>.o for each source (stems must differ), from the cache where it has them; the rest
    compiled in one call per core. `run` runs a compiler command and raises on failure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # gcc -c writes name.o into its working directory, out_dir: paths the flags give must not be relative
    flags = [f"-I{Path(f[2:]).resolve()}" if f.startswith("-I") else f for f in flags]
    objects = [out_dir / f"{Path(s).stem}.o" for s in sources]
    if len({o.name for o in objects}) != len(objects):
        raise ValueError(f"{what}: two sources share a file name: {[str(s) for s in sources]}")
    cache = _usable(cache_dir())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        keys = list(pool.map(lambda s: _key(compiler, flags, s, out_dir), sources)) if cache else []
        missing = []
        for i, (src, obj) in enumerate(zip(sources, objects, strict=True)):
            if cache and keys[i] and _fetch(cache / keys[i][:2] / f"{keys[i]}.o", obj):
                continue
            missing.append(i)
        chunks = [missing[k :: os.cpu_count() or 1] for k in range(os.cpu_count() or 1)]
        cmds = [[compiler, *flags, "-c", *(str(Path(sources[i]).resolve()) for i in c)] for c in chunks if c]
        jobs = [pool.submit(run, cmd, what, out_dir) for cmd in cmds]
        for job in jobs:
            job.result()
    if cache:
        for i in missing:
            if keys[i]:
                _store(objects[i], cache / keys[i][:2] / f"{keys[i]}.o")
        _prune(cache)
    return objects


def _usable(cache: Path | None) -> Path | None:
    if cache is None:
        return None
    try:
        cache.mkdir(parents=True, exist_ok=True)
        return cache if os.access(cache, os.W_OK) else None
    except OSError:
        return None


def _fetch(entry: Path, obj: Path) -> bool:
    try:
        obj.unlink(missing_ok=True)
        shutil.copyfile(entry, obj)
        os.utime(entry)  # recently used: pruned last
        return True
    except OSError:
        return False


def _store(obj: Path, entry: Path) -> None:
    try:
        entry.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        os.close(fd)
        shutil.copyfile(obj, tmp)
        os.replace(tmp, entry)  # atomic: a reader sees the whole object or none
    except OSError:
        pass


def _prune(cache: Path) -> None:
    """Removes the least recently used objects while the cache holds more than MAX_CACHE_BYTES."""
    try:
        entries = [(p.stat(), p) for p in cache.glob("*/*.o")]
    except OSError:
        return
    total = sum(st.st_size for st, _ in entries)
    for st, path in sorted(entries, key=lambda e: e[0].st_mtime):
        if total <= MAX_CACHE_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= st.st_size

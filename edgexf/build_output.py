"""A build directory as a whole: written atomically by `edgexf compile`, checked whole before use.

compile writes into a fresh staging folder beside the target (`.NAME.partial-XXXX`) and only when
everything succeeded swaps it in for the target, so a failed, interrupted or killed compile leaves
the previous complete build (or nothing), never half of two models. A lock file beside the target
(`.NAME.lock`) refuses a second compile into the same directory while one runs.

The last file written is manifest.json: every other file's size and SHA-256. `run`, `eval`, `flash`,
`layers` and `--profile` read a build through build_dir.read_report, which checks it first, so a
file deleted, truncated or edited since compile is reported by name instead of failing later.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from edgexf.errors import DataError, EdgexfError

MANIFEST = "manifest.json"
REPORT = "report.json"
_PARTIAL, _OLD = ".partial-", ".old-"


@contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """Yields an empty staging folder; when the block ends without an error it replaces `target`
    (whose old contents go), otherwise it is removed and `target` is left as it was."""
    target = Path(target).absolute()
    _check_target(target)
    lock = FileLock(target.parent / f".{target.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise EdgexfError(
            f"another edgexf compile is writing {target} (lock {lock.lock_file}): wait for it to finish, "
            "or give another -o"
        ) from None
    try:
        _remove_leftovers(target)  # of a compile that was killed: nobody else holds the lock
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_PARTIAL}", dir=target.parent))
        try:
            yield staging
        except BaseException:  # an error, Ctrl-C: the old build stays as it was
            shutil.rmtree(staging, ignore_errors=True)
            raise
        write_manifest(staging)
        _swap(staging, target)
    finally:
        lock.release()


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise DataError(f"-o {target} is a file: give a directory (new, empty, or an earlier build)")
    if target.is_dir() and any(target.iterdir()) and not (target / REPORT).is_file():
        raise DataError(
            f"-o {target} holds files but no {REPORT}: it is not an edgexf build, and compile replaces the "
            "whole directory. Give a new or empty directory."
        )
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create {parent} for -o {target}: {e.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"cannot write in {parent} (for -o {target}): permission denied")


def _remove_leftovers(target: Path) -> None:
    for stem in (_PARTIAL, _OLD):
        for path in target.parent.glob(f".{target.name}{stem}*"):
            shutil.rmtree(path, ignore_errors=True)


def _swap(staging: Path, target: Path) -> None:
    """The old build out of the way, the new one in: two renames in one folder. For the moment
    between them there is no build at all, never a mixed one."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}{_OLD}", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    os.rename(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_manifest(build_dir: Path) -> None:
    """manifest.json: {"files": {relative path: {"bytes", "sha256"}}} of every file but itself."""
    files = {}
    for path in sorted(p for p in Path(build_dir).rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(build_dir).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": _digest(path)}
    (Path(build_dir) / MANIFEST).write_text(json.dumps({"files": files}, indent=1) + "\n")


def _entry_ok(rel: str, entry: dict) -> bool:
    """{"bytes": int, "sha256": str} for a path inside the build directory."""
    inside = not Path(rel).is_absolute() and ".." not in Path(rel).parts
    return inside and type(entry["bytes"]) is int and isinstance(entry["sha256"], str)


def verify_build(build_dir: Path, command: str = "") -> None:
    """EdgexfError naming what is missing or changed since compile. Files written after compile (by
    eval, --profile) are not in the manifest and not checked."""
    build_dir = Path(build_dir)
    again = f"compile it again{': ' + command if command else ''}"
    path = build_dir / MANIFEST
    try:
        files = json.loads(path.read_text())["files"]
        if not all(_entry_ok(rel, entry) for rel, entry in files.items()):
            raise ValueError
    except FileNotFoundError:
        raise EdgexfError(
            f"{build_dir} has no {MANIFEST}: compile did not finish it, or an earlier edgexf made it; {again}"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError):  # not JSON, or not a manifest's shape
        raise EdgexfError(f"{path} is damaged; {again}") from None
    problems = []
    for rel, entry in files.items():
        f = build_dir / rel
        if not f.is_file():
            problems.append(f"{rel} is missing")
        elif f.stat().st_size != entry["bytes"]:
            problems.append(f"{rel} has {f.stat().st_size:,} bytes, compile wrote {entry['bytes']:,}")
        elif _digest(f) != entry["sha256"]:
            problems.append(f"{rel} changed since compile")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise EdgexfError(f"{build_dir} is not the build compile made: {shown}. {again.capitalize()}.")

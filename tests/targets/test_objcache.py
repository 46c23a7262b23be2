"""The object cache: a build compiles each distinct source once, and a changed header, flag or macro
can never bring back an old object (edgexf/targets/objcache.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edgexf.targets.objcache import compile_objects
from edgexf.targets.toolchain import build_host

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="host gcc not found")


def _run(cmd: list, what: str, cwd: Path) -> None:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{what}: {done.stderr}")


def _program(src: Path, out: Path, flags: list[str]) -> str:
    """Compiles src/*.c through the cache, links, runs: what the program prints."""
    objects = compile_objects(GCC, [*flags, f"-I{src}"], sorted(src.glob("*.c")), out / "obj", "test", _run)
    _run([GCC, *objects, "-o", out / "prog"], "link", out)
    return subprocess.run([out / "prog"], capture_output=True, text=True, check=True).stdout


def _entries(cache: Path) -> set[Path]:
    return set(cache.glob("*/*.o"))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "objects"


def _sources(root: Path, value: str) -> Path:
    root.mkdir(parents=True)
    (root / "value.h").write_text(f"#define VALUE {value}\n")
    (root / "main.c").write_text(
        '#include <stdio.h>\n#include "value.h"\nint twice(int);\n'
        'int main(void) { printf("%d\\n", twice(VALUE)); return 0; }\n'
    )
    (root / "twice.c").write_text("int twice(int x) { return 2 * x; }\n")
    return root


def test_a_changed_header_or_flag_gives_a_new_object_never_the_old_one(tmp_path, cache):
    src = _sources(tmp_path / "src", "21")
    assert _program(src, tmp_path / "a", ["-O2"]) == "42\n"
    first = _entries(cache)
    assert len(first) == 2

    (src / "value.h").write_text("#define VALUE 5\n")  # only the header changes: main.c's object is stale
    assert _program(src, tmp_path / "b", ["-O2"]) == "10\n"
    assert len(_entries(cache) - first) == 1  # twice.c's object is reused

    (src / "value.h").write_text("#ifndef VALUE\n#define VALUE 5\n#endif\n")
    assert _program(src, tmp_path / "c", ["-O2", "-DVALUE=7"]) == "14\n"  # a macro on the command line
    assert _program(src, tmp_path / "d", ["-O1"]) == "10\n"  # another flag: new objects, same answer


def test_the_same_source_in_two_folders_is_compiled_once(tmp_path, cache):
    a = _sources(tmp_path / "one", "1")
    b = _sources(tmp_path / "two", "1")
    assert _program(a, tmp_path / "a", ["-O2"]) == "2\n"
    entries = _entries(cache)
    assert _program(b, tmp_path / "b", ["-O2"]) == "2\n"
    assert _entries(cache) == entries


def test_model_builds_share_the_kernels(tmp_path, cache, data_dir):
    """Two builds of one model: the second compiles nothing; the kernels, most of the code, are shared."""
    build_host(data_dir / "tiny_model", tmp_path / "one")
    entries = _entries(cache)
    assert len(entries) >= 3  # model.c, runner.c, platform_host.c
    build_host(data_dir / "tiny_model", tmp_path / "two")
    assert _entries(cache) == entries
    first, second = ((tmp_path / d / "runner").read_bytes() for d in ("one", "two"))
    assert first == second


@pytest.mark.parametrize("setting", ["off", "unwritable"])
def test_builds_work_without_a_cache(tmp_path, monkeypatch, setting):
    src = _sources(tmp_path / "src", "3")
    if setting == "off":
        monkeypatch.setenv("EDGEXF_OBJECT_CACHE", "off")
    else:
        (tmp_path / "file").write_text("a file where the cache folder would be")
        monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "file" / "cache"))
    assert _program(src, tmp_path / "out", ["-O2"]) == "6\n"


def test_a_compile_error_still_reaches_the_user(tmp_path, cache):
    src = _sources(tmp_path / "src", "1")
    (src / "twice.c").write_text("int twice(int x) { return 2 * y; }\n")
    with pytest.raises(RuntimeError, match=r"twice.c:1:31: error: .y. undeclared"):
        _program(src, tmp_path / "out", ["-O2"])
    assert not _entries(cache)  # a failed build stores nothing

"""The worst-case stack of edgexf_run(), measured for this build and board.

1. Compile the model's code (model.c and the kernels; weights.c holds no functions) for the board with
   the firmware's own flags plus -fstack-usage -fcallgraph-info=su: gcc writes, per file, each
   function's frame (the .su figure) and the calls it makes (.ci, a VCG graph).
2. Resolve an indirect call (the broadcast walk calls its block function through a pointer) to every
   function whose address the code takes: a relocation to a function symbol that is not a call
   (R_ARM_ABS32 in a literal pool, MOVW/MOVT), read from the objects with pyelftools.
3. Walk the call graph from edgexf_run: the stack of a function is its frame plus the largest stack
   of the functions it calls. Recursion, or a frame gcc calls dynamic (alloca, a variable-length
   array), has no static bound: refused (a ToolchainError naming the functions), never guessed.

What the figure leaves out, said in the report: functions outside the model's code (newlib's memcpy
and memset, libgcc's helpers for a core without an FPU) are listed, not counted (they are leaves
of a few dozen bytes), and calls the compiler inserts itself (libgcc's helpers) would not show in
the .ci files (no board's build has any today); the caller's own frames and interrupt handlers that
may run during a call come on top. Cost: the kernels' objects and .ci files are cached (the object
cache, and a store of .ci files keyed by the object's bytes), so a build compiles model.c alone,
about 0.3 s; a cold cache compiles the kernels once per board's flags, about 2 s.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from edgexf.errors import DoesNotFitError, ToolchainError
from edgexf.targets.boards import Board
from edgexf.targets.objcache import cache_dir, compile_objects
from edgexf.targets.toolchain import (
    COMMON_CFLAGS,
    FIRMWARE_FLAGS,
    check_newlib,
    find_tool,
    include_flags,
    model_api,
    model_sources,
    run_compiler,
)

ENTRY = "edgexf_run"
METHOD = (
    "arm-none-eabi-gcc -fstack-usage -fcallgraph-info=su over model.c and the kernels, with the "
    "firmware's flags; indirect calls resolved to every address-taken function; worst path from edgexf_run"
)
MAX_CI_FILES = 4096  # a few KB each: the kernels' for each board's flags, and each build's model.c
INDIRECT = "__indirect_call"  # gcc's node for a call through a pointer
# ARM relocations of a call or tail call: any other relocation to a function takes its address
_CALLS = {"R_ARM_CALL", "R_ARM_JUMP24", "R_ARM_THM_CALL", "R_ARM_THM_JUMP24", "R_ARM_THM_JUMP19"}
_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"\\]*\\n[^"\\]*\\n(\d+) bytes \(([^)]*)\)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


@dataclass
class CallGraph:
    """frames: function -> its own frame in bytes; calls: function -> what it calls; dynamic: functions
    whose frame gcc cannot bound; address_taken: the possible targets of an indirect call."""

    frames: dict[str, int] = field(default_factory=dict)
    calls: dict[str, set[str]] = field(default_factory=dict)
    dynamic: set[str] = field(default_factory=set)
    address_taken: set[str] = field(default_factory=set)

    def read_ci(self, text: str) -> None:
        """One .ci file: nodes with a frame are functions defined there (a static one named
        'file.c:name'); nodes without one are declarations only."""
        for name, size, kind in _NODE.findall(text):
            self.frames[_local(name)] = int(size)
            if "dynamic" in kind and "bounded" not in kind:
                self.dynamic.add(_local(name))
        for src, dst in _EDGE.findall(text):
            self.calls.setdefault(_local(src), set()).add(_local(dst))

    def read_object(self, obj: Path, source: str) -> None:
        """The functions whose address obj takes (a static one as read_ci names it: 'source:name', source
        the .c file's name)."""
        with open(obj, "rb") as f:
            elf = ELFFile(f)
            symbols = elf.get_section_by_name(".symtab")
            for section in elf.iter_sections():
                if not isinstance(section, RelocationSection):
                    continue
                for rel in section.iter_relocations():
                    sym = symbols.get_symbol(rel["r_info_sym"])
                    if sym["st_info"]["type"] != "STT_FUNC" or _reloc_type(elf, rel) in _CALLS:
                        continue
                    local = sym["st_info"]["bind"] == "STB_LOCAL"
                    self.address_taken.add(f"{source}:{sym.name}" if local else sym.name)


def _local(title: str) -> str:
    """gcc titles a static function 'path/to/file.c:name': 'file.c:name', the same from any folder."""
    where, colon, name = title.rpartition(":")
    return f"{Path(where).name}:{name}" if colon else title


def _reloc_type(elf: ELFFile, rel) -> str:
    return describe_reloc_type(rel["r_info_type"], elf)


@dataclass(frozen=True)
class StackFigure:
    """The worst-case stack of `entry` in bytes, the call path that needs it (each with its own frame),
    and what was called but not counted (code outside the model's sources)."""

    entry: str
    measured_bytes: int
    path: tuple[tuple[str, int], ...]
    not_counted: tuple[str, ...]

    def to_dict(self, board: Board) -> dict:
        """report.json's "stack" (board.stack_bytes: what the linker script reserves at the top of RAM)."""
        return {
            "measured_bytes": self.measured_bytes,
            "reserved_bytes": board.stack_bytes,
            "entry": self.entry,
            "deepest_path": [{"function": _plain(f), "frame_bytes": n} for f, n in self.path],
            "not_counted": list(self.not_counted),
            "method": METHOD,
        }


def _plain(name: str) -> str:
    return name.rsplit(":", 1)[-1]  # a static function's 'file.c:name' -> name


def worst_stack(graph: CallGraph, entry: str = ENTRY) -> StackFigure:
    """The deepest path from `entry` through `graph`; ToolchainError on recursion or a dynamic frame."""
    if entry not in graph.frames:
        raise ToolchainError(f"the stack analysis found no function {entry} in the compiled model")
    best: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {}
    outside: set[str] = set()

    def visit(fn: str, active: tuple[str, ...]) -> tuple[int, tuple[tuple[str, int], ...]]:
        if fn in active:
            cycle = " -> ".join(_plain(f) for f in (*active[active.index(fn) :], fn))
            raise ToolchainError(f"recursion has no static stack bound: {cycle}")
        if fn in best:
            return best[fn]
        if fn in graph.dynamic:
            raise ToolchainError(
                f"{_plain(fn)} has a dynamic stack frame (alloca or a variable-length array)"
            )
        deepest: tuple[int, tuple[tuple[str, int], ...]] = (0, ())
        for callee in sorted(graph.calls.get(fn, ())):
            targets = sorted(graph.address_taken) if callee == INDIRECT else [callee]
            for target in targets:
                if target not in graph.frames:
                    outside.add(target)
                    continue
                found = visit(target, (*active, fn))
                deepest = max(deepest, found, key=lambda d: d[0])
        best[fn] = (graph.frames[fn] + deepest[0], ((fn, graph.frames[fn]), *deepest[1]))
        return best[fn]

    total, path = visit(entry, ())
    return StackFigure(entry, total, path, tuple(sorted(outside)))


def measure_stack(board: Board, model_dir: Path) -> StackFigure:
    """edgexf_run's worst-case stack on `board`, from model_dir's code compiled as the firmware compiles
    it (the same flags; no -DEDGEXF_PROFILE)."""
    gcc = find_tool("arm-none-eabi-gcc")
    check_newlib(gcc)
    sources = [s for s in model_sources(model_dir) if not s.name.endswith("weights.c")]
    flags = [*board.cflags(), *COMMON_CFLAGS, *FIRMWARE_FLAGS, *include_flags(model_dir)]
    flags += ["-fstack-usage", "-fcallgraph-info=su"]
    what = f"arm-none-eabi-gcc measuring the stack of {model_dir}"
    graph = CallGraph()
    with tempfile.TemporaryDirectory(prefix="edgexf-stack-") as tmp:
        work = Path(tmp)
        # through the object cache: an object it already holds comes without its .ci, which is then
        # read from the cache of .ci files below, keyed by the object's bytes (the kernels are the same
        # in every build, so only model.c is compiled)
        objects = compile_objects(gcc, flags, sources, work, what, _run)
        store = _ci_store()
        for src, obj in zip(sources, objects, strict=True):
            ci, entry = work / f"{src.stem}.ci", None
            if store is not None:
                entry = store / f"{hashlib.sha256(obj.read_bytes()).hexdigest()}.ci"
            if not ci.is_file() and entry is not None and entry.is_file():
                shutil.copyfile(entry, ci)
            if not ci.is_file():  # the object came from the cache, its .ci did not
                run_compiler([gcc, *flags, "-c", src.resolve()], what, cwd=work)
            elif entry is not None and not entry.is_file():
                _store(ci, entry)
            graph.read_ci(ci.read_text())
            graph.read_object(obj, src.name)
    return worst_stack(graph, f"{model_api(model_dir)}_run")  # kws_run for --prefix kws


def _run(cmd: list, what: str, cwd: Path) -> None:
    run_compiler(cmd, what, cwd=cwd)


def _ci_store() -> Path | None:
    """Where .ci files are kept (beside the object cache; off with it), pruned to MAX_CI_FILES."""
    objects = cache_dir()
    if objects is None:
        return None
    store = objects.parent / "callgraphs"
    try:
        store.mkdir(parents=True, exist_ok=True)
        kept = sorted(store.glob("*.ci"), key=lambda p: p.stat().st_mtime)
        for old in kept[: max(0, len(kept) - MAX_CI_FILES)]:
            old.unlink(missing_ok=True)
    except OSError:
        return None
    return store


def _store(ci: Path, entry: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        os.close(fd)
        shutil.copyfile(ci, tmp)
        os.replace(tmp, entry)  # atomic: builds running at once share the store
    except OSError:
        pass  # a store that cannot be written is skipped: the next build compiles again


def check_stack(figure: StackFigure, board: Board) -> None:
    """Refuses a model whose edgexf_run alone needs more stack than the board reserves (it would
    overwrite the RAM below the stack, silently)."""
    if figure.measured_bytes > board.stack_bytes:
        path = " -> ".join(f"{_plain(f)} ({n} B)" for f, n in figure.path)
        raise DoesNotFitError(
            f"edgexf_run needs {figure.measured_bytes:,} B of stack, more than the {board.stack_bytes:,} B "
            f"{board.name} reserves (stack_bytes in {board.path}): {path}"
        )


def stack_entry(board: Board, model_dir: Path) -> dict:
    """report.json's "stack" (and model.h's stack note) for the model in model_dir: measured, checked
    against the board's reserved stack (DoesNotFitError when over)."""
    figure = measure_stack(board, model_dir)
    check_stack(figure, board)
    return figure.to_dict(board)

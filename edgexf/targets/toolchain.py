"""Build a generated model with the test-vector runner: for the host (gcc) and for a board.

Both builds compile every .c of the model directory together with firmware/app/runner.c in one
compiler call (a model is a handful of files; one call keeps a build to about a second).
Common flags keep float results bit-identical between host and target: -ffp-contract=off (no fused
multiply-add) and never -ffast-math.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
from elftools.elf.elffile import ELFFile

from edgexf.errors import EdgexfError, ToolchainError
from edgexf.resources import firmware_dir, templates_dir
from edgexf.targets.boards import Board
from edgexf.targets.does_not_fit import does_not_fit
from edgexf.targets.objcache import compile_objects
from edgexf.targets.tiers import ARENA_INPUT_SECTION, ARENA_SECTION, EXTERNAL_SECTION

COMMON_CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-ffp-contract=off"]
# Bare metal: a section per function and per object so --gc-sections drops unused kernels and
# weights; no crt0 (firmware/startup/startup.c is the start-up); newlib-nano for memcpy and libm.
FIRMWARE_FLAGS = [
    "-ffunction-sections",
    "-fdata-sections",
    "-nostartfiles",
    "--specs=nano.specs",
    "--specs=nosys.specs",
    "-Wl,--gc-sections",
]


def package_flags(board: Board) -> dict:
    """What model/CMakeLists.txt sets (codegen_templates/CMakeLists.txt.j2), taken from the lists above
    and the board's, so the library a user builds is compiled as edgexf's own firmware is."""
    return {
        "board": board.name,
        "target": board.cflags(),  # core, Thumb, FPU and float ABI: one ABI for the whole image
        "common": [f for f in COMMON_CFLAGS if not f.startswith("-std=")],  # C11: CMake's C_STANDARD
        "sections": [f for f in FIRMWARE_FLAGS if f.endswith("-sections") and not f.startswith("-Wl")],
    }


_INSTALL_ARM = (
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
    "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
)
# What to install (as root, Debian/Ubuntu) when a tool is missing.
INSTALL_COMMANDS = {
    "gcc": "apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev",
    "arm-none-eabi-gcc": _INSTALL_ARM,
    "arm-none-eabi-objcopy": _INSTALL_ARM,
    "qemu-system-arm": _INSTALL_ARM,
}

_OVERFLOW = re.compile(r"region [`']?(FLASH|RAM|EXTFLASH|EXTRAM)'? overflowed by (\d+) bytes")
_ERROR_TAIL_CHARS = 4000  # enough for the first errors; a broken model can produce pages


@dataclass(frozen=True)
class Firmware:
    """A linked image for one board; `emulated` says it is linked at the emulator's addresses.

    bin is the internal flash's image, from its origin; ext_bin, where weights are placed in the board's
    external flash, that memory's image, from its origin (one .bin spanning both would be gigabytes of
    gap). hex and the ELF hold both."""

    board: Board
    emulated: bool
    elf: Path
    bin: Path
    hex: Path
    map: Path
    ext_bin: Path | None = None

    def __post_init__(self) -> None:
        for path in (self.elf, self.bin, self.hex):
            if not path.is_file():
                raise ToolchainError(f"the build did not produce {path}")


def find_tool(name: str) -> str:
    """Absolute path of a tool on PATH, or ToolchainError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        install = INSTALL_COMMANDS.get(name, f"(no known package for {name})")
        raise ToolchainError(f"{name} was not found on PATH. Install it (as root):\n    {install}")
    return path


@functools.cache
def check_newlib(gcc: str) -> None:
    # Without libnewlib-arm-none-eabi the compiler exists but every build fails on <stdint.h>.
    found = subprocess.run([gcc, "-print-file-name=nano.specs"], capture_output=True, text=True)
    if not Path(found.stdout.strip()).is_absolute():
        raise ToolchainError(
            f"{gcc} has no newlib C library (nano.specs not found). Install it (as root):\n    {_INSTALL_ARM}"
        )


def model_header(model_dir: Path) -> str:
    """The generated header's name: model.h, or PREFIX_model.h for a build made with --prefix."""
    if (model_dir / "model.h").is_file():
        return "model.h"
    found = sorted(p.name for p in Path(model_dir).glob("*_model.h"))
    if len(found) != 1:
        what = f"several headers ({', '.join(found)})" if found else "no model.h (nor PREFIX_model.h)"
        raise EdgexfError(f"{model_dir} has {what}: not one generated model directory")
    return found[0]


def model_api(model_dir: Path) -> str:
    """The prefix of the model's functions: edgexf (edgexf_run), or --prefix's (kws_run)."""
    header = model_header(model_dir)
    return "edgexf" if header == "model.h" else header.removesuffix("_model.h")


def model_sources(model_dir: Path) -> list[Path]:
    model_header(model_dir)  # a generated model directory, or a clear error
    return sorted(model_dir.glob("*.c"))


def include_flags(model_dir: Path, *subdirs: str) -> list[str]:
    """-I for the model and firmware/'s subdirs; for a prefixed model also the defines with which
    edgexf's own apps (they include EDGEXF_MODEL_HEADER and use the generic names) build with it."""
    # The model directory first, so its own copy of a kernel header wins over the library's.
    fw = firmware_dir()
    header = model_header(model_dir)
    generic = [] if header == "model.h" else ["-DEDGEXF_GENERIC_NAMES", f'-DEDGEXF_MODEL_HEADER="{header}"']
    return [*generic, f"-I{model_dir}", f"-I{fw / 'kernels'}", *(f"-I{fw / d}" for d in subdirs)]


def run_compiler(
    cmd: list[str | Path], what: str, board: Board | None = None, cwd: Path | None = None
) -> None:
    """Runs a compiler or binutils command; with `board`, a region overflow is DoesNotFitError."""
    # LC_ALL=C: untranslated messages, so the overflow pattern matches and errors read the same everywhere
    env = {**os.environ, "LC_ALL": "C"}
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd)
    if result.returncode == 0:
        return
    overflows = {m[1]: int(m[2]) for m in _OVERFLOW.finditer(result.stderr)}
    if board is not None and overflows:
        raise does_not_fit(board, overflows)
    raise ToolchainError(f"{what} failed:\n{result.stderr[-_ERROR_TAIL_CHARS:]}")


def _defines(defines: tuple[str, ...]) -> list[str]:
    return [f"-D{d}" for d in defines]


def build_host(model_dir: Path, out_dir: Path, defines: tuple[str, ...] = ()) -> Path:
    """The model plus runner as a host executable (out_dir/runner); ticks are nanoseconds.

    defines: preprocessor macros for every source, NAME or NAME=VALUE (e.g. EDGEXF_PROFILE).
    """
    gcc = find_tool("gcc")
    fw = firmware_dir()
    sources = [*model_sources(model_dir), fw / "app" / "runner.c", fw / "platform" / "platform_host.c"]
    exe = out_dir / "runner"
    flags = [*COMMON_CFLAGS, *_defines(defines), *include_flags(model_dir, "platform")]
    what = f"gcc building {model_dir} for the host"
    objects = compile_objects(gcc, flags, sources, out_dir / "obj", what, _run_in)
    run_compiler([gcc, *objects, "-o", exe, "-lm"], what)
    return exe


def _run_in(cmd: list, what: str, cwd: Path) -> None:
    run_compiler(cmd, what, cwd=cwd)


def render_linker_script(board: Board, emulated: bool) -> str:
    flash, ram = board.link_regions(emulated)
    tier, ext = board.weights_tier, None
    if tier is not None:
        region = board.tier_region(tier, emulated)
        where = f"{board.emulator.machine}'s memory standing in for " if emulated and board.emulator else ""
        ext = {
            "note": f"{where}{tier.describe()}",
            "origin": f"{region.origin:#010x}",
            "size": region.size,
            "section": EXTERNAL_SECTION,
        }
    extram = None
    tier = board.arena_tier
    if tier is not None and (not emulated or tier.emulator_origin is not None):
        region = board.tier_region(tier, emulated)
        where = f"{board.emulator.machine}'s memory standing in for " if emulated and board.emulator else ""
        size = f" ({region.size:,} B of it)" if region.size < tier.region.size else ""
        extram = {
            "note": f"{where}{tier.describe()}{size}",
            "origin": f"{region.origin:#010x}",
            "size": region.size,
            "section": ARENA_SECTION,
            "input": ARENA_INPUT_SECTION,
        }
    if emulated:
        assert board.emulator is not None  # link_regions checked
        note = (
            f"Linked at {board.emulator.machine}'s addresses, held to {board.name}'s sizes: "
            "for the emulator, not for flashing."
        )
    else:
        note = f"{board.name}'s own memory map: for flashing onto the board."
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("linker.ld.j2").render(
        board_name=board.name,
        emulated=emulated,
        machine=board.emulator.machine if emulated and board.emulator else "",
        layout_note=note,
        flash_origin=f"{flash.origin:#010x}",
        flash_size=flash.size,
        ram_origin=f"{ram.origin:#010x}",
        ram_size=ram.size,
        stack_bytes=board.stack_bytes,
        stack_top=f"{ram.end:#010x}",
        ext=ext,
        extram=extram,
    )


def compile_model_objects(
    board: Board, model_dir: Path, out_dir: Path, defines: tuple[str, ...] = ()
) -> list[Path]:
    """The model's C files compiled for `board` into out_dir/*.o, in one call. `edgexf compile` links
    these into all four of a board's images (runner and evaluation firmware, board and emulator: the
    same code, only the linker script and the app differ), so the weights, most of the work, are
    compiled once. defines: as for build_host."""
    gcc = find_tool("arm-none-eabi-gcc")
    check_newlib(gcc)
    flags = [*board.cflags(), *COMMON_CFLAGS, *FIRMWARE_FLAGS, *_defines(defines), *include_flags(model_dir)]
    what = f"arm-none-eabi-gcc compiling {model_dir} for {board.name}"
    return compile_objects(gcc, flags, model_sources(model_dir), out_dir, what, _run_in)


def build_firmware(
    board: Board,
    model_dir: Path,
    out_dir: Path,
    emulated: bool,
    defines: tuple[str, ...] = (),
    model_objects: list[Path] | None = None,
) -> Firmware:
    """The model plus runner linked for `board` (emulated: at its emulator's addresses), as .elf/.bin/.hex.

    Raises DoesNotFitError when the image overflows the board's flash or RAM (the stack included).
    defines: as for build_host. model_objects: the model already compiled (compile_model_objects, with
    the same defines) instead of its sources.
    """
    fw = firmware_dir()
    sources = [
        *(model_sources(model_dir) if model_objects is None else model_objects),
        fw / "app" / "runner.c",
        fw / "platform" / "platform_semihost.c",
        fw / "startup" / "startup.c",
        fw / "startup" / "semihost.c",
    ]
    flags = [*_defines(defines), *include_flags(model_dir, "platform", "startup")]
    return link_firmware(board, sources, flags, out_dir, emulated, f"{model_dir} for {board.name}")


def link_firmware(
    board: Board, sources: list[Path], flags: list[str], out_dir: Path, emulated: bool, what: str
) -> Firmware:
    """Compiles `sources` (.c; .o are taken as they are) for `board` (flags: -D and -I) into
    out_dir/obj/, through the object cache, and links them with the board's linker script; out_dir gets
    app.elf/.bin/.hex/.map. DoesNotFitError on overflow."""
    gcc = find_tool("arm-none-eabi-gcc")
    objcopy = find_tool("arm-none-eabi-objcopy")
    check_newlib(gcc)
    out_dir.mkdir(parents=True, exist_ok=True)
    c_files = [s for s in sources if Path(s).suffix == ".c"]
    compile_flags = [*board.cflags(), *COMMON_CFLAGS, *FIRMWARE_FLAGS, *flags]
    compiled = iter(
        compile_objects(
            gcc, compile_flags, c_files, out_dir / "obj", f"arm-none-eabi-gcc compiling {what}", _run_in
        )
    )
    sources = [next(compiled) if Path(s).suffix == ".c" else s for s in sources]
    script = out_dir / "linker.ld"
    script.write_text(render_linker_script(board, emulated))
    elf, map_file = out_dir / "app.elf", out_dir / "app.map"
    cmd = [
        gcc,
        *board.cflags(),
        *COMMON_CFLAGS,
        *FIRMWARE_FLAGS,
        *sources,
        "-T",
        script,
        f"-Wl,-Map={map_file}",
        "-o",
        elf,
        "-lm",
    ]
    run_compiler(cmd, f"arm-none-eabi-gcc building {what}", board)
    images = {"binary": out_dir / "app.bin", "ihex": out_dir / "app.hex"}
    for fmt, path in images.items():
        internal = ["-R", EXTERNAL_SECTION] if fmt == "binary" else []
        run_compiler([objcopy, "-O", fmt, *internal, elf, path], f"arm-none-eabi-objcopy -O {fmt}")
    ext_bin = out_dir / "app_ext.bin"
    ext_bin.unlink(missing_ok=True)  # from an earlier build with external weights
    if _has_section(elf, EXTERNAL_SECTION):
        run_compiler([objcopy, "-O", "binary", "-j", EXTERNAL_SECTION, elf, ext_bin], "arm-none-eabi-objcopy")
    return Firmware(
        board,
        emulated,
        elf,
        images["binary"],
        images["ihex"],
        map_file,
        ext_bin if ext_bin.is_file() else None,
    )


def _has_section(elf: Path, name: str) -> bool:
    with open(elf, "rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        return section is not None and section["sh_size"] > 0

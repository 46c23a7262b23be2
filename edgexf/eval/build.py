"""Build the evaluation firmware (`edgexf eval`'s device side): the model plus firmware/app/eval_app.c,
the frames of eval_frame.c, the board's BSP (firmware/bsp/<driver>.c) and the start-up, linked for the
board (to flash) or for its emulator (QEMU, whose UART the host reaches over TCP).

The firmware learns what it says about itself from out_dir/eval_info.h, written here: the board's name
and the MODEL_INFO JSON (edgexf/eval/model_info.py). The emulated build is compiled with
-DEDGEXF_EMULATED (SysTick under QEMU as its counter, semihosting to exit QEMU on a fault); the board
build has no semihosting at all, so it runs with no debugger attached.

When the build places weights in the board's external flash, or the arena in its external RAM
(--arena external), the board build also compiles each such memory's set-up (the [[external]] table's
setup: firmware/bsp/external/<setup>.c, defining <setup>_setup) and external_setup.c, written here,
whose bsp_init-called bsp_external_setup runs them in the board file's order (-DBSP_EXTERNAL_SETUP).
A memory the build puts nothing in is left out, so such an image never touches it. The emulated build
never has them: QEMU's RAM stands in for the memories, usable from the start.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from edgexf.errors import BoardError, DoesNotFitError, EdgexfError
from edgexf.eval.protocol import model_info_json
from edgexf.resources import firmware_dir
from edgexf.targets.boards import Board, MemoryTier
from edgexf.targets.toolchain import Firmware, include_flags, link_firmware, model_sources

INFO_HEADER = "eval_info.h"
SETUP_SOURCE = "external_setup.c"  # bsp_external_setup, where the build uses external memories
_C_STRING_LINE = 96  # characters of JSON per line of eval_info.h


@dataclass(frozen=True)
class EvalBuilds:
    """What `edgexf compile` built of the evaluation firmware: for the board itself (to flash) and for
    its emulator; None where it built none, and why not for the board."""

    board: Firmware | None
    emulator: Firmware | None
    why_not: str | None = None  # no board build: no [bsp] in the board file, or it does not fit
    notes: tuple[str, ...] = ()  # for the log: why_not and why there is no emulator build, in words

    def files(self, out_dir: Path) -> dict[str, str | None]:
        """report.json's "files" entries, relative to the build directory."""
        b, e = self.board, self.emulator

        def rel(path: Path | None) -> str | None:
            return None if path is None else str(path.relative_to(out_dir))

        return {
            "eval_elf": rel(b and b.elf),
            "eval_bin": rel(b and b.bin),
            "eval_hex": rel(b and b.hex),
            "eval_ext_bin": rel(b and b.ext_bin),  # the external flash's image, where weights are placed
            "eval_emulator_elf": rel(e and e.elf),
        }


def build_eval_builds(
    board: Board,
    model_dir: Path,
    out_dir: Path,
    model_info: dict,
    model_objects: list[Path] | None = None,
    external_weights: bool = False,
    external_arena: bool = False,
) -> EvalBuilds:
    """out_dir/board/ where the board file has a [bsp], out_dir/emulator/ where it has an emulator with
    a BSP, built side by side. An image that does not fit is left out, with the reason: the runner
    builds are what decide whether the model fits the board. model_objects, external_weights,
    external_arena: as for build_eval_firmware."""
    why_not = _why_no_board_build(board, used_tiers(board, external_weights, external_arena))
    try:
        model_info_json(model_info)
    except ValueError as e:  # many inputs and outputs with long names
        return EvalBuilds(None, None, str(e), (f"no evaluation firmware: {e}",))
    targets = {"board": False} if why_not is None else {}
    if board.emulator is not None and board.eval_bsp(emulated=True) is not None:
        targets["emulator"] = True
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {
            where: pool.submit(
                build_eval_firmware,
                board,
                model_dir,
                out_dir / where,
                emulated,
                model_info,
                (),
                model_objects,
                external_weights,
                external_arena,
            )
            for where, emulated in targets.items()
        }
    built: dict[str, Firmware | None] = {"board": None, "emulator": None}
    notes = []
    for where, job in jobs.items():
        try:
            built[where] = job.result()
        except DoesNotFitError as e:
            reason = f"the evaluation firmware does not fit: {e}"
            notes.append(f"no evaluation firmware for the {where}: {reason}")
            why_not = reason if where == "board" else why_not
    if "board" not in targets:
        notes.insert(0, f"no evaluation firmware for {board.name} itself: {why_not}")
    return EvalBuilds(built["board"], built["emulator"], why_not, tuple(notes))


def used_tiers(board: Board, external_weights: bool, external_arena: bool) -> tuple[MemoryTier, ...]:
    """The external memories the build places something in, in the board file's order."""
    used = {board.weights_tier if external_weights else None, board.arena_tier if external_arena else None}
    return tuple(tier for tier in board.external if tier in used)


def _why_no_board_build(board: Board, tiers: tuple[MemoryTier, ...]) -> str | None:
    """Why the board itself gets no evaluation firmware, or None when it does."""
    if not board.bsp:
        return f"{board.path} has no [bsp] table (no driver for its clocks and UART yet)"
    for tier in tiers:
        if tier.setup is None:
            return _no_setup(board, tier)
    return None


def _no_setup(board: Board, tier: MemoryTier) -> str:
    what = "weights" if tier.read_only else "the arena"
    return (
        f"the build places {what} in {tier.describe()}, and {board.path} names no set-up that makes it "
        "readable on the board (add setup to that [[external]] table; see edgexf/targets/boards.py)"
    )


def build_eval_firmware(
    board: Board,
    model_dir: Path,
    out_dir: Path,
    emulated: bool,
    model_info: dict,
    defines: tuple[str, ...] = (),
    model_objects: list[Path] | None = None,
    external_weights: bool = False,
    external_arena: bool = False,
) -> Firmware:
    """The evaluation firmware for `board` (emulated: at its emulator's addresses, with the emulator's
    BSP), as out_dir/app.elf/.bin/.hex (and app_ext.bin with external weights). model_info:
    MODEL_INFO's object (model_info.model_info()). defines: extra macros, NAME or NAME=VALUE (e.g.
    EDGEXF_EVAL_PROTOCOL_VERSION=2 in a test). model_objects: the model already compiled for the board
    (toolchain.compile_model_objects). external_weights: the model places weights in the board's
    external flash (placement.Placement.external), so the board build sets that memory up.
    external_arena: the arena is linked in the board's external RAM (--arena external), likewise.

    BoardError when the board file gives no BSP for this build, or no set-up for an external memory
    the build uses; DoesNotFitError on overflow."""
    if emulated and board.emulator is None:
        raise BoardError(f"board {board.name} ({board.path}) has no [emulator] table: QEMU cannot run it")
    bsp = board.eval_bsp(emulated)
    if bsp is None:
        where = "an [emulator] bsp or a [bsp] table" if emulated else "a [bsp] table"
        raise BoardError(
            f"board {board.name} ({board.path}) has no evaluation firmware driver: it needs {where} "
            f"naming one of firmware/bsp/*.c (see edgexf/targets/boards.py)"
        )
    if not bsp.source.is_file():
        raise BoardError(f"board {board.name} ({board.path}): BSP driver {bsp.source} is missing")
    try:
        json = model_info_json(model_info)
    except ValueError as e:
        raise EdgexfError(f"MODEL_INFO for {board.name} does not fit one frame: {e}") from None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INFO_HEADER).write_text(info_header(board.name, json))

    fw = firmware_dir()
    sources = [
        *(model_sources(model_dir) if model_objects is None else model_objects),
        fw / "app" / "eval_app.c",
        fw / "app" / "eval_frame.c",
        bsp.source,
        fw / "startup" / "startup.c",
    ]
    flags = [*bsp.cflags(), *(f"-D{d}" for d in defines)]
    setups = () if emulated else _external_setups(board, used_tiers(board, external_weights, external_arena))
    if setups:
        (out_dir / SETUP_SOURCE).write_text(setup_source(setups))
        sources += [*setups, out_dir / SETUP_SOURCE]
        flags.append("-DBSP_EXTERNAL_SETUP")
    if emulated:
        assert board.emulator is not None  # checked above
        sources.append(fw / "startup" / "semihost.c")
        flags += ["-DEDGEXF_EMULATED", f"-DEDGEXF_EMULATOR_CLOCK_HZ={board.emulator.cpu_clock_hz}u"]
    flags += [f"-I{out_dir}", *include_flags(model_dir, "app", "bsp", "platform", "startup")]
    what = f"the evaluation firmware of {model_dir} for {board.name}" + (" (emulated)" if emulated else "")
    firmware = link_firmware(board, sources, flags, out_dir, emulated, what)
    if firmware.ext_bin is not None and not emulated and not external_weights:
        raise EdgexfError(
            f"{firmware.elf} has weights in the external flash but was built without its set-up: "
            "build_eval_firmware needs external_weights=True for this model"
        )
    return firmware


def _external_setups(board: Board, tiers: tuple[MemoryTier, ...]) -> tuple[Path, ...]:
    """The set-up sources of the external memories the build uses: BoardError where one has none."""
    for tier in tiers:
        if tier.setup_source is None:
            raise BoardError(f"board {board.name}: {_no_setup(board, tier)}")
    return tuple(tier.setup_source for tier in tiers if tier.setup_source is not None)


def setup_source(setups: tuple[Path, ...]) -> str:
    """external_setup.c: bsp_external_setup (bsp.h) calling each memory's <setup>_setup in order, all of
    them, and returning the first failure's note."""
    names = [f"{path.stem}_setup" for path in setups]
    return (
        "/* Written by edgexf compile (edgexf/eval/build.py): the external memories this build\n"
        " * uses, set up in the board file's order (firmware/bsp/external/). */\n"
        '#include <stdint.h>\n\n#include "bsp.h"\n\n'
        + "".join(f"const char *{name}(uint32_t hclk_hz);\n" for name in names)
        + "\nconst char *bsp_external_setup(uint32_t hclk_hz)\n{\n"
        + '    const char *first = "";\n'
        + "".join(
            f"    const char *{name}_note = {name}(hclk_hz);\n"
            f"    first = first[0] != '\\0' ? first : {name}_note;\n"
            for name in names
        )
        + "    return first;\n}\n"
    )


def info_header(board_name: str, model_info_json: bytes) -> str:
    """eval_info.h: the board's name and MODEL_INFO's JSON as C string literals."""
    text = model_info_json.decode()
    lines = [_c_string(text[i : i + _C_STRING_LINE]) for i in range(0, len(text), _C_STRING_LINE)]
    return (
        "/* Written by edgexf compile (edgexf/eval/build.py): what the evaluation firmware says\n"
        " * about itself (DEVICE_INFO's board name, MODEL_INFO's JSON). */\n"
        "#ifndef EDGEXF_EVAL_INFO_H\n#define EDGEXF_EVAL_INFO_H\n\n"
        f"#define EVAL_BOARD_NAME {_c_string(board_name)}\n\n"
        "#define EVAL_MODEL_INFO_JSON \\\n    " + " \\\n    ".join(lines) + "\n\n"
        "#endif /* EDGEXF_EVAL_INFO_H */\n"
    )


def _c_string(text: str) -> str:
    """A C string literal of `text`'s UTF-8 bytes: printable ASCII as is, the rest (and backslash, quote
    and '?', which could start a trigraph under -std=c11) as 3-digit octal escapes."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        out.append(ch if 0x20 <= byte < 0x7F and ch not in '\\"?' else f"\\{byte:03o}")
    return '"' + "".join(out) + '"'

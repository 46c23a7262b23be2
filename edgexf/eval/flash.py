"""`edgexf flash DIR`: write a build's evaluation firmware to the board with a debug probe's tool.

Three tools, each run with the arguments the board file's [probes] table gives it:
    openocd  openocd -f interface/stlink.cfg -f <target script> -c "program <elf> verify reset exit"
             (a board script, board/<board>.cfg, names its interface itself: no interface/stlink.cfg)
    stlink   st-flash --reset write <bin> <flash origin>
    pyocd    pyocd flash --target <target> <elf>
The ELF carries its own addresses; st-flash takes the raw .bin and the address to write it at.

A build with weights in the board's external flash (eval/board/app_ext.bin) needs openocd with a script
that declares a flash bank there (board/stm32f746g-disco.cfg: its stmqspi driver for the QSPI flash).
Each memory is then written from its own raw image at its own address, one `program` per memory,
so the command shows what goes where:
    openocd -f board/<board>.cfg -c "program <app.bin> <flash origin> verify"
                                 -c "program <app_ext.bin> <external origin> verify reset exit"
st-flash writes the internal flash only, and pyocd would need a flash algorithm for the kit's QSPI
flash that edgexf does not have: asked for such a build, both are refused, naming openocd.

A missing tool names the command that installs it; a tool that finds no board says what to check.
Nothing here has written a real board: none was at hand (the tests run the tools with no probe).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgexf.errors import EdgexfError, LinkError, ToolchainError
from edgexf.run.build_dir import read_report
from edgexf.targets.boards import PROBES, Board, load_board

EXECUTABLES = {"openocd": "openocd", "stlink": "st-flash", "pyocd": "pyocd"}
INSTALL = {
    "openocd": "apt-get install -y --no-install-recommends openocd   (as root)",
    "stlink": "apt-get install -y --no-install-recommends stlink-tools   (as root)",
    "pyocd": "pip install pyocd   (in edgexf's virtual environment)",
}
# What each tool prints when no probe or no target answers: openocd 0.12.0 and st-flash 1.7.0 were run
# here with nothing plugged in; pyocd's wording is from its `list` command (pyocd is not installed here).
NO_BOARD_MESSAGES = (
    "open failed",  # openocd: no ST-LINK on USB
    "couldn't find any st-link",  # st-flash
    "found 0 stlink programmers",  # st-flash
    "no connected debug probes",  # pyocd
    "no available debug probes",  # pyocd
    "unable to find a matching",  # openocd with another interface
    "target voltage may be too low",  # probe found, board unpowered
)
_OUTPUT_TAIL = 1500
EXTERNAL_WRITERS = ("openocd",)  # the tools that can write an external flash
CANNOT_WRITE_EXTERNAL = {
    "stlink": "st-flash writes the chip's own flash only",
    "pyocd": "pyocd would need a flash algorithm for this board's external flash (from a CMSIS pack), "
    "which edgexf does not have",
}
# --timeout's default: openocd erases and writes the external flash 64 KB sector by sector, and the
# N25Q128A takes 0.7 s (typical) to 3 s (at most) per sector erase, 48 s per MB at worst, plus about 2 s
# per MB of page programs; how fast the ST-LINK moves the data was not measured (no board here).
BASE_TIMEOUT_S = 120.0
EXTERNAL_TIMEOUT_S_PER_MB = 60.0


@dataclass(frozen=True)
class EvalImages:
    """A build's evaluation firmware for the board: the ELF (both memories), the internal flash's .bin
    and, where the build places weights in the board's external flash, that memory's .bin."""

    board: Board
    elf: Path
    bin: Path
    ext_bin: Path | None = None

    def default_timeout(self) -> float:
        ext_mb = 0 if self.ext_bin is None else self.ext_bin.stat().st_size / (1 << 20)
        return BASE_TIMEOUT_S + EXTERNAL_TIMEOUT_S_PER_MB * ext_mb


@dataclass(frozen=True)
class FlashCommand:
    probe: str
    argv: list[str]
    writes: tuple[str, ...]  # what goes where, in words: "app.elf", "app_ext.bin at 0x90000000, in ..."

    def __str__(self) -> str:
        return " ".join(_quote(a) for a in self.argv)


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def eval_images(build_dir: Path) -> EvalImages:
    """A build's board and evaluation firmware, or an error saying why it has none."""
    report = read_report(build_dir)
    board = load_board(report["board"])
    files = report["files"]
    if not files.get("eval_elf"):
        why = (report.get("eval") or {}).get(
            "why_not"
        ) or "the build directory has no board evaluation firmware"
        raise EdgexfError(f"{build_dir}: nothing to flash for {board.name}: {why}")
    paths = [
        Path(build_dir) / files[key] for key in ("eval_elf", "eval_bin", "eval_ext_bin") if files.get(key)
    ]
    for path in paths:
        if not path.is_file():
            raise EdgexfError(
                f"{path} is missing: compile {build_dir} again (edgexf compile ... -o {build_dir})"
            )
    return EvalImages(board, *paths)


def _tcl(path: Path) -> str:
    """A file name as one word of an openocd (Tcl) command: braced, so spaces and brackets stay in it."""
    text = str(path.resolve())
    if any(c in text for c in "{}\\"):
        raise EdgexfError(
            f"{text}: openocd cannot be given a path with braces or backslashes; move the build"
        )
    return "{" + text + "}"


def flash_command(images: EvalImages, probe: str) -> FlashCommand:
    """The command line for `probe`, from the board's [probes] table (no tool is run)."""
    board = images.board
    if probe not in PROBES:
        raise EdgexfError(f"unknown probe '{probe}'; edgexf knows: {', '.join(PROBES)}")
    if images.ext_bin is not None and probe not in EXTERNAL_WRITERS:
        raise EdgexfError(_cannot_write_external(images, probe))
    setting = board.probe(probe)
    if not setting:
        known = ", ".join(name for name, _ in board.probes) or "none"
        raise EdgexfError(
            f"board {board.name} has no '{probe}' entry in the [probes] table of {board.path} "
            f"(it has: {known}); add one, or pick another --probe"
        )
    tool, elf, binary = EXECUTABLES[probe], images.elf.resolve(), images.bin.resolve()
    if probe == "openocd":
        return _openocd(images, str(setting))
    if probe == "stlink":
        argv = [tool, "--reset", "write", str(binary), f"{board.flash.origin:#010x}"]
        return FlashCommand(probe, argv, (f"{images.bin} at {board.flash.origin:#010x}",))
    return FlashCommand(probe, [tool, "flash", "--target", str(setting), str(elf)], (str(images.elf),))


def _openocd(images: EvalImages, script: str) -> FlashCommand:
    """openocd with the board's script: the ELF, or each memory's .bin at its origin."""
    interface = [] if script.startswith("board/") else ["-f", "interface/stlink.cfg"]
    argv = [EXECUTABLES["openocd"], *interface, "-f", script]
    tier = images.board.weights_tier
    if images.ext_bin is None or tier is None:
        argv += ["-c", f"program {_tcl(images.elf)} verify reset exit"]
        return FlashCommand("openocd", argv, (str(images.elf),))
    internal, external = images.board.flash.origin, tier.region.origin
    argv += [
        "-c",
        f"program {_tcl(images.bin)} {internal:#010x} verify",
        "-c",
        f"program {_tcl(images.ext_bin)} {external:#010x} verify reset exit",
    ]
    writes = (
        f"{images.bin} at {internal:#010x}, in the internal flash",
        f"{images.ext_bin} at {external:#010x}, in {tier.describe()}",
    )
    return FlashCommand("openocd", argv, writes)


def _external_weights(images: EvalImages) -> str:
    """ "external 'qspi' (qspi_flash, 16 MB at 0x90000000), where this build puts 1,024 B of weights"."""
    tier, ext_bin = images.board.weights_tier, images.ext_bin
    assert tier is not None and ext_bin is not None  # an external image comes from the board's tier
    return f"{tier.describe()}, where this build puts {ext_bin.stat().st_size:,} B of weights ({ext_bin})"


def _cannot_write_external(images: EvalImages, probe: str) -> str:
    return (
        f"{EXECUTABLES[probe]} cannot write {_external_weights(images)}: {CANNOT_WRITE_EXTERNAL[probe]}. "
        "Use openocd (--probe openocd), which writes both memories through the flash bank its board "
        "script declares."
    )


def pick_probe(images: EvalImages, requested: str | None) -> str:
    """--probe, or the first of the board's probes whose tool is installed (that can write every
    memory the build uses)."""
    if requested is not None:
        return requested
    board = images.board
    listed = [name for name, value in board.probes if value]
    if not listed:
        raise EdgexfError(
            f"board {board.name} lists no debug probe ([probes] in {board.path}): edgexf cannot flash it"
        )
    if images.ext_bin is not None:
        listed = [name for name in listed if name in EXTERNAL_WRITERS]
        if not listed:
            raise EdgexfError(
                f"only openocd can write {_external_weights(images)}, and board {board.name} has no "
                f"'openocd' entry in the [probes] table of {board.path}: add its board script (one that "
                "declares a flash bank for that memory)"
            )
    for name in listed:
        if shutil.which(EXECUTABLES[name]):
            return name
    options = "\n".join(f"    {name}: {INSTALL[name]}" for name in listed)
    raise ToolchainError(f"none of the flash tools for {board.name} is installed; install one:\n{options}")


def run_flash(command: FlashCommand, timeout: float = 120) -> str:
    """Runs the tool; its output on success. A missing tool is ToolchainError, any failure LinkError."""
    exe = shutil.which(command.argv[0])
    if exe is None:
        raise ToolchainError(f"{command.argv[0]} was not found on PATH. Install it: {INSTALL[command.probe]}")
    env = {**os.environ, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [exe, *command.argv[1:]], capture_output=True, text=True, env=env, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        raise LinkError(f"{command.argv[0]} did not finish within {timeout:.0f} s: {command}") from e
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 0:
        return output
    tail = output[-_OUTPUT_TAIL:]
    if any(m in output.lower() for m in NO_BOARD_MESSAGES):
        raise LinkError(
            f"{command.argv[0]} found no board: plug the board's ST-LINK USB port in, check that it is "
            f"powered and that no other program (an IDE, another debugger) holds the probe; on Linux the "
            f"user needs access to the USB device (stlink-tools' udev rules).\n"
            f"command: {command}\n{tail}"
        )
    raise LinkError(f"{command.argv[0]} failed (exit {done.returncode}).\ncommand: {command}\n{tail}")

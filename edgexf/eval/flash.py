"""`edgexf flash DIR`: write a build's evaluation firmware to the board with a debug probe's tool.

Three tools, each run with the arguments the board file's [probes] table gives it:
    openocd  openocd -f interface/stlink.cfg -f <target script> -c "program <elf> verify reset exit"
    stlink   st-flash --reset write <bin> <flash origin>
    pyocd    pyocd flash --target <target> <elf>
The ELF carries its own addresses; st-flash takes the raw .bin and the address to write it at.
A missing tool names the command that installs it; a tool that finds no board says what to check.
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


@dataclass(frozen=True)
class FlashCommand:
    probe: str
    argv: list[str]
    image: Path

    def __str__(self) -> str:
        return " ".join(_quote(a) for a in self.argv)


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def eval_images(build_dir: Path) -> tuple[Board, Path, Path]:
    """A build's board and evaluation firmware (ELF, .bin), or an error saying why it has none."""
    report = read_report(build_dir)
    board = load_board(report["board"])
    files = report["files"]
    if not files.get("eval_elf"):
        why = (report.get("eval") or {}).get(
            "why_not"
        ) or "the build directory has no board evaluation firmware"
        raise EdgexfError(f"{build_dir}: nothing to flash for {board.name}: {why}")
    elf, binary = Path(build_dir) / files["eval_elf"], Path(build_dir) / files["eval_bin"]
    for path in (elf, binary):
        if not path.is_file():
            raise EdgexfError(
                f"{path} is missing: compile {build_dir} again (edgexf compile ... -o {build_dir})"
            )
    return board, elf, binary


def flash_command(board: Board, elf: Path, binary: Path, probe: str) -> FlashCommand:
    """The command line for `probe`, from the board's [probes] table (no tool is run)."""
    if probe not in PROBES:
        raise EdgexfError(f"unknown probe '{probe}'; edgexf knows: {', '.join(PROBES)}")
    setting = board.probe(probe)
    if not setting:
        known = ", ".join(name for name, _ in board.probes) or "none"
        raise EdgexfError(
            f"board {board.name} has no '{probe}' entry in the [probes] table of {board.path} "
            f"(it has: {known}); add one, or pick another --probe"
        )
    tool = EXECUTABLES[probe]
    if probe == "openocd":
        program = f"program {elf.resolve()} verify reset exit"
        argv = [tool, "-f", "interface/stlink.cfg", "-f", str(setting), "-c", program]
        return FlashCommand(probe, argv, elf)
    if probe == "stlink":
        argv = [tool, "--reset", "write", str(binary.resolve()), f"{board.flash.origin:#010x}"]
        return FlashCommand(probe, argv, binary)
    return FlashCommand(probe, [tool, "flash", "--target", str(setting), str(elf.resolve())], elf)


def pick_probe(board: Board, requested: str | None) -> str:
    """--probe, or the first of the board's probes whose tool is installed."""
    if requested is not None:
        return requested
    listed = [name for name, value in board.probes if value]
    if not listed:
        raise EdgexfError(
            f"board {board.name} lists no debug probe ([probes] in {board.path}): edgexf cannot flash it"
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

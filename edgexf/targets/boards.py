"""Boards as data: one TOML file per board in boards/, checked against what each core supports.

A board file (boards/<name>.toml; the name is the file's stem):

    description = "STM32F746: Cortex-M7 at 216 MHz, ..."
    core = "cortex-m7"            # a key of CORE_FPUS
    fpu = "fpv5-sp-d16"           # one of CORE_FPUS[core]; "none" builds soft float
    float_abi = "hard"            # hard | softfp (with an FPU) | soft (without)
    clock_hz = 216_000_000
    stack_bytes = 8192            # optional, default 8 KB; reserved at the top of RAM

    [flash]                       # where code and constants live
    origin = 0x08000000
    size = 1_048_576
    [ram]
    origin = 0x20000000
    size = 327_680

    [emulator]                    # optional: how QEMU runs this board's model code
    machine = "mps2-an500"        # a key of QEMU_MACHINES, with the board's core
    flash_origin = 0x00000000     # the image is linked here, held to the board's flash size
    ram_origin = 0x20000000
    cpu_clock_hz = 25_000_000     # the machine's SysTick clock, measured: ticks -> instructions
    bsp = "mps2_uart"             # optional: the evaluation firmware's driver there (default: [bsp])

    [bsp]                         # optional: what the evaluation firmware (edgexf eval) runs on
    driver = "stm32f7"            # firmware/bsp/<driver>.c: clocks, caches, the UART, the counter
    defines = { HSE_HZ = 25_000_000, USART = 1 }   # passed as -DBSP_<NAME>=<value> (int, bool, str)

    [probes]                      # optional: `edgexf flash` with each debug probe's tool
    openocd = "target/stm32f7x.cfg"   # openocd's script: a target/ one (edgexf adds interface/stlink.cfg),
                                      # or a board/ one, which names its own interface and may declare
                                      # flash banks for external memories (board/stm32f746g-disco.cfg)
    pyocd = "stm32f746xg"             # the pyocd target name
    stlink = true                     # st-flash writes the .bin at flash.origin

    [[external]]                  # optional, repeatable: memories outside the chip (memory tiers)
    name = "qspi"                 # lower-case identifier, unique
    kind = "qspi_flash"           # a key of MEMORY_KINDS: says whether it is read-only
    origin = 0x90000000           # where the core sees it (memory-mapped)
    size = 16_777_216
    emulator_origin = 0x60000000  # where [emulator]'s machine has memory to stand in for it; required
                                  # for the tier that holds weights on a board with an [emulator]
    # emulator_size = 3_145_728   # optional: how much of it the emulator holds, where its machine has
                                  # less memory to spare than the tier's size (default: all of it)
    setup = "stm32f7_qspi"        # optional: firmware/bsp/external/<setup>.c, which makes the memory
                                  # readable on the board (a QSPI flash: memory-mapped mode); the board's
                                  # evaluation firmware needs it when a build places weights there

The weights that do not fit the internal flash go to the first read-only external tier
(edgexf/targets/placement.py); `--arena external` puts the arena in the first read-write one (SDRAM;
edgexf/targets/arena.py).

Adding a board means adding a file; a new core is one line in edgexf/ir/cores.py,
a new emulator machine one line in QEMU_MACHINES below.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgexf.errors import BoardError
from edgexf.ir.cores import CORE_FPUS  # the one core table (also read by the kernel choice)
from edgexf.resources import boards_dir, firmware_dir
from edgexf.targets.board_table import Region, Table, no_overlap
from edgexf.targets.tiers import MemoryTier, read_external

DEFAULT_STACK_BYTES = 8192
PROBES = {"openocd": str, "pyocd": str, "stlink": bool}
OPENOCD_SCRIPT_DIRS = ("target/", "board/")  # the folders of openocd's own scripts a [probes] entry names
_DEFINE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class QemuMachine:
    """What a QEMU machine's fixed CPU has (-cpu cannot change it) and where its memory is."""

    core: str
    fpus: tuple[str, ...]
    code: Region
    ram: Region
    other: tuple[Region, ...] = ()  # more RAM, where an external memory of the board can be emulated

    @property
    def memories(self) -> tuple[Region, ...]:
        return (self.code, self.ram, *self.other)


# Machines of docs' EMULATION.md; the tests exercise mps2-an500 and mps3-an547.
QEMU_MACHINES: dict[str, QemuMachine] = {
    "mps2-an500": QemuMachine(
        "cortex-m7",
        ("fpv5-d16", "fpv5-sp-d16", "none"),
        Region(0, 4 << 20),
        Region(0x20000000, 4 << 20),
        (Region(0x60000000, 16 << 20),),  # `info mtree`: mps.ram, 16 MB (QEMU 7.2)
    ),
    # boots Secure: ITCM and DTCM at their Secure aliases; `info mtree`: sram 2, 4 MB at 0x21000000
    "mps3-an547": QemuMachine(
        "cortex-m55",
        ("auto", "none"),
        Region(0x10000000, 512 << 10),
        Region(0x30000000, 512 << 10),
        (Region(0x21000000, 4 << 20),),
    ),
    "mps2-an386": QemuMachine(
        "cortex-m4", ("fpv4-sp-d16", "none"), Region(0, 4 << 20), Region(0x20000000, 4 << 20)
    ),
    "netduinoplus2": QemuMachine(
        "cortex-m4", ("fpv4-sp-d16", "none"), Region(0x08000000, 1 << 20), Region(0x20000000, 192 << 10)
    ),
}


@dataclass(frozen=True)
class Bsp:
    """The evaluation firmware's board support: firmware/bsp/<driver>.c built with -DBSP_<NAME>=<value>."""

    driver: str
    defines: tuple[tuple[str, int | str], ...] = ()

    @property
    def source(self) -> Path:
        return firmware_dir() / "bsp" / f"{self.driver}.c"

    def cflags(self) -> list[str]:
        return [f"-DBSP_{name}={value}" for name, value in self.defines]


@dataclass(frozen=True)
class Emulator:
    machine: str
    flash_origin: int
    ram_origin: int
    cpu_clock_hz: int
    bsp: Bsp | None = None  # None: the board's own


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    core: str
    fpu: str
    float_abi: str
    clock_hz: int
    flash: Region
    ram: Region
    stack_bytes: int
    emulator: Emulator | None
    path: Path
    bsp: Bsp | None = None
    probes: tuple[tuple[str, str | bool], ...] = ()  # ("openocd", "target/stm32f7x.cfg"), ...
    external: tuple[MemoryTier, ...] = ()

    @property
    def weights_tier(self) -> MemoryTier | None:
        """The external memory that takes the weights the internal flash cannot hold: the first
        read-only one, or None."""
        return next((tier for tier in self.external if tier.read_only), None)

    @property
    def arena_tier(self) -> MemoryTier | None:
        """The external memory that takes the arena under --arena external: the first read-write one,
        or None."""
        return next((tier for tier in self.external if not tier.read_only), None)

    def eval_bsp(self, emulated: bool) -> Bsp | None:
        """The BSP the evaluation firmware is built with: on the board, or on its emulator."""
        if emulated and self.emulator is not None and self.emulator.bsp is not None:
            return self.emulator.bsp
        return self.bsp

    def probe(self, name: str) -> str | bool | None:
        return dict(self.probes).get(name)

    def cflags(self) -> list[str]:
        """Target flags for arm-none-eabi-gcc (compile and link)."""
        fpu = [] if self.fpu == "none" else [f"-mfpu={self.fpu}"]  # float_abi is then "soft"
        return [f"-mcpu={self.core}", "-mthumb", *fpu, f"-mfloat-abi={self.float_abi}"]

    def link_regions(self, emulated: bool) -> tuple[Region, Region]:
        """(flash, RAM) to link for: the board's own map, or the emulator's origins with the board's sizes."""
        if not emulated:
            return self.flash, self.ram
        if self.emulator is None:
            raise BoardError(f"board {self.name} ({self.path}) has no [emulator] table: QEMU cannot run it")
        emu = self.emulator
        return Region(emu.flash_origin, self.flash.size), Region(emu.ram_origin, self.ram.size)

    def tier_region(self, tier: MemoryTier, emulated: bool) -> Region:
        """Where `tier` is linked: the board's address, or (emulated) its stand-in in the emulator, which
        may hold less than the whole tier (emulator_size)."""
        if not emulated:
            return tier.region
        if tier.emulator_origin is None:
            raise BoardError(
                f"board {self.name} ({self.path}): external memory '{tier.name}' has no emulator_origin, so "
                "the emulator has nothing to hold it; add one (see edgexf/targets/boards.py)"
            )
        return Region(tier.emulator_origin, tier.emulator_size or tier.region.size)


def list_boards() -> list[str]:
    return sorted(p.stem for p in boards_dir().glob("*.toml"))


def load_board(name_or_path: str | Path) -> Board:
    """A board by name (a file in boards/) or by path to a .toml file; validated."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise BoardError(f"board file {path} does not exist")
    else:
        path = boards_dir() / f"{text}.toml"
        if not path.is_file():
            known = list_boards()
            close = difflib.get_close_matches(text, known, n=2, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise BoardError(f"unknown board '{text}'; {hint}known boards: {', '.join(known)}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BoardError(f"{path}: not valid TOML: {e}") from e
    return _parse(path, data)


def _parse(path: Path, data: dict[str, Any]) -> Board:
    t = Table(path, data)
    description = t.take("description", str)
    core = t.choice("core", list(CORE_FPUS))
    fpu = t.choice("fpu", CORE_FPUS[core], f" for core {core}")
    abis = ("soft",) if fpu == "none" else ("hard", "softfp")
    float_abi = t.choice("float_abi", abis, f" with fpu {fpu!r}")
    clock_hz = t.positive("clock_hz")
    stack_bytes = t.positive("stack_bytes", DEFAULT_STACK_BYTES)
    flash, ram = t.region("flash"), t.region("ram")
    emulator = _emulator(t, core, fpu, flash, ram) if "emulator" in t.data else None
    bsp = _bsp(t.sub("bsp")) if "bsp" in t.data else None
    probes = _probes(t.sub("probes")) if "probes" in t.data else ()
    external = read_external(t) if "external" in t.data else ()
    fields = "description, core, fpu, float_abi, clock_hz, stack_bytes, flash, ram, emulator, bsp, probes"
    t.done(f"{fields}, external")

    no_overlap(path, {"'flash'": flash, "'ram'": ram, **{f"external '{x.name}'": x.region for x in external}})
    if stack_bytes % 8 or stack_bytes >= ram.size:
        raise t.fail("stack_bytes", f"= {stack_bytes} must be a multiple of 8 below ram.size ({ram.size})")
    board = Board(
        path.stem, description, core, fpu, float_abi, clock_hz, flash, ram, stack_bytes, emulator, path,
        bsp, probes, external,
    )  # fmt: skip
    if emulator is not None:
        _check_emulated_tiers(board, emulator)
    return board


def _check_emulated_tiers(board: Board, emu: Emulator) -> None:
    """Each emulated tier lies in memory the machine has, clear of the image's flash, RAM and each other.
    The weights tier must be emulated: the emulator runs the model with its weights where they are."""
    machine = QEMU_MACHINES[emu.machine]
    flash, ram = board.link_regions(emulated=True)
    regions = {"'flash'": flash, "'ram'": ram}
    has = ", ".join(m.describe() for m in machine.memories)
    for tier in board.external:
        if tier.emulator_origin is None:
            if tier is board.weights_tier:
                raise BoardError(
                    f"{board.path}: external '{tier.name}' takes the weights that do not fit the "
                    f"flash, so the emulator must hold it: add emulator_origin ({emu.machine} has {has})"
                )
            continue
        region = board.tier_region(tier, emulated=True)
        if not any(m.holds(region) for m in machine.memories):
            raise BoardError(
                f"{board.path}: external '{tier.name}' emulator_origin = {region.origin:#x}: its "
                f"{region.size:,} bytes do not lie in {emu.machine}'s memory ({has})"
            )
        regions[f"external '{tier.name}'"] = region
    no_overlap(board.path, regions, f" on the emulator ({emu.machine})")


def _bsp_driver(table: Table, key: str) -> str:
    driver = table.take(key, str)
    available = sorted(p.stem for p in (firmware_dir() / "bsp").glob("*.c"))
    if driver not in available:
        raise table.fail(
            key, f"= {driver!r} names no firmware/bsp/{driver}.c; available: {', '.join(available)}"
        )
    return driver


def _bsp(t: Table) -> Bsp:
    driver = _bsp_driver(t, "driver")
    defines = []
    if "defines" in t.data:
        d = t.sub("defines")
        for name in list(d.data):
            if not _DEFINE_NAME.fullmatch(name):
                raise d.fail(name, "is not an upper-case C macro name (A-Z, 0-9, _)")
            value = d.data.pop(name)
            if isinstance(value, bool):
                value = int(value)
            elif not isinstance(value, (int, str)):
                raise d.fail(name, f"= {value!r} must be an integer, true/false or a string")
            defines.append((name, value))
    t.done("driver, defines")
    return Bsp(driver, tuple(defines))


def _probes(t: Table) -> tuple[tuple[str, str | bool], ...]:
    probes = tuple((name, t.take(name, kind)) for name, kind in PROBES.items() if name in t.data)
    t.done(", ".join(PROBES))
    script = dict(probes).get("openocd")
    if isinstance(script, str) and not (script.startswith(OPENOCD_SCRIPT_DIRS) and script.endswith(".cfg")):
        raise t.fail(
            "openocd",
            f"= {script!r} must be one of openocd's scripts: target/<chip>.cfg (edgexf adds "
            "interface/stlink.cfg) or board/<board>.cfg (it names its interface itself)",
        )
    return probes


def _emulator(t: Table, core: str, fpu: str, flash: Region, ram: Region) -> Emulator:
    e = t.sub("emulator")
    machine_name = e.choice("machine", list(QEMU_MACHINES))
    machine = QEMU_MACHINES[machine_name]
    if machine.core != core:
        raise e.fail("machine", f"= {machine_name!r} has a {machine.core}, not the board's {core}")
    if fpu not in machine.fpus:
        has = ", ".join(machine.fpus)
        raise e.fail("machine", f"= {machine_name!r} has no FPU for {fpu!r}; it has: {has}")
    emu = Emulator(
        machine_name,
        e.address("flash_origin"),
        e.address("ram_origin"),
        e.positive("cpu_clock_hz"),
        Bsp(_bsp_driver(e, "bsp")) if "bsp" in e.data else None,
    )
    e.done("machine, flash_origin, ram_origin, cpu_clock_hz, bsp")
    # Where the image is linked for the machine: the machine's origins, the board's sizes.
    for key, origin, size, space in (
        ("flash_origin", emu.flash_origin, flash.size, machine.code),
        ("ram_origin", emu.ram_origin, ram.size, machine.ram),
    ):
        if not (space.origin <= origin and origin + size <= space.end):
            raise e.fail(
                key,
                f"= {origin:#x}: {size} bytes there do not lie in {machine_name}'s memory "
                f"({space.origin:#x}, {space.size} bytes)",
            )
    # Under -icount shift=0 an instruction is 1 ns, so one tick is 1e9 / cpu_clock_hz instructions: 40 on
    # mps2 (25 MHz), 5.95... on netduinoplus2 (168 MHz; edgexf/run/qemu.py rounds the counts it converts).
    if emu.cpu_clock_hz > 10**9:
        raise e.fail("cpu_clock_hz", f"= {emu.cpu_clock_hz} must be at most 1e9 (one instruction per tick)")
    return emu

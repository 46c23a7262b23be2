"""The evaluation firmware (firmware/app/eval_app.c, eval_frame.c, firmware/bsp/): its frames built
by host gcc against edgexf.eval.protocol; the board builds linked for the chips with their STM32
drivers and no semihosting; and, under QEMU on mps2-an500 (stm32f746's emulator) and netduinoplus2
(an STM32F405: the stm32f4 driver itself), every request of docs/eval_protocol.md answered, a sample
run bit-exact with the build's reference, errors named, and equal runs counting equal ticks."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import serial
import torch
from elftools.elf.elffile import ELFFile
from firmware.eval_client import Client

from edgexf.datasets import save_npz
from edgexf.errors import BoardError, RunError, ToolchainError
from edgexf.eval import protocol
from edgexf.eval.build import build_eval_builds, build_eval_firmware
from edgexf.eval.emulator import EmulatedBoard
from edgexf.eval.model_info import model_hash, model_info_from_report
from edgexf.eval.protocol import CounterKind, DeviceInfo, Hello, Type
from edgexf.pipeline import MemoryOptions, QuantOptions, compile_model
from edgexf.resources import firmware_dir
from edgexf.run.build_dir import read_report, run_build
from edgexf.run.qemu import instructions_per_tick, run_qemu
from edgexf.run.vectors import TestVectors, encode_inputs
from edgexf.targets.boards import load_board
from edgexf.targets.size import elf_sizes
from edgexf.targets.toolchain import build_firmware

DATA = Path(__file__).resolve().parents[1] / "data"
TINY_IO = {"inputs": [("a", 16), ("b", 4)], "outputs": [("y", 16), ("q", 4)]}  # tests/data/tiny_model


# ---- builds -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tools() -> None:
    for tool in ("gcc", "arm-none-eabi-gcc", "arm-none-eabi-objcopy", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def builds(tmp_path_factory, tools) -> dict[str, Path]:
    """A small MLP through `edgexf compile`'s pipeline: int8 for stm32f746, float32 for stm32f405 and
    stm32h743 (whose log is kept as log.txt)."""
    work = tmp_path_factory.mktemp("eval_fw")
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4)).eval()
    torch.export.save(torch.export.export(mlp, (torch.randn(1, 8),)), work / "mlp.pt2")
    calibration = np.random.default_rng(0).standard_normal((64, 1, 8)).astype(np.float32)
    quant = QuantOptions(save_npz(work / "calibration.npz", calibration))
    out = {}
    for name, board, q in (
        ("f746_int8", "stm32f746", quant),
        ("f405", "stm32f405", None),
        ("h743", "stm32h743", None),
    ):
        log: list[str] = []
        memory = MemoryOptions(exact_time_s=0)
        compile_model(
            work / "mlp.pt2", board, work / name, max_vectors=4, log=log.append, quant=q, memory=memory
        )
        (work / name / "log.txt").write_text("\n".join(log))
        out[name] = work / name
    return out


def tiny_info(board: str) -> dict:
    io = {
        k: [{"name": n, "dtype": "float32", "shape": [b], "bytes": b} for n, b in v]
        for k, v in TINY_IO.items()
    }
    return {"protocol": 1, "name": "tiny", "hash": model_hash(DATA / "tiny_model"), "board": board,
            "kernels": "portable", "arena_bytes": 40, "state_bytes": 0, **io}  # fmt: skip


def symbols(elf: Path) -> tuple[set[str], set[str]]:
    """(function and object names, source file names) of an ELF's symbol table."""
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        syms = [(s.name, s["st_info"]["type"]) for s in table.iter_symbols()]
    return {n for n, t in syms if t != "STT_FILE"}, {n for n, t in syms if t == "STT_FILE"}


# ---- the frames, on the host ------------------------------------------------------------------------
HOST_SHIM = r"""
#include "eval_frame.h"
static uint8_t sent[4096];
static uint32_t sent_n;
static eval_rx_t rx;

void bsp_uart_write(const uint8_t *p, uint32_t n) {
    while (n--) sent[sent_n++] = *p++;
}

uint32_t take_sent(uint8_t *dst) {
    uint32_t n = sent_n;
    for (uint32_t i = 0; i < n; i++) dst[i] = sent[i];
    sent_n = 0;
    return n;
}

int feed(uint8_t b) { return eval_rx_byte(&rx, b); }

/* the received frame's payload into dst; returns type << 24 | seq << 16 | length */
uint32_t rx_frame(uint8_t *dst) {
    for (uint32_t i = 0; i < rx.length; i++) dst[i] = rx.payload[i];
    return (uint32_t)rx.type << 24 | (uint32_t)rx.seq << 16 | rx.length;
}
"""


@pytest.fixture(scope="module")
def frames_lib(tmp_path_factory, tools) -> ctypes.CDLL:
    out = tmp_path_factory.mktemp("eval_frame")
    (out / "shim.c").write_text(HOST_SHIM)
    fw = firmware_dir()
    cmd = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", f"-I{fw / 'app'}",
           f"-I{fw / 'bsp'}", f"-I{fw / 'startup'}", str(fw / "app" / "eval_frame.c"), str(out / "shim.c"),
           "-o", str(out / "frames.so")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lib = ctypes.CDLL(str(out / "frames.so"))
    lib.eval_crc32.restype = lib.take_sent.restype = lib.rx_frame.restype = ctypes.c_uint32
    return lib


def test_frames_on_the_host_agree_with_the_protocol(frames_lib: ctypes.CDLL) -> None:
    lib, rng = frames_lib, np.random.default_rng(1)
    buf = ctypes.create_string_buffer(4096)
    for n in (0, 1, 7, 1024):
        data = rng.bytes(n)
        assert lib.eval_crc32(data, n) == zlib.crc32(data)
    lib.eval_send(0x85, 7, b"head", 4, b"body!", 5)
    n = lib.take_sent(buf)
    assert buf.raw[:n] == protocol.encode(0x85, 7, b"headbody!")

    good = [protocol.encode(t, s, rng.bytes(n)) for t, s, n in ((1, 1, 0), (4, 2, 300), (6, 255, 1024))]
    spoilt = bytearray(protocol.encode(5, 9, b"x"))
    spoilt[-1] ^= 0x01
    too_long = protocol.SYNC + bytes([4, 3]) + (1025).to_bytes(2, "little")
    stream = b"\x00\x55junk" + good[0] + bytes(spoilt) + b"\xaa\xaa" + good[1] + too_long + good[2]
    events, got = [], []
    for byte in stream:
        event = lib.feed(byte)
        if event:
            events.append(event)
        if event == 1:
            head = lib.rx_frame(buf)  # fills buf
            got.append(protocol.encode(head >> 24, (head >> 16) & 0xFF, buf.raw[: head & 0xFFFF]))
    assert events == [1, 2, 1, 3, 1]  # frame, bad CRC, frame, too long, frame
    assert got == good


# ---- the board builds ----------------------------------------------------------------------------
@pytest.mark.parametrize("board_name", ["stm32f746", "nucleo-f767zi", "stm32f405"])
def test_board_build_is_linked_for_the_chip_with_its_driver_and_fits(
    board_name: str, builds: dict[str, Path], tmp_path: Path
) -> None:
    board = load_board(board_name)
    if board_name == "stm32f746":  # as edgexf compile made it
        report = read_report(builds["f746_int8"])
        assert report["eval"] == {"board_build": True, "why_not": None}
        elf = builds["f746_int8"] / report["files"]["eval_elf"]
        assert (builds["f746_int8"] / report["files"]["eval_bin"]).is_file()
    else:
        elf = build_eval_firmware(board, DATA / "tiny_model", tmp_path, False, tiny_info(board_name)).elf
    with open(elf, "rb") as f:
        assert ELFFile(f).get_section_by_name(".isr_vector")["sh_addr"] == 0x08000000
    names, files = symbols(elf)
    driver = "stm32f4.c" if board_name == "stm32f405" else "stm32f7.c"
    assert driver in files and "mps2_uart.c" not in files
    assert {"bsp_init", "eval_rx_byte", "edgexf_run"} <= names
    assert "semihost_exit" not in names and "semihost.c" not in files  # runs with no debugger attached
    use = elf_sizes(elf, board)
    assert 0 < use.flash_bytes < board.flash.size and 0 < use.ram_bytes < board.ram.size


def test_a_missing_bsp_define_is_named(tmp_path: Path, tools) -> None:
    text = (load_board("nucleo-f767zi").path).read_text()
    variant = tmp_path / "no_hse.toml"
    variant.write_text(text.replace("HSE_HZ = 8_000_000", "# no HSE_HZ"))
    with pytest.raises(
        ToolchainError, match="BSP_HSE_HZ missing: add HSE_HZ to the board file's \\[bsp\\] defines"
    ):
        build_eval_firmware(load_board(variant), DATA / "tiny_model", tmp_path / "b", False, tiny_info("x"))


def test_a_board_without_bsp_gets_only_the_emulated_build(builds: dict[str, Path], tmp_path: Path) -> None:
    report = read_report(builds["h743"])
    assert report["eval"]["board_build"] is False and "has no [bsp] table" in report["eval"]["why_not"]
    assert report["files"]["eval_elf"] is None and report["files"]["eval_emulator_elf"]
    assert "note: no evaluation firmware for stm32h743 itself" in (builds["h743"] / "log.txt").read_text()
    h743 = load_board("stm32h743")
    with pytest.raises(BoardError, match=r"stm32h743 \(.*stm32h743.toml\) has no evaluation firmware driver"):
        build_eval_firmware(h743, DATA / "tiny_model", tmp_path, False, tiny_info("stm32h743"))
    evals = build_eval_builds(h743, DATA / "tiny_model", tmp_path, tiny_info("stm32h743"))
    assert evals.board is None and evals.emulator is not None and "[bsp]" in evals.why_not


# ---- in QEMU -------------------------------------------------------------------------------------
EMULATED = {
    "f746_int8": ("Cortex-M7", 25_000_000, 25_000_000, ""),
    "f405": ("Cortex-M4", 16_000_000, 168_000_000, "HSE did not start"),
}


@pytest.fixture(scope="module", params=list(EMULATED))
def session(request, builds: dict[str, Path]):
    """(build directory, report, QEMU running its emulated evaluation firmware, a client on its UART)."""
    build = builds[request.param]
    report = read_report(build)
    board = load_board(report["board"])
    with EmulatedBoard(board, build / report["files"]["eval_emulator_elf"]) as emu:
        yield request.param, build, report, emu, Client(emu.serial)


def test_hello_device_info_and_model_info(session) -> None:
    name, build, report, emu, client = session
    core, clock_hz, counter_hz, note = EMULATED[name]
    assert emu.ready == f"edgexf evaluation firmware ready: {report['board']}, protocol 1"
    assert Hello.parse(client.request(Type.HELLO).payload) == Hello(b"EDGEXF", 1, 1024)
    info = DeviceInfo.parse(client.request(Type.DEVICE_INFO).payload)
    assert (info.board, info.core, info.clock_hz, info.counter_hz) == (
        report["board"],
        core,
        clock_hz,
        counter_hz,
    )
    assert info.counter_kind == CounterKind.QEMU_SYSTICK and info.emulated and info.note.startswith(note)
    model = protocol.parse_model_info(client.request(Type.MODEL_INFO).payload)
    assert model == model_info_from_report(report)
    assert model["hash"] == report["model_hash"] == model_hash(build / report["files"]["sources"])


def test_a_sample_is_bit_exact_and_equal_runs_count_equal_ticks(session) -> None:
    name, build, report, emu, client = session
    vectors = TestVectors.load(build)
    (inp,), (out,) = report["inputs"], report["outputs"]
    for i in (0, 3):
        data = encode_inputs(vectors.x[i : i + 1], inp).tobytes()
        outputs, counter = client.run_sample([data], [out["bytes"]], chunk=5)  # several chunks each way
        assert outputs == [vectors.reference[i].tobytes()]
        again, counter_again = client.run_sample([data], [out["bytes"]], chunk=1019)
        assert again == outputs and counter_again == counter > 0  # the tick phase is the same each run


def test_errors_name_the_problem(session) -> None:
    name, build, report, emu, client = session
    (inp,) = report["inputs"]
    client.seq += 1
    frame = bytearray(protocol.encode(Type.HELLO, client.seq))
    frame[-1] ^= 0xFF
    client.port.write(bytes(frame))
    (answer,) = client.frames(1)
    assert answer.type == Type.ERROR and answer.seq == client.seq
    assert protocol.parse_error(answer.payload) == (
        1,
        "bad CRC: dropped a frame of type 0x01 announcing 0 bytes",
    )
    assert client.error(Type.WRITE_INPUT, protocol.write_input(3, 0, b"x")) == (
        4, "input 3 is out of range: the model has 1 input")  # fmt: skip
    size = inp["bytes"]
    outside = f"input 0 ({inp['name']}) has {size} bytes: 2 at offset {size - 1} are outside it"
    assert client.error(Type.WRITE_INPUT, protocol.write_input(0, size - 1, b"xy")) == (4, outside)
    assert client.error(Type.READ_OUTPUT, protocol.read_output(0, 0, 0))[0] == 4
    assert client.error(0x42) == (3, "unknown request type 0x42 (requests are 0x01 to 0x06)")
    assert client.error(Type.HELLO, b"?") == (5, "HELLO takes no payload; got 1 bytes")
    assert client.error(Type.READ_OUTPUT, b"\0\0\0")[0] == 5
    client.port.write(protocol.SYNC + bytes([1, 77]) + (4000).to_bytes(2, "little"))  # announces 4000 bytes
    (answer,) = client.frames(1)
    assert answer.type == Type.ERROR and answer.seq == 77 and protocol.parse_error(answer.payload)[0] == 2
    garbage = bytes(range(0x00, 0xA0)) + b"\x55\x00" * 8  # no sync in it
    assert client.request(Type.HELLO, prefix=garbage).type == Type.HELLO | protocol.RESPONSE
    assert emu.exit_code() is None


def test_protocol_version_and_faults(builds: dict[str, Path], tmp_path: Path) -> None:
    """A build that speaks version 2 says so; a fault is a LOG frame, then QEMU exits with its code."""
    board = load_board("stm32f746")
    v2 = build_eval_firmware(board, DATA / "tiny_model", tmp_path / "v2", True, tiny_info("stm32f746"),
                             defines=("EDGEXF_EVAL_PROTOCOL_VERSION=2",))  # fmt: skip
    with EmulatedBoard(board, v2.elf) as emu:
        assert Hello.parse(Client(emu.serial).request(Type.HELLO).payload).version == 2
    info = tiny_info("stm32f746") | {"inputs": [], "outputs": []}
    fault = build_eval_firmware(board, DATA / "fault_model", tmp_path / "fault", True, info)
    with EmulatedBoard(board, fault.elf) as emu:
        client = Client(emu.serial)
        client.port.write(protocol.encode(Type.RUN, 5))
        (log,) = client.frames(1)
        assert log.type == Type.LOG and log.seq == 0
        assert log.payload.decode().startswith("edgexf: BusFault exception=0x00000005 pc=")
        assert emu.wait(10) == 12 and "edgexf: BusFault" in emu.output()  # PLAT_EXIT_BUSFAULT


def test_emulated_board_for_a_proxy_and_its_errors(builds: dict[str, Path], tmp_path: Path) -> None:
    report = read_report(builds["f405"])
    board, elf = load_board("stm32f405"), builds["f405"] / report["files"]["eval_emulator_elf"]
    with EmulatedBoard(board, elf, connect=False) as emu:
        assert emu.serial is None and emu.url == f"socket://127.0.0.1:{emu.port}"
        client = Client(serial.serial_for_url(emu.url, timeout=5))
        assert client.frames(1)[0].type == Type.LOG  # ready: only now may the host write
        assert client.request(Type.HELLO).type == Type.HELLO | protocol.RESPONSE
        client.port.close()
    f746 = read_report(builds["f746_int8"])["files"]["eval_elf"]  # the F405's own map is netduinoplus2's
    with pytest.raises(RunError, match="not linked for mps2-an500"):
        EmulatedBoard(load_board("stm32f746"), builds["f746_int8"] / f746)
    with pytest.raises(
        RunError, match="exited with status 2 without the evaluation firmware saying it is ready"
    ):
        EmulatedBoard(board, builds["f405"] / report["files"]["emulator_elf"])  # the runner: no UART frames


def test_netduinoplus2_systick_runs_at_168_mhz(builds: dict[str, Path], tmp_path: Path) -> None:
    """The figure in boards/stm32f405.toml: the runner's loop of 2n instructions, timed by SysTick; and
    the stm32f405 build's runner passes `edgexf run --emulate --check` on netduinoplus2."""
    assert run_build(builds["f405"], emulate=True, check=True).agreement.ok
    board = load_board("stm32f405")
    assert board.emulator is not None and instructions_per_tick(board.emulator) == pytest.approx(1e9 / 168e6)
    fw = build_firmware(board, DATA / "loop_model", tmp_path, emulated=True)
    n = np.array([1_000, 1_000_000, 5_000_000], np.uint32)
    result = run_qemu(board, fw.elf, n.tobytes(), 4, timeout=30)
    slope = (result.ticks[-1] - result.ticks[0]) / (2 * (int(n[-1]) - int(n[0])))  # ticks per instruction
    assert slope * 1e9 == pytest.approx(168e6, rel=1e-5)
    overhead = np.array(result.instructions) - 2 * n.astype(np.int64)
    assert np.all((0 <= overhead) & (overhead <= 60)), overhead

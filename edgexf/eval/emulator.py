"""The emulated board: QEMU running an emulated evaluation firmware build, its UART on a TCP port.

    with EmulatedBoard(board, elf) as emu:
        emu.serial.write(...)       # a connected pyserial object, as a real board's port would be
        emu.output()                # QEMU's stdout and stderr so far (semihosting text: fault reports)
        emu.exit_code()             # None while QEMU runs

QEMU runs with -icount shift=0,align=off,sleep=off (deterministic instruction counts, see
edgexf/run/qemu.py) and `-serial tcp:...,server=on,wait=on,nodelay=on`: it holds the guest until a
client connects (so no early byte is lost) and sends each byte at once (without nodelay every reply
waits ~45 ms).

The firmware starts when the client connects, and QEMU's STM32 USART (netduinoplus2) drops the bytes
that arrive before the firmware has turned it on (mps2's UART holds them back). So EmulatedBoard
waits for the firmware's first frame, the LOG "edgexf evaluation firmware ready: ..." it sends once
its UART is on (kept as emu.ready), before anyone writes. The port is a free one unless given;
connect=False leaves connecting, and waiting for that frame, to the caller (emu.url): e.g. a test that
puts a proxy in between.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

import serial

from edgexf.errors import RunError
from edgexf.eval.protocol import Decoder
from edgexf.run.qemu import ICOUNT, board_emulator, check_linked_for
from edgexf.targets.boards import Board
from edgexf.targets.toolchain import find_tool

LISTEN_TIMEOUT_S = 10.0  # QEMU starts in well under a second; a loaded machine may take a few
READY_TIMEOUT_S = 30.0  # the firmware's start-up, as QEMU runs it (0.1 s to set a board's clocks)
_RETRY_S = 0.02
_STOP_TIMEOUT_S = 5.0
_LISTENING = "waiting for connection on"  # QEMU's note on stderr once a server=on,wait=on socket listens


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it). Another process could take it before QEMU
    does: QEMU then fails to start and EmulatedBoard says so."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatedBoard:
    """QEMU running `elf` (an emulated build for `board`) with its UART behind a local TCP port."""

    def __init__(
        self, board: Board, elf: Path, *, port: int | None = None, connect: bool = True, timeout: float = 5.0
    ):
        """timeout: the serial object's read timeout in seconds."""
        emulator = board_emulator(board)
        elf = Path(elf)
        if not elf.is_file():
            raise RunError(f"{elf} does not exist: build the evaluation firmware first (edgexf compile)")
        check_linked_for(elf, board, emulator)
        self.board, self.elf, self.timeout = board, elf, timeout
        self.port = free_port() if port is None else port
        self.url = f"socket://127.0.0.1:{self.port}"
        self.serial: serial.SerialBase | None = None
        self.ready: str | None = None  # the firmware's "ready" LOG text, once connected
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: QEMU never blocks on a full pipe
        self.command = [
            find_tool("qemu-system-arm"),
            "-icount", ICOUNT,
            "-M", emulator.machine,
            "-display", "none",
            "-monitor", "none",
            "-semihosting-config", "enable=on,target=native",
            "-serial", f"tcp:127.0.0.1:{self.port},server=on,wait=on,nodelay=on",
            "-kernel", str(elf.resolve()),
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        # an EmulatedBoard dropped without stop() (or `with`) must not leave QEMU spinning
        weakref.finalize(self, _end, self._proc)
        try:
            self._wait_listening()
            if connect:
                self.serial = self.connect()
                self.ready = self._wait_ready(self.serial)
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self) -> None:
        """Until QEMU listens on the port, which it says ("QEMU waiting for connection on: ...") once
        it does. Probing with a connection would take the one QEMU serves (wait=on: the first)."""
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        while _LISTENING not in self.output():
            if self._proc.poll() is not None:
                raise RunError(
                    f"QEMU exited (status {self._proc.returncode}) before listening on port {self.port} for "
                    f"{self.elf}. Its output:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise RunError(
                    f"QEMU did not listen on port {self.port} within {LISTEN_TIMEOUT_S:g} s for {self.elf}. "
                    f"Its output:\n{self.output()}"
                )
            time.sleep(_RETRY_S)

    def connect(self) -> serial.SerialBase:
        """A pyserial connection to QEMU's UART, retried until QEMU accepts it (bounded)."""
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        while True:
            try:
                return serial.serial_for_url(self.url, timeout=self.timeout)
            except serial.SerialException as e:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RunError(
                        f"cannot connect to QEMU's UART at {self.url} ({e}). QEMU's output:\n{self.output()}"
                    ) from e
                time.sleep(_RETRY_S)

    def _wait_ready(self, port: serial.SerialBase) -> str:
        """Reads until the firmware's first frame (its "ready" LOG) and returns its text."""
        decoder, deadline = Decoder(), time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                frames = decoder.feed(port.read(max(1, port.in_waiting)))
            except serial.SerialException:  # QEMU exited and closed the socket
                break
            if frames:
                return frames[0].payload.decode("utf-8", "replace")
        try:
            status = f"exited with status {self._proc.wait(1)}"
        except subprocess.TimeoutExpired:
            status = f"ran {READY_TIMEOUT_S:g} s"
        raise RunError(
            f"QEMU {status} without the evaluation firmware saying it is ready on its UART: is {self.elf} "
            f"an evaluation firmware build (eval/emulator/app.elf)? QEMU's output:\n{self.output()}"
        )

    def output(self) -> str:
        """QEMU's stdout and stderr so far: its own messages and the firmware's semihosting text."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def exit_code(self) -> int | None:
        """QEMU's exit status (the firmware's through semihosting), or None while it runs."""
        return self._proc.poll()

    def wait(self, timeout: float) -> int:
        """Waits for QEMU to exit (e.g. after a fault); RunError if it still runs after `timeout` s."""
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise RunError(f"QEMU running {self.elf} did not exit within {timeout:g} s") from None

    def stop(self) -> None:
        """Closes the connection and ends QEMU (terminate, then kill); safe to call twice."""
        if self.serial is not None:
            self.serial.close()
            self.serial = None
        _end(self._proc)

    def __enter__(self) -> EmulatedBoard:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self._log.close()


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

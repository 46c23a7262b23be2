"""Requests and their responses over a serial link, with the recovery of docs/eval_protocol.md.

`Link` wraps any pyserial-like object (read(n), write(b), timeout): a real serial port, or QEMU's
emulated UART through serial_for_url("socket://..."). One request at a time: each attempt gets a
new seq; the response with that seq is the answer, responses with other seqs are late answers to
earlier attempts and are dropped. A timeout, a frame with a bad CRC or an ERROR "bad CRC" ends the
attempt: the host flushes (protocol.FLUSH: zeros that finish and spoil any half-received frame),
drains what the device still sends, and tries again, ATTEMPTS in all. LOG frames are the device
speaking on its own (e.g. a fault report): they are handed to `on_log` wherever they arrive.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from serial import SerialException, SerialTimeoutException

from edgexf.errors import LinkError
from edgexf.eval import protocol
from edgexf.eval.protocol import CRC, HEADER, MAX_PAYLOAD, RESPONSE, Decoder, ErrorCode, Frame, Type

ATTEMPTS = 3  # per request, as the protocol says
POLL_S = 0.05  # the serial object's read timeout: how often a wait checks its deadline
QUIET_S = 0.05  # draining after a flush stops once the line has been silent this long...
MAX_DRAIN_S = 2.0  # ...or after this long (a device that talks without end)
CHECK_BOARD = (
    "check that the board runs this build's evaluation firmware (edgexf flash DIR), that the port is "
    "the board's, and that the board is powered"
)


class DeviceError(LinkError):
    """The device answered a request with an ERROR frame (docs/eval_protocol.md's codes)."""

    def __init__(self, code: int, message: str, request: str, port: str):
        self.code, self.device_message = code, message
        try:
            what = ErrorCode(code).name.lower().replace("_", " ")
        except ValueError:
            what = "unknown error"
        super().__init__(f"{port} answered {request} with error {code} ({what}): {message}")


@dataclass
class LinkStats:
    """What it took to get the answers: reported at the end of an evaluation."""

    requests: int = 0
    retries: int = 0  # attempts beyond the first
    timeouts: int = 0
    bad_frames: int = 0  # dropped for their CRC or length (the decoder's count)
    dropped_bytes: int = 0  # bytes that were no frame (the decoder's count, and drained bytes)
    late_answers: int = 0  # responses to earlier attempts, dropped
    device_crc_errors: int = 0  # ERROR "bad CRC" or "too long": the device got a spoilt request

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _log_to_stderr(text: str) -> None:
    print(f"device: {text}", file=sys.stderr)


class Link:
    """Requests over `serial` (pyserial-like); `port` names it in messages ("/dev/ttyACM0", "QEMU ...")."""

    def __init__(
        self,
        serial,
        port: str,
        on_log: Callable[[str], None] = _log_to_stderr,
        check: str = CHECK_BOARD,
        baud: int | None = 115200,
    ):
        """baud: the line's speed, for how long a flush takes to cross it; None for an emulated UART
        (no line: QEMU passes bytes at once)."""
        self.serial, self.port, self.on_log, self.check = serial, port, on_log, check
        self.serial.timeout = POLL_S
        if hasattr(self.serial, "write_timeout"):
            self.serial.write_timeout = 5.0  # a device that stops reading: an error, not a hang
        self.decoder = Decoder()
        self.logs: list[str] = []
        self.stats = LinkStats()
        self._seq = 0
        self._frames: list[Frame] = []  # decoded, not yet looked at
        # a flush at the line's speed takes len(FLUSH) * 10 bits / baud: wait that before calling it quiet
        self._quiet_s = QUIET_S + (len(protocol.FLUSH) * 10 / baud if baud else 0)

    # ---- requests ------------------------------------------------------------------------------

    def request(
        self,
        type_: int,
        payload: bytes = b"",
        timeout: float = 2.0,
        before_retry: Callable[[], None] | None = None,
    ) -> Frame:
        """Send a request and return its response frame (type_ | RESPONSE), retrying as the protocol says.

        before_retry: called before each repeat, after the resync. RUN needs it: edgexf_run overwrites
        its inputs (the planner reuses their bytes), so a RUN whose answer was lost after it ran would
        run again on spoilt inputs; the session writes them again first.

        Raises DeviceError for an ERROR answer (other than "bad CRC" and "too long", which only line
        noise causes and are retried), LinkError when the connection is lost or no good answer came in
        ATTEMPTS tries of `timeout` seconds each.
        """
        name = _name(type_)
        self.stats.requests += 1
        failures = []
        garbage_before = self._garbage()
        for attempt in range(ATTEMPTS):
            if attempt:
                self.stats.retries += 1
                self.resync(name)
                if before_retry is not None:
                    before_retry()
            seq = self._next_seq()
            self._write(protocol.encode(type_, seq, payload), name)
            outcome = self._await(seq, name, timeout)
            if isinstance(outcome, Frame):
                if outcome.type != type_ | RESPONSE:
                    raise LinkError(
                        f"{self.port} answered {name} with {outcome.name()}: this is not the evaluation "
                        f"protocol version {protocol.VERSION} that this edgexf speaks; {self.check}"
                    )
                return outcome
            failures.append(outcome)
        bad, stray = (now - before for now, before in zip(self._garbage(), garbage_before, strict=True))
        raise self._no_answer(name, timeout, failures, bad, stray)

    def _await(self, seq: int, name: str, timeout: float) -> Frame | str:
        """The response with `seq`, or why the attempt failed (a phrase for the final message)."""
        deadline = time.monotonic() + timeout
        bad_before = self.decoder.bad_frames
        while True:
            for frame in self._take_frames():
                if frame.type == Type.ERROR:
                    code, message = protocol.parse_error(frame.payload)
                    # our request arrived spoilt (or an older one did): a bad CRC, or a length over
                    # MAX_PAYLOAD that encode() never sends
                    if code in (ErrorCode.BAD_CRC, ErrorCode.TOO_LONG):
                        self.stats.device_crc_errors += 1
                        if frame.seq == seq:
                            return "the device received it spoilt"
                        continue
                    if frame.seq == seq:
                        raise DeviceError(code, message, name, self.port)
                if frame.seq != seq:
                    self.stats.late_answers += 1
                    continue
                return frame
            if self.decoder.bad_frames > bad_before:
                return "its answer had a bad CRC"
            if time.monotonic() >= deadline:
                self.stats.timeouts += 1
                return "no answer"
            self._receive(name)

    def _next_seq(self) -> int:
        self._seq = self._seq % 255 + 1  # 1..255: seq 0 is the device's own (LOG)
        return self._seq

    # ---- bytes ---------------------------------------------------------------------------------

    def _take_frames(self) -> list[Frame]:
        """Frames decoded so far, LOG frames handed to on_log and left out."""
        frames, self._frames = self._frames, []
        kept = []
        for frame in frames:
            if frame.type == Type.LOG:
                text = frame.payload.decode("utf-8", "replace").rstrip("\n")
                self.logs.append(text)
                self.on_log(text)
            else:
                kept.append(frame)
        return kept

    def _receive(self, name: str) -> int:
        """Read what the line has (waiting at most POLL_S), decode it; returns the bytes read."""
        want = max(_bytes_wanted(self.decoder.buffer), getattr(self.serial, "in_waiting", 0) or 0)
        try:
            data = self.serial.read(want)
        except (SerialException, OSError) as e:
            raise self._lost(name, e) from e
        if data:
            self._frames += self.decoder.feed(data)
            self._sync_stats()
        return len(data)

    def _write(self, data: bytes, name: str) -> None:
        try:
            self.serial.write(data)
            if hasattr(self.serial, "flush"):
                self.serial.flush()
        except SerialTimeoutException as e:
            raise LinkError(
                f"{self.port} stopped taking data while {name} was sent (write timed out): "
                f"the device hangs or has stopped; reset it. {self.check}"
            ) from e
        except (SerialException, OSError) as e:
            raise self._lost(name, e) from e

    def resync(self, name: str = "a resync") -> None:
        """Spoil any half-received frame on the device, then drain what it still sends (LOG frames
        are still handed on). Before a retry, and before the first request to a board that an earlier
        host may have left halfway through a frame."""
        self._write(protocol.FLUSH, name)
        start = last = time.monotonic()
        while True:
            now = time.monotonic()
            if now - last >= self._quiet_s or now - start >= MAX_DRAIN_S:
                break
            if self._receive(name):
                last = time.monotonic()
        for _ in self._take_frames():  # answers to what was flushed: late, whatever they say
            self.stats.late_answers += 1
        self.decoder.dropped_bytes += len(self.decoder.buffer)
        self.decoder.buffer.clear()
        self._sync_stats()

    def _sync_stats(self) -> None:
        self.stats.bad_frames = self.decoder.bad_frames
        self.stats.dropped_bytes = self.decoder.dropped_bytes

    # ---- messages ------------------------------------------------------------------------------

    def _lost(self, name: str, e: Exception) -> LinkError:
        return LinkError(f"connection to {self.port} lost during {name}: {e}{self._said()}")

    def _no_answer(self, name: str, timeout: float, failures: list[str], bad: int, stray: int) -> LinkError:
        """bad, stray: the bad frames and stray bytes that came while this request was tried."""
        waited = f"{ATTEMPTS} attempts of {timeout:g} s"
        if all(f == "no answer" for f in failures) and not bad and not stray:
            return LinkError(f"no answer from {self.port} to {name} ({waited}): {self.check}{self._said()}")
        return LinkError(
            f"no good answer from {self.port} to {name} ({waited}: {'; '.join(failures)}; {bad} bad frames, "
            f"{stray} stray bytes): the line garbles data; check the baud rate (the firmware uses 115200), "
            f"the cable and the port{self._said()}"
        )

    def _garbage(self) -> tuple[int, int]:
        return self.decoder.bad_frames, self.decoder.dropped_bytes

    def _said(self) -> str:
        if not self.logs:
            return ""
        return "\nthe device said:\n" + "\n".join(f"    {line}" for line in self.logs[-5:])


def _name(type_: int) -> str:
    try:
        return Type(type_).name
    except ValueError:
        return f"request {type_:#04x}"


def _bytes_wanted(buffer: bytearray) -> int:
    """How many more bytes could complete the frame that `buffer` starts: what a read can wait for
    without overrunning the response (at least 1). Reading whole frames at once keeps a socket link
    from costing one system call per byte."""
    if len(buffer) < HEADER.size or buffer[:2] != protocol.SYNC:
        return max(1, HEADER.size + CRC.size - len(buffer))
    length = min(int.from_bytes(buffer[4:6], "little"), MAX_PAYLOAD)
    return max(1, HEADER.size + length + CRC.size - len(buffer))

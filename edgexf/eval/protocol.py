"""The evaluation protocol's frames and payloads (docs/eval_protocol.md), host side.

Pure bytes in, bytes out: no I/O here (edgexf/eval/link.py does the talking). The firmware's side
is firmware/app/eval_frame.c and eval_app.c.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from enum import IntEnum

VERSION = 1
MAGIC = b"EDGEXF"
SYNC = b"\xaa\x55"
MAX_PAYLOAD = 1024
HEADER = struct.Struct("<2sBBH")  # sync, type, seq, length
CRC = struct.Struct("<I")
MAX_FRAME = HEADER.size + MAX_PAYLOAD + CRC.size
FLUSH = bytes(MAX_FRAME + 6)  # zeros: finishes (and spoils) any frame the device is halfway through
CHUNK_HEADER = struct.Struct("<BI")  # WRITE_INPUT: input index, offset
MAX_WRITE_CHUNK = MAX_PAYLOAD - CHUNK_HEADER.size
READ_REQUEST = struct.Struct("<BIH")  # READ_OUTPUT: output index, offset, length
RESULT = struct.Struct("<iQ")  # RUN's answer: status, counter
HELLO = struct.Struct("<6sHH")  # magic, version, max payload
DEVICE_INFO = struct.Struct("<IIBBHI")  # cpuid, clock, flags, counter kind, reserved, counter Hz
ERROR_CODE = struct.Struct("<H")


class Type(IntEnum):
    HELLO = 0x01
    DEVICE_INFO = 0x02
    MODEL_INFO = 0x03
    WRITE_INPUT = 0x04
    RUN = 0x05
    READ_OUTPUT = 0x06
    # responses: request | RESPONSE
    ACK = 0x84
    RESULT = 0x85
    DATA = 0x86
    LOG = 0xFE
    ERROR = 0xFF


RESPONSE = 0x80


class ErrorCode(IntEnum):
    BAD_CRC = 1
    TOO_LONG = 2
    UNKNOWN_TYPE = 3
    BAD_ARGUMENT = 4
    BAD_SIZE = 5


class CounterKind(IntEnum):
    DWT_CYCLES = 1
    SYSTICK = 2
    QEMU_SYSTICK = 3  # SysTick under -icount shift=0: 1 instruction = 1 ns


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def encode(type_: int, seq: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes is over the protocol's {MAX_PAYLOAD}")
    body = HEADER.pack(SYNC, type_, seq & 0xFF, len(payload))[2:] + payload
    return SYNC + body + CRC.pack(crc32(body))


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes

    def name(self) -> str:
        try:
            return Type(self.type).name
        except ValueError:
            return f"type {self.type:#04x}"


@dataclass
class Decoder:
    """Frames out of a byte stream, resynchronizing after garbage: feed bytes, collect frames.

    A frame with a length over MAX_PAYLOAD or a bad CRC is dropped and the search for the sync
    resumes at the byte after its sync, so a frame that started inside the garbage is still found.
    """

    buffer: bytearray = field(default_factory=bytearray)
    dropped_bytes: int = 0  # bytes skipped while looking for a frame
    bad_frames: int = 0  # frames dropped for their CRC or length

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                keep = 1 if self.buffer.endswith(SYNC[:1]) else 0
                self.dropped_bytes += len(self.buffer) - keep
                del self.buffer[: len(self.buffer) - keep]
                return frames
            self.dropped_bytes += start
            del self.buffer[:start]
            if len(self.buffer) < HEADER.size:
                return frames
            _, type_, seq, length = HEADER.unpack_from(self.buffer)
            if length > MAX_PAYLOAD:
                self._drop_sync()
                continue
            end = HEADER.size + length + CRC.size
            if len(self.buffer) < end:
                return frames
            body = bytes(self.buffer[2 : HEADER.size + length])
            (crc,) = CRC.unpack_from(self.buffer, HEADER.size + length)
            if crc != crc32(body):
                self._drop_sync()
                continue
            frames.append(Frame(type_, seq, bytes(self.buffer[HEADER.size : HEADER.size + length])))
            del self.buffer[:end]

    def _drop_sync(self) -> None:
        self.bad_frames += 1
        self.dropped_bytes += 1
        del self.buffer[:1]


# ---- payloads ----------------------------------------------------------------------------------


class PayloadError(ValueError):
    """A response's payload does not have the layout its type promises."""


def _unpack(s: struct.Struct, payload: bytes, what: str) -> tuple:
    if len(payload) < s.size:
        raise PayloadError(f"{what} payload has {len(payload)} bytes, expected at least {s.size}")
    return s.unpack_from(payload)


@dataclass(frozen=True)
class Hello:
    magic: bytes
    version: int
    max_payload: int

    @classmethod
    def parse(cls, payload: bytes) -> Hello:
        return cls(*_unpack(HELLO, payload, "HELLO"))

    def pack(self) -> bytes:
        return HELLO.pack(self.magic, self.version, self.max_payload)


@dataclass(frozen=True)
class DeviceInfo:
    cpuid: int
    clock_hz: int
    flags: int
    counter_kind: int
    counter_hz: int
    board: str
    note: str

    @property
    def icache(self) -> bool:
        return bool(self.flags & 1)

    @property
    def dcache(self) -> bool:
        return bool(self.flags & 2)

    @property
    def emulated(self) -> bool:
        return bool(self.flags & 4)

    @property
    def core(self) -> str:
        """The core's name from CPUID's part number (Armv7-M ARM, B3.2.3)."""
        part = (self.cpuid >> 4) & 0xFFF
        names = {0xC20: "Cortex-M0", 0xC60: "Cortex-M0+", 0xC23: "Cortex-M3", 0xC24: "Cortex-M4"}
        names |= {0xC27: "Cortex-M7", 0xD21: "Cortex-M33", 0xD22: "Cortex-M55"}
        return names.get(part, f"part {part:#05x}")

    @property
    def counter_unit(self) -> str:
        return {CounterKind.DWT_CYCLES: "cycles", CounterKind.QEMU_SYSTICK: "instructions"}.get(
            self.counter_kind, "ticks"
        )

    def counter_value(self, raw: int) -> float:
        """A RESULT's counter in counter_unit: cycles, instructions (QEMU) or ticks."""
        if self.counter_kind == CounterKind.QEMU_SYSTICK:
            return raw * 1e9 / self.counter_hz
        return float(raw)

    @classmethod
    def parse(cls, payload: bytes) -> DeviceInfo:
        cpuid, clock, flags, kind, _, hz = _unpack(DEVICE_INFO, payload, "DEVICE_INFO")
        strings = payload[DEVICE_INFO.size :].split(b"\0")
        if len(strings) < 3:
            raise PayloadError("DEVICE_INFO lacks its NUL-terminated board name and note")
        board, note = (s.decode("utf-8", "replace") for s in strings[:2])
        return cls(cpuid, clock, flags, kind, hz, board, note)

    def pack(self) -> bytes:
        head = DEVICE_INFO.pack(self.cpuid, self.clock_hz, self.flags, self.counter_kind, 0, self.counter_hz)
        return head + self.board.encode() + b"\0" + self.note.encode() + b"\0"

    def to_dict(self) -> dict:
        return {
            "board": self.board,
            "core": self.core,
            "cpuid": f"{self.cpuid:#010x}",
            "clock_hz": self.clock_hz,
            "icache": self.icache,
            "dcache": self.dcache,
            "emulated": self.emulated,
            "counter": self.counter_unit,
            "counter_hz": self.counter_hz,
            "note": self.note,
        }


def model_info_json(info: dict) -> bytes:
    """MODEL_INFO's payload as the firmware carries it (compact JSON); checked to fit one frame."""
    data = json.dumps(info, separators=(",", ":")).encode()
    if len(data) > MAX_PAYLOAD:
        raise ValueError(f"model info is {len(data)} bytes of JSON, over one frame's {MAX_PAYLOAD}")
    return data


def parse_model_info(payload: bytes) -> dict:
    try:
        info = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PayloadError(f"MODEL_INFO is not JSON: {e}") from e
    if not isinstance(info, dict) or "hash" not in info:
        raise PayloadError("MODEL_INFO's JSON has no 'hash'")
    return info


def write_input(index: int, offset: int, data: bytes) -> bytes:
    return CHUNK_HEADER.pack(index, offset) + data


def read_output(index: int, offset: int, length: int) -> bytes:
    return READ_REQUEST.pack(index, offset, length)


def parse_result(payload: bytes) -> tuple[int, int]:
    """RESULT: (status, counter)."""
    return _unpack(RESULT, payload, "RESULT")


def parse_error(payload: bytes) -> tuple[int, str]:
    (code,) = _unpack(ERROR_CODE, payload, "ERROR")
    return code, payload[ERROR_CODE.size :].decode("utf-8", "replace")

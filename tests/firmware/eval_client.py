"""A bare client of the evaluation protocol for the firmware tests: frames from edgexf.eval.protocol,
no retries (edgexf/eval/link.py is what users get), so every byte the device sends is seen."""

from __future__ import annotations

import time

import serial

from edgexf.eval import protocol
from edgexf.eval.protocol import Frame


class Client:
    def __init__(self, port: serial.SerialBase):
        self.port = port
        self.decoder = protocol.Decoder()
        self.pending: list[Frame] = []
        self.seq = 0

    def frames(self, n: int = 1, timeout: float = 10.0) -> list[Frame]:
        """The next n frames the device sends."""
        deadline = time.monotonic() + timeout
        while len(self.pending) < n:
            assert time.monotonic() < deadline, f"{len(self.pending)} of {n} frames within {timeout} s"
            self.pending += self.decoder.feed(self.port.read(max(1, self.port.in_waiting)))
        got, self.pending = self.pending[:n], self.pending[n:]
        return got

    def request(self, type_: int, payload: bytes = b"", prefix: bytes = b"") -> Frame:
        """Sends a request (after `prefix`, e.g. garbage); returns the one frame that answers it."""
        self.seq = self.seq % 255 + 1
        self.port.write(prefix + protocol.encode(type_, self.seq, payload))
        (frame,) = self.frames(1)
        assert frame.seq == self.seq, f"answer to seq {frame.seq}, asked with {self.seq}: {frame}"
        return frame

    def error(self, type_: int, payload: bytes = b"") -> tuple[int, str]:
        """(code, message) of the ERROR the request must get."""
        frame = self.request(type_, payload)
        assert frame.type == protocol.Type.ERROR, f"expected an ERROR, got {frame}"
        return protocol.parse_error(frame.payload)

    def run_sample(self, inputs: list[bytes], output_bytes: list[int], chunk: int) -> tuple[list[bytes], int]:
        """WRITE_INPUT (in chunks of `chunk` bytes), RUN, READ_OUTPUT (same chunks): outputs, counter."""
        for index, data in enumerate(inputs):
            for offset in range(0, len(data), chunk):
                part = protocol.write_input(index, offset, data[offset : offset + chunk])
                assert self.request(protocol.Type.WRITE_INPUT, part).type == protocol.Type.ACK
        frame = self.request(protocol.Type.RUN)
        assert frame.type == protocol.Type.RESULT, frame
        status, counter = protocol.parse_result(frame.payload)
        assert status == 0
        outputs = []
        for index, size in enumerate(output_bytes):
            parts = []
            for offset in range(0, size, chunk):
                length = min(chunk, size - offset)
                frame = self.request(protocol.Type.READ_OUTPUT, protocol.read_output(index, offset, length))
                assert frame.type == protocol.Type.DATA and len(frame.payload) == length, frame
                parts.append(frame.payload)
            outputs.append(b"".join(parts))
        return outputs, counter

"""edgexf/eval/link.py against a scripted peer over TCP: the recovery rules of docs/eval_protocol.md.

The peer is a few lines of Python that answer each request as a test says (a late answer, a spoilt
CRC, an ERROR, silence), which the real firmware cannot be made to do on cue; tests/eval/test_eval_qemu.py
runs the same code against the firmware in QEMU.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import serial

from edgexf.errors import LinkError
from edgexf.eval import protocol
from edgexf.eval.link import DeviceError, Link
from edgexf.eval.protocol import Decoder, Frame, Type

HELLO = protocol.Hello(protocol.MAGIC, 1, 1024).pack()


class Peer:
    """Takes one connection; answers request number n with answer(frame, n): bytes, or None: hang up."""

    def __init__(self, answer):
        self.answer, self.requests = answer, []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.server.accept()
        decoder = Decoder()
        with conn:
            while data := conn.recv(4096):
                for frame in decoder.feed(data):
                    self.requests.append(frame)
                    out = self.answer(frame, len(self.requests) - 1)
                    if out is None:
                        return
                    conn.sendall(out)

    def link(self, logs=None) -> Link:
        port = serial.serial_for_url(f"socket://127.0.0.1:{self.port}", timeout=1)
        return Link(port, "the peer", on_log=(logs.append if logs is not None else print))


def reply(frame: Frame, payload: bytes = HELLO) -> bytes:
    return protocol.encode(frame.type | protocol.RESPONSE, frame.seq, payload)


def test_answer_with_a_log_and_a_late_answer_on_the_way():
    def answer(frame, n):
        log = protocol.encode(Type.LOG, 0, b"booted\n")
        late = protocol.encode(Type.HELLO | protocol.RESPONSE, (frame.seq - 1) & 0xFF, HELLO)
        return log + late + reply(frame)

    logs = []
    link = Peer(answer).link(logs)
    frame = link.request(Type.HELLO, timeout=1)
    assert protocol.Hello.parse(frame.payload).magic == protocol.MAGIC
    assert logs == ["booted"] and link.logs == ["booted"]
    assert link.stats.late_answers == 1 and link.stats.retries == 0


def test_a_spoilt_answer_is_asked_again_with_a_new_seq():
    def answer(frame, n):
        good = reply(frame)
        return good[:-1] + bytes([good[-1] ^ 1]) if n == 0 else good  # bad CRC the first time

    peer = Peer(answer)
    link = peer.link()
    t0 = time.monotonic()
    link.request(Type.HELLO, timeout=5)
    assert time.monotonic() - t0 < 2  # retried on the bad CRC, not after the timeout
    assert link.stats.retries == 1 and link.stats.bad_frames == 1
    assert [f.seq for f in peer.requests] == [1, 2]


def test_a_repeated_run_writes_its_inputs_again_first():
    """edgexf_run spends its inputs: a RUN whose answer was lost is repeated only after before_retry."""

    def answer(frame, n):
        good = reply(frame, protocol.RESULT.pack(0, 1234) if frame.type == Type.RUN else b"")
        return good[:-1] + bytes([good[-1] ^ 1]) if n == 0 else good  # the first RESULT spoilt

    peer = Peer(answer)
    link = peer.link()

    def write_inputs():
        link.request(Type.WRITE_INPUT, protocol.write_input(0, 0, b"x"), timeout=1)

    frame = link.request(Type.RUN, timeout=5, before_retry=write_inputs)
    assert protocol.parse_result(frame.payload) == (0, 1234)
    assert [f.type for f in peer.requests] == [Type.RUN, Type.WRITE_INPUT, Type.RUN]


def test_device_crc_error_is_retried_but_other_errors_are_raised():
    def answer(frame, n):
        code = protocol.ErrorCode.BAD_CRC if n == 0 else protocol.ErrorCode.BAD_ARGUMENT
        return protocol.encode(
            Type.ERROR, frame.seq, protocol.ERROR_CODE.pack(code) + b"output 3 out of range"
        )

    peer = Peer(answer)
    link = peer.link()
    with pytest.raises(
        DeviceError, match="READ_OUTPUT with error 4 .bad argument.: output 3 out of range"
    ) as e:
        link.request(Type.READ_OUTPUT, protocol.read_output(3, 0, 4), timeout=5)
    assert e.value.code == 4 and len(peer.requests) == 2  # the CRC error retried, the other not
    assert link.stats.device_crc_errors == 1


def test_silence_is_a_link_error_in_bounded_time():
    link = Peer(lambda frame, n: b"").link()
    t0 = time.monotonic()
    with pytest.raises(LinkError, match=r"no answer from the peer to HELLO \(3 attempts of 0.2 s\): check"):
        link.request(Type.HELLO, timeout=0.2)
    assert time.monotonic() - t0 < 3 and link.stats.timeouts == 3


def test_a_closed_connection_is_a_link_error():
    link = Peer(lambda frame, n: None).link()
    with pytest.raises(LinkError, match="connection to the peer lost during HELLO"):
        link.request(Type.HELLO, timeout=2)


def test_garbage_instead_of_answers_points_at_the_baud_rate():
    link = Peer(lambda frame, n: bytes(range(0x20, 0x80))).link()  # what a wrong baud rate looks like
    with pytest.raises(LinkError, match=r"no good answer .* 0 bad frames, \d+ stray bytes\): .*baud rate"):
        link.request(Type.HELLO, timeout=0.2)

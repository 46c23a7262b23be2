"""A TCP proxy between the host and QEMU's serial socket that spoils the line on purpose.

    Proxy(target_port, flip_every=200)   # every 200th byte of each direction XORed with 0x5A
    Proxy(target_port, flip_every=200, start_after=1200)  # ...once 1200 bytes went each way untouched
    Proxy(target_port, close_after=5000) # hangs up both sides once 5000 bytes have passed

It connects to the target when the host connects to it (QEMU's -serial ...,server=on,wait=on holds
the guest until then). Test code only: one connection, threads, no care for throughput.
"""

from __future__ import annotations

import socket
import threading


class Proxy:
    def __init__(
        self, target_port: int, flip_every: int = 0, start_after: int = 0, close_after: int | None = None
    ):
        self.target_port, self.flip_every, self.close_after = target_port, flip_every, close_after
        self.start_after = start_after
        self.flipped = {"to_device": 0, "to_host": 0}
        self.passed = 0  # bytes forwarded, both directions
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = [self._server]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        try:
            host, _ = self._server.accept()
        except OSError:
            return  # closed before anyone came
        device = socket.create_connection(("127.0.0.1", self.target_port))
        for s in (host, device):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sockets += [host, device]
        threading.Thread(target=self._pump, args=(host, device, "to_device"), daemon=True).start()
        threading.Thread(target=self._pump, args=(device, host, "to_host"), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        count = 0  # bytes of this direction so far
        while not self.closed.is_set():
            try:
                data = bytearray(src.recv(4096))
            except OSError:
                break
            if not data:
                break
            if self.flip_every:
                for i in range(len(data)):
                    n = count + i + 1  # this byte's number in its direction
                    if n > self.start_after and n % self.flip_every == 0:
                        data[i] ^= 0x5A
                        self.flipped[direction] += 1
            count += len(data)
            with self._lock:
                if self.close_after is not None and self.passed + len(data) > self.close_after:
                    data = data[: max(0, self.close_after - self.passed)]
                    self._send(dst, data)
                    self.close()
                    return
                self.passed += len(data)
            if not self._send(dst, data):
                break
        self.close()

    @staticmethod
    def _send(dst: socket.socket, data: bytes) -> bool:
        try:
            dst.sendall(data)
            return True
        except OSError:
            return False

    def close(self) -> None:
        self.closed.set()
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

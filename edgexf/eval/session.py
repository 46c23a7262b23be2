"""A conversation with the evaluation firmware: the handshake, then one inference per call.

    HELLO -> magic and version      DEVICE_INFO     MODEL_INFO -> the model's hash against report.json
    run(): WRITE_INPUT (chunks) ... RUN -> RESULT, READ_OUTPUT (chunks) ...

Everything that can be checked against the build directory is checked at the handshake, so a run
never starts on a board that holds another model or speaks another protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf import __version__
from edgexf.errors import LinkError
from edgexf.eval import protocol
from edgexf.eval.link import Link
from edgexf.eval.protocol import CHUNK_HEADER, MAGIC, DeviceInfo, Hello, PayloadError, Type


@dataclass
class Session:
    link: Link
    hello: Hello
    device: DeviceInfo
    model: dict  # MODEL_INFO's JSON
    timeout: float  # seconds per request (per attempt)
    run_timeout: float  # seconds for RUN, which waits for a whole inference

    @property
    def max_payload(self) -> int:
        return min(self.hello.max_payload, protocol.MAX_PAYLOAD)

    def run(self, sample_inputs: list[bytes]) -> tuple[list[bytes], int, int]:
        """One inference: returns (the outputs' bytes, the raw counter, edgexf_run's status)."""
        expected = [t["bytes"] for t in self.model["inputs"]]
        got = [len(b) for b in sample_inputs]
        if got != expected:
            raise LinkError(f"the board's model takes inputs of {expected} bytes, this sample has {got}")

        def write_inputs() -> None:
            for index, data in enumerate(sample_inputs):
                self._write_input(index, data)

        write_inputs()
        # a repeated RUN writes the inputs again: the run before may have spent them (link.py)
        answer = self.link.request(Type.RUN, b"", self.run_timeout, before_retry=write_inputs)
        status, counter = self._parse(protocol.parse_result, answer)
        outputs = [self._read_output(i, t["bytes"]) for i, t in enumerate(self.model["outputs"])]
        return outputs, counter, status

    def _write_input(self, index: int, data: bytes) -> None:
        chunk = self.max_payload - CHUNK_HEADER.size
        for offset in range(0, len(data), chunk):
            payload = protocol.write_input(index, offset, data[offset : offset + chunk])
            self.link.request(Type.WRITE_INPUT, payload, self.timeout)

    def _read_output(self, index: int, size: int) -> bytes:
        parts = []
        for offset in range(0, size, self.max_payload):
            length = min(self.max_payload, size - offset)
            frame = self.link.request(
                Type.READ_OUTPUT, protocol.read_output(index, offset, length), self.timeout
            )
            if len(frame.payload) != length:
                raise LinkError(
                    f"{self.link.port} sent {len(frame.payload)} bytes of output {index} at offset {offset}, "
                    f"{length} were asked for"
                )
            parts.append(frame.payload)
        return b"".join(parts)

    def _parse(self, parser, frame: protocol.Frame):
        try:
            return parser(frame.payload)
        except PayloadError as e:
            raise LinkError(f"{self.link.port}: {e}") from e


def open_session(link: Link, report: dict, build_dir: str, timeout: float, run_timeout: float) -> Session:
    """Handshake with the board behind `link` and check it runs the model of `report` (report.json)."""
    link.resync()  # bytes left on the line by an earlier host, or a boot message
    hello = check_hello(link, link.request(Type.HELLO, b"", timeout))
    try:
        device = DeviceInfo.parse(link.request(Type.DEVICE_INFO, b"", timeout).payload)
        model = protocol.parse_model_info(link.request(Type.MODEL_INFO, b"", timeout).payload)
    except PayloadError as e:
        raise LinkError(f"{link.port}: {e}") from e
    check_model(model, report, build_dir, link.port)
    return Session(link, hello, device, model, timeout, run_timeout)


def check_hello(link: Link, frame: protocol.Frame) -> Hello:
    try:
        hello = Hello.parse(frame.payload)
    except PayloadError as e:
        raise LinkError(f"{link.port} answered HELLO with a malformed payload ({e}): {link.check}") from e
    if hello.magic != MAGIC:
        raise LinkError(
            f"{link.port} answered HELLO with magic {hello.magic!r}, not {MAGIC!r}: it does not run edgexf's "
            f"evaluation firmware; {link.check}"
        )
    if hello.version != protocol.VERSION:
        raise LinkError(
            f"the board's firmware speaks evaluation protocol version {hello.version}, this edgexf "
            f"({__version__}) speaks version {protocol.VERSION}: rebuild the build directory with this "
            "edgexf (edgexf compile ...) and reflash the board (edgexf flash DIR)"
        )
    if hello.max_payload < CHUNK_HEADER.size + 1:
        raise LinkError(f"{link.port} announces a max payload of {hello.max_payload} bytes: too small to use")
    return hello


def check_model(model: dict, report: dict, build_dir: str, port: str) -> None:
    """The board must run the model of this build: same hash of the generated sources."""
    want = report.get("model_hash")
    if want is None:
        raise LinkError(
            f"{build_dir}/report.json has no model_hash: it was compiled by an edgexf without on-device "
            "evaluation; compile it again"
        )
    if model["hash"] != want:
        theirs = f"{model.get('name', '?')} for {model.get('board', '?')} (model hash {model['hash'][:16]})"
        mine = f"{report['model']} for {report['board']} (model hash {want[:16]})"
        raise LinkError(
            f"the board at {port} runs another model: {theirs}, but {build_dir} holds {mine}; flash this "
            f"build's evaluation firmware with `edgexf flash {build_dir}`"
        )
    for kind in ("inputs", "outputs"):
        mine = [t["bytes"] for t in report[kind]]
        theirs = [t.get("bytes") for t in model.get(kind, [])]
        if mine != theirs:
            raise LinkError(
                f"the board's MODEL_INFO gives {kind} of {theirs} bytes, {build_dir}/report.json {mine}, "
                "though the hashes agree: rebuild and reflash"
            )

"""Finding the board's serial port: the ST-LINK's virtual COM port, by its USB vendor id.

ST-LINK/V2-1 and V3 probes (on Nucleo and Discovery boards) enumerate as a USB composite device of
STMicroelectronics (vendor id 0x0483) with a CDC serial port. Exactly one such port is taken;
none or several is an error that lists what was found and says to pass --port.
"""

from __future__ import annotations

from collections.abc import Sequence

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from edgexf.errors import LinkError

ST_VENDOR_ID = 0x0483
# Product ids of ST-LINK probes with a virtual COM port (V2-1, V3 variants); others are told apart
# only by vendor, and listed as such.
STLINK_PRODUCT_IDS = {
    0x374B: "ST-LINK/V2-1",
    0x3752: "ST-LINK/V2-1",
    0x374E: "STLINK-V3",
    0x374F: "STLINK-V3",
}
STLINK_PRODUCT_IDS |= {0x3753: "STLINK-V3", 0x3754: "STLINK-V3"}


def describe(port: ListPortInfo) -> str:
    ids = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None and port.pid is not None else "no USB ids"
    serial = f", serial {port.serial_number}" if port.serial_number else ""
    probe = STLINK_PRODUCT_IDS.get(port.pid, "") if port.vid == ST_VENDOR_ID else ""
    return f"{port.device} ({probe or port.description or 'no description'}, {ids}{serial})"


def pick_stlink(ports: Sequence[ListPortInfo]) -> str:
    """The one ST-LINK serial port among `ports`, or LinkError naming what there is."""
    found = [p for p in ports if p.vid == ST_VENDOR_ID]
    if len(found) == 1:
        return found[0].device
    if not found:
        others = "".join(f"\n    {describe(p)}" for p in ports) or " none"
        raise LinkError(
            "no ST-LINK serial port found (USB vendor id 0483): plug the board in by its ST-LINK USB "
            f"port, or name the port with --port. Serial ports seen:{others}"
        )
    listed = "".join(f"\n    {describe(p)}" for p in found)
    raise LinkError(f"{len(found)} ST-LINK serial ports found; pick one with --port:{listed}")


def find_stlink_port() -> str:
    return pick_stlink(list_ports.comports())

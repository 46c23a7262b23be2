"""Finding the ST-LINK's serial port: one is taken, none or several is an error that lists what is there."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from edgexf.errors import LinkError
from edgexf.eval.ports import find_stlink_port, pick_stlink


def port(
    device: str, vid: int | None = None, pid: int | None = None, serial: str | None = None
) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial
    return info


def test_the_one_stlink_port_is_taken():
    ports = [
        port("/dev/ttyS0"),
        port("/dev/ttyACM0", 0x0483, 0x374B, "066DFF"),
        port("/dev/ttyUSB0", 0x0403, 0x6001),
    ]
    assert pick_stlink(ports) == "/dev/ttyACM0"


def test_no_stlink_port_lists_the_ports_seen_and_says_to_use_port():
    with pytest.raises(LinkError) as e:
        pick_stlink([port("/dev/ttyS0"), port("/dev/ttyUSB0", 0x0403, 0x6001)])
    message = str(e.value)
    assert "no ST-LINK serial port found" in message and "--port" in message
    assert "/dev/ttyUSB0" in message and "0403:6001" in message


def test_several_stlink_ports_are_listed_with_their_serial_numbers():
    ports = [port("/dev/ttyACM0", 0x0483, 0x374B, "AAA"), port("/dev/ttyACM1", 0x0483, 0x374E, "BBB")]
    with pytest.raises(LinkError) as e:
        pick_stlink(ports)
    message = str(e.value)
    assert "2 ST-LINK serial ports found" in message and "--port" in message
    assert "ST-LINK/V2-1" in message and "STLINK-V3" in message and "AAA" in message and "BBB" in message


def test_this_machine_has_no_board_attached():
    # the real port enumeration: CI machines have no ST-LINK plugged in
    with pytest.raises(LinkError, match="no ST-LINK serial port found"):
        find_stlink_port()

"""Answers are checked against their request before use; a misfit is a FrameError and is retried.

Pins the bug "an answer with another function code, an exception for another
function, or more registers than asked is accepted (extras cut off
silently)" over TCP and RTU, and the unchecked MBAP protocol id over TCP.
pymodbus 3.11 (pinned) does not make these checks itself: the last test
asserts that, which is why ``protocols/links/pymodbus_link.py`` wraps it (TCP)
and RTU is framed by ``protocols/links/rtu_link.py``.
"""

import pytest
from scripted_peers import RtuPeer, TcpPeer, read_answer

from protocols.errors import FrameError
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.session import Session


def other_function(pdu):
    return read_answer(4 if pdu[0] == 3 else 3, [7])


def exception_for_other_function(pdu):
    return bytes([0x84 if pdu[0] == 3 else 0x83, 2])


def more_registers(pdu):
    return read_answer(pdu[0], [7, 8])


def protocol_id_1(pdu):
    return read_answer(pdu[0], [7]), 1, 1


def other_unit(pdu):
    return read_answer(pdu[0], [7]), 0, 2


RTU_MISFITS = [other_function, exception_for_other_function, more_registers]
TCP_MISFITS = RTU_MISFITS + [protocol_id_1, other_unit]


@pytest.mark.parametrize("misfit", TCP_MISFITS, ids=lambda f: f.__name__)
def test_tcp_misfit_is_a_frame_error_and_retried(run, misfit):
    async def go():
        peer = TcpPeer([misfit])
        host, port = await peer.start()
        s = Session(tcp_link(host, port, timeout_s=0.3), timeout_s=0.3, retries=1, backoff_s=0.01)
        await s.open()
        regs = await s.read_registers(10, 1)
        stats = s.stats
        peer.script = [misfit]
        s.retries = 0
        with pytest.raises(FrameError) as err:
            await s.read_registers(10, 1)
        await s.close()
        await peer.stop()
        return regs, stats, err.value
    regs, stats, err = run(go())
    assert regs == [1234], "the misfit answer (value 7) must never be used"
    assert stats.retries >= 1
    assert "baud" not in err.hint and "RS-485" not in err.hint


@pytest.mark.parametrize("misfit", RTU_MISFITS, ids=lambda f: f.__name__)
def test_rtu_misfit_is_a_frame_error_and_retried(run, misfit):
    async def go():
        peer = RtuPeer([misfit])
        path = await peer.start()
        s = Session(serial_link(path, 115200), timeout_s=0.3, retries=1, backoff_s=0.01)
        await s.open()
        regs = await s.read_registers(10, 1)
        peer.script = [misfit]
        s.retries = 0
        with pytest.raises(FrameError) as err:
            await s.read_registers(10, 1)
        await s.close()
        await peer.stop()
        return regs, err.value
    regs, err = run(go())
    assert regs == [1234], "the misfit answer (value 7) must never be used"
    assert "baud rate" in err.hint


def test_pymodbus_alone_accepts_misfits(run):
    """A known deviation of pymodbus 3.11: its client hands over an answer that does not fit the request."""
    from pymodbus.client import AsyncModbusTcpClient

    async def go():
        peer = TcpPeer([more_registers, other_function, protocol_id_1])
        host, port = await peer.start()
        client = AsyncModbusTcpClient(host, port=port, timeout=0.5, retries=0)
        await client.connect()
        answers = [await client.read_holding_registers(10, count=1, device_id=1) for _ in range(3)]
        client.close()
        await peer.stop()
        return answers
    more, other, pid = run(go())
    assert more.registers == [7, 8] and not more.isError()       # two registers for one asked
    assert other.function_code == 4 and other.registers == [7]    # FC4's answer to an FC3 request
    assert pid.registers == [7]                                    # MBAP protocol id 1 accepted

"""The link interface: one physical connection that exchanges Modbus PDUs.

Runs on the device I/O thread's asyncio loop. A Link knows framing and
transport (TCP, RTU over serial, RTU tunnelled over BLE, Solarman V5); it does
not retry, map exceptions or count: the Session above it does. Requests and
answers are pymodbus PDU objects, so every link shares one set of messages.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.pdu import ExceptionResponse, ModbusPDU

#: Called with (direction "tx"|"rx", raw bytes, time.time()) for a bus trace.
FrameListener = Callable[[str, bytes, float], None]


@dataclass
class LinkInfo:
    """What the user sees of a link: kind and where it goes."""

    kind: str
    target: str
    line_rate_bps: float | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


class Link(abc.ABC):
    """One connection to a device or a bus of devices."""

    info: LinkInfo

    def __init__(self) -> None:
        self.frame_listeners: list[FrameListener] = []

    def _trace(self, direction: str, data: bytes) -> None:
        for listener in list(self.frame_listeners):
            listener(direction, bytes(data), time.time())

    @property
    @abc.abstractmethod
    def connected(self) -> bool:
        """Whether the link is open now."""

    @abc.abstractmethod
    async def connect(self, timeout_s: float) -> None:
        """Open the link; raise LinkError with what to check if it cannot."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the link; safe to call twice."""

    @abc.abstractmethod
    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        """Send one request and return its answer.

        Raises ModbusTimeout when nothing valid came back in time, FrameError
        when bytes came back but formed no valid frame (bad CRC, truncated,
        garbage), LinkError when the link is down.
        """


def answers(request: ModbusPDU | None, pdu: ModbusPDU) -> bool:
    """Whether ``pdu`` is the answer to ``request`` (and not a late one to an earlier request).

    Same unit, same function (or its exception), and for FC3/FC4 exactly the registers asked; the
    links that frame for themselves (UDP, Solarman V5, BLE) drop or refuse anything else.
    """
    if request is None or pdu.dev_id != request.dev_id:
        return False
    if isinstance(pdu, ExceptionResponse):
        return (pdu.function_code & 0x7F) == request.function_code
    if pdu.function_code != request.function_code:
        return False
    return request.function_code not in (3, 4) or len(pdu.registers) == request.count

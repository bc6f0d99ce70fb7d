"""Modbus TCP and Modbus RTU over serial, through pymodbus's async clients.

Runs on the device I/O thread's asyncio loop. pymodbus does the framing, the
CRC and the serial line; retries and reconnects are switched off in pymodbus
because the Session owns them and reports them. Received bytes are watched
(``trace_packet``) so that a timeout after garbage or a bad CRC is reported as
a FrameError, which points the user at baud rate and wiring, not at the unit id.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

if sys.platform != "win32":
    import termios
else:  # pragma: no cover - Windows has no termios; its serial errors are OSErrors
    class termios:  # noqa: N801
        error = OSError

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU

from ..errors import FrameError, LinkError, ModbusTimeout
from .base import Link, LinkInfo

# pymodbus logs every dropped frame as an error with the raw bytes; the Session
# reports failures itself, once and in words, so pymodbus stays quiet.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class PymodbusLink(Link):
    """A pymodbus async client behind the Link interface."""

    def __init__(self, client, info: LinkInfo) -> None:
        super().__init__()
        self._client = client
        self.info = info
        self._rx_seen = b""
        client.ctx.trace_packet = self._on_packet

    def _on_packet(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._rx_seen = b""
            self._trace("tx", data)
        else:
            self._rx_seen = bytes(data)
            self._trace("rx", data)
        return data

    @property
    def connected(self) -> bool:
        # pymodbus can report "connected" on a transport the peer already closed;
        # trust the transport itself.
        transport = getattr(self._client.ctx, "transport", None)
        closing = getattr(transport, "is_closing", None)
        return bool(self._client.connected) and transport is not None and not (closing and closing())

    async def connect(self, timeout_s: float) -> None:
        if self.info.kind == "serial":
            self._check_port()
            self._pty_without_parity()
        try:
            ok = await asyncio.wait_for(self._client.connect(), timeout_s + 0.5)
        except (TimeoutError, OSError) as exc:
            ok = False
            reason = str(exc) or "timed out"
        except termios.error as exc:  # the driver refused the line settings
            raise LinkError(f"{self.info}: the port refused these line settings ({exc.args[-1]})",
                            hint="choose another baud rate or parity; some adapters (and pseudo-terminals) "
                                 "cannot do parity") from None
        else:
            reason = "no answer"
        if not ok:
            raise LinkError(f"cannot open {self.info}: {reason}")

    def _pty_without_parity(self) -> bool:
        """A pseudo-terminal (the simulator's RTU port) has no UART and so no parity: Linux refuses
        the parity flag on it. Open it without parity instead (a real adapter is never affected)."""
        params = self._client.ctx.comm_params
        port = self.info.target.split()[0]
        if getattr(params, "parity", "N") == "N" or not os.path.realpath(port).startswith("/dev/pts/"):
            return False
        rebind = getattr(self._client.ctx, "init_setup_connect_listen", None)
        if rebind is None:   # pymodbus internals changed: keep the clear error
            return False
        params.parity = "N"
        rebind(params.host, params.port)
        return True

    def _check_port(self) -> None:
        """A serial port that does not exist is named as such, not as a silent device."""
        port = self.info.target.split()[0]
        if port.startswith("/dev/") and not os.path.exists(port):
            raise LinkError(f"serial port {port} does not exist",
                            hint="plug in the RS-485 adapter; `pvdesk ports` lists the ports this computer has")

    async def close(self) -> None:
        self._client.close()

    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        if not self.connected:
            raise LinkError(f"{self.info} is not connected")
        self._client.ctx.comm_params.timeout_connect = timeout_s
        self._rx_seen = b""
        try:
            # The watchdog: pymodbus's own timeout plus a margin, whatever happens inside.
            response = await asyncio.wait_for(self._client.execute(False, request), timeout_s * 1.5 + 0.2)
        except (TimeoutError, ModbusIOException) as exc:
            if not self.connected and "CLOSING" not in str(exc):
                raise LinkError(f"{self.info} was lost during the request") from None
            if self._rx_seen:
                raise FrameError(
                    f"unit {request.dev_id}: {len(self._rx_seen)} bytes came back but formed no valid "
                    f"Modbus frame (bad CRC, truncated or garbage)") from None
            raise ModbusTimeout(f"unit {request.dev_id} did not answer within {timeout_s:.1f} s "
                                f"on {self.info}") from None
        except ConnectionException as exc:
            raise LinkError(f"{self.info} is not connected: {exc}") from None
        return response


def tcp_link(host: str, port: int = 502, timeout_s: float = 1.0) -> PymodbusLink:
    """A Modbus TCP link to ``host:port``."""
    client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0, reconnect_delay=0)
    return PymodbusLink(client, LinkInfo("tcp", f"{host}:{port}"))


def rtu_tcp_link(host: str, port: int, timeout_s: float = 1.0) -> PymodbusLink:
    """Modbus RTU frames over a raw TCP socket (serial-to-Ethernet converters)."""
    client = AsyncModbusTcpClient(host, port=port, framer=FramerType.RTU, timeout=timeout_s,
                                  retries=0, reconnect_delay=0)
    return PymodbusLink(client, LinkInfo("rtu-over-tcp", f"{host}:{port}"))


def serial_link(port: str, baud: int = 9600, parity: str = "N", stopbits: int = 1,
                bytesize: int = 8, local_echo: bool = False, timeout_s: float = 1.0) -> PymodbusLink:
    """A Modbus RTU link on a serial port (an RS-485 adapter).

    ``local_echo`` drops the adapter's echo of what was sent (2-wire adapters
    without echo suppression).
    """
    client = AsyncModbusSerialClient(port, framer=FramerType.RTU, baudrate=baud, parity=parity,
                                     stopbits=stopbits, bytesize=bytesize,
                                     handle_local_echo=local_echo, timeout=timeout_s,
                                     retries=0, reconnect_delay=0)
    bits_per_char = 1 + bytesize + (0 if parity == "N" else 1) + stopbits
    return PymodbusLink(client, LinkInfo("serial", f"{port} {baud} {bytesize}{parity}{stopbits}",
                                         line_rate_bps=baud / bits_per_char))

"""Modbus TCP through pymodbus's async client, wrapped in checks pymodbus does not make; RTU links.

Runs on the device I/O thread's asyncio loop. pymodbus (3.11, pinned) does
the MBAP framing; retries and reconnects are switched off in pymodbus because
the Session owns them and reports them.

pymodbus 3.11 does NOT check an answer against its request beyond the unit
and transaction id: an answer with another function code, an exception for
another function, a byte count other than 2 x the registers asked (extra
registers are silently cut off later) or an MBAP protocol id other than 0 is
handed over as if it were the answer. ``PymodbusLink`` wraps it: the raw
bytes received (``trace_packet``) are checked before the PDU is used, and a
misfit is a FrameError, which the Session retries. Connection failures are
told apart (refused, no answer, accepted-then-closed).

RTU (``serial_link``, ``rtu_tcp_link``) is NOT framed by pymodbus: its RTU
framer re-checks the CRC at every offset (noise costs quadratic time and
blocks the loop) and takes a late answer for the next one. Those links are
``rtu_link.RtuLink``: our own linear framing over pyserial or a TCP socket.
"""

from __future__ import annotations

import asyncio
import logging

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from ..errors import (
    ConnectionRefused,
    EchoReceived,
    FrameError,
    LinkError,
    ModbusTimeout,
    NoNetworkAnswer,
    SessionTaken,
    frame_hint,
    timeout_hint,
)
from .base import Link, LinkInfo

# pymodbus logs every dropped frame as an error with the raw bytes; the Session
# reports failures itself, once and in words, so pymodbus stays quiet.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class PymodbusLink(Link):
    """pymodbus's async Modbus TCP client behind the Link interface, with its answers checked."""

    def __init__(self, client, info: LinkInfo) -> None:
        super().__init__()
        self._client = client
        self.info = info
        self._rx_seen = b""
        self._tx_last = b""
        self._answered = False      # has this connection ever carried an answer?
        self._taken = False         # closed by the peer before it answered anything
        client.ctx.trace_packet = self._on_packet
        client.ctx.trace_connect = self._on_connect
        # A decoder that raises inside pymodbus's data_received would make asyncio close the
        # connection; it is a bad frame instead, and the waiting request learns it at once.
        ctx, received = client.ctx, client.ctx.callback_data

        def callback_data(data: bytes, addr=None) -> int:
            try:
                return received(data, addr=addr)
            except Exception as exc:
                future = getattr(ctx, "response_future", None)
                if future is not None and not future.done():
                    future.set_exception(ModbusIOException(f"undecodable answer ({type(exc).__name__})"))
                return len(data)
        ctx.callback_data = callback_data

    def _on_packet(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._rx_seen = b""
            self._tx_last = bytes(data)
            self._trace("tx", data)
        else:
            self._rx_seen += bytes(data)
            self._trace("rx", data)
        return data

    def _on_connect(self, connect: bool) -> None:
        if connect:
            self._answered = False
        elif not self._answered:
            self._taken = True

    @property
    def connected(self) -> bool:
        # pymodbus can report "connected" on a transport the peer already closed;
        # trust the transport itself.
        transport = getattr(self._client.ctx, "transport", None)
        closing = getattr(transport, "is_closing", None)
        return bool(self._client.connected) and transport is not None and not (closing and closing())

    async def connect(self, timeout_s: float) -> None:
        self._taken = False
        failure: BaseException | None
        try:
            ok = await asyncio.wait_for(self._client.connect(), timeout_s + 0.5)
        except (TimeoutError, OSError) as exc:
            ok, failure = False, exc
        else:
            failure = None
        if ok:
            return
        # pymodbus only says "not connected": ask the network once more to say why.
        host, _, port = self.info.target.rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s + 0.5)
        except (TimeoutError, OSError) as exc:
            failure = exc
        else:
            writer.close()
            failure = failure or ConnectionResetError("the connection closed at once")
        raise tcp_connect_error(str(self.info), failure, timeout_s)

    async def close(self) -> None:
        self._client.close()

    def _lost(self, during: str) -> LinkError:
        if self._taken or not self._answered:
            return SessionTaken(f"{self.info.target} accepted the connection, then closed it {during} "
                                f"without answering")
        return LinkError(f"{self.info} was lost {during}",
                         hint="the device rebooted or the network dropped; PVDesk reconnects by itself")

    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        if not self.connected:
            raise self._lost("before the request") if self._taken else LinkError(f"{self.info} is not connected")
        self._client.ctx.comm_params.timeout_connect = timeout_s
        self._rx_seen = b""
        try:
            # The watchdog: pymodbus's own timeout plus a margin, whatever happens inside.
            response = await asyncio.wait_for(self._client.execute(False, request), timeout_s * 1.5 + 0.2)
        except (TimeoutError, ModbusIOException) as exc:
            if "undecodable" in str(exc):
                raise FrameError(f"unit {request.dev_id}: the answer from {self.info} could not be decoded",
                                 hint=frame_hint(self.info.kind)) from None
            if not self.connected and "CLOSING" not in str(exc):
                raise self._lost("during the request") from None
            self._check_echo(request)
            if self._rx_seen:
                raise FrameError(
                    f"unit {request.dev_id}: {len(self._rx_seen)} bytes came back from {self.info} but formed "
                    f"no answer to this request (another unit or transaction, truncated or not Modbus TCP)",
                    hint=frame_hint(self.info.kind)) from None
            raise ModbusTimeout(f"unit {request.dev_id} did not answer within {timeout_s:.1f} s on {self.info}",
                                hint=timeout_hint(self.info.kind)) from None
        except ConnectionException as exc:
            raise LinkError(f"{self.info} is not connected: {exc}") from None
        except Exception as exc:  # a decode that misbehaves is a bad frame, not a crash
            raise FrameError(f"unit {request.dev_id}: the answer from {self.info} could not be decoded "
                             f"({type(exc).__name__})", hint=frame_hint(self.info.kind)) from None
        self._check(request, response)
        self._answered = True
        return response

    def _check_echo(self, request: ModbusPDU) -> None:
        if self._rx_seen and self._tx_last and self._rx_seen.startswith(self._tx_last):
            raise EchoReceived(f"unit {request.dev_id}: {self.info} sent our own request back unchanged",
                               hint="this is not a Modbus TCP device answering (an echo service, or a serial "
                                    "server looping its line back): check the address and port")

    def _check(self, request: ModbusPDU, response: ModbusPDU) -> None:
        """What pymodbus 3.11 does not check: protocol id, function, byte count (raises FrameError)."""
        raw = self._rx_seen
        fc = request.function_code

        def bad(what: str) -> FrameError:
            return FrameError(f"unit {request.dev_id}: the answer from {self.info} does not fit the request "
                              f"({what})", hint=frame_hint(self.info.kind))
        if self.info.kind == "tcp" and len(raw) >= 8 and raw[2:4] != b"\x00\x00":
            self._check_echo(request)
            raise bad(f"MBAP protocol id {int.from_bytes(raw[2:4], 'big')}, not 0")
        if self._tx_last and raw[:len(self._tx_last)] == self._tx_last and fc not in (5, 6):
            self._check_echo(request)
        if response.dev_id != request.dev_id:
            raise bad(f"unit {response.dev_id} answered")
        if isinstance(response, ExceptionResponse):
            if response.function_code & 0x7F != fc:
                raise bad(f"an exception for function {response.function_code & 0x7F}, asked {fc}")
            return
        if response.function_code != fc:
            raise bad(f"function {response.function_code} answered, asked {fc}")
        if fc in (3, 4):
            asked = request.count
            byte_count = raw[8] if len(raw) > 8 and self.info.kind == "tcp" else 2 * len(response.registers)
            if byte_count != 2 * asked or len(response.registers) != asked:
                raise bad(f"{byte_count} data bytes for {asked} registers")


def tcp_connect_error(what: str, exc: BaseException | None, timeout_s: float) -> LinkError:
    """The LinkError saying why a TCP connection to ``what`` could not be made."""
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(f"{what}: connection refused (the host answered, nothing listens on that port)")
    if isinstance(exc, ConnectionResetError):
        return SessionTaken(f"{what} accepted the connection, then closed it at once")
    if isinstance(exc, TimeoutError):
        return NoNetworkAnswer(f"cannot reach {what}: no answer within {timeout_s:.1f} s")
    if isinstance(exc, OSError):
        return NoNetworkAnswer(f"cannot reach {what}: {exc.strerror or exc}")
    return LinkError(f"cannot open {what}: {exc or 'no answer'}")


def tcp_link(host: str, port: int = 502, timeout_s: float = 1.0) -> PymodbusLink:
    """A Modbus TCP link to ``host:port``."""
    client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0, reconnect_delay=0)
    return PymodbusLink(client, LinkInfo("tcp", f"{host}:{port}"))


def rtu_tcp_link(host: str, port: int, timeout_s: float = 1.0):
    """Modbus RTU frames over a raw TCP socket (serial-to-Ethernet converters), framed by PVDesk."""
    from .rtu_link import rtu_tcp_stream_link
    return rtu_tcp_stream_link(host, port)


def serial_link(port: str, baud: int = 9600, parity: str = "N", stopbits: int = 1,
                bytesize: int = 8, local_echo: bool = False, timeout_s: float = 1.0):
    """A Modbus RTU link on a serial port (an RS-485 adapter), framed by PVDesk over pyserial.

    ``local_echo`` drops the adapter's echo of what was sent (2-wire adapters
    without echo suppression).
    """
    from .rtu_link import rtu_serial_link
    return rtu_serial_link(port, baud, parity, stopbits, bytesize, local_echo=local_echo)

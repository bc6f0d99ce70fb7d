"""Modbus RTU through a Solarman V5 Wi-Fi data logger (pysolarmanv5), and logger discovery.

Runs on the device I/O thread's asyncio loop. pysolarmanv5's
``PySolarmanV5Async`` owns the TCP socket and the V5 envelope (sequence
number, logger serial, checksum); this link hands it RTU frames built by
pymodbus's ``FramerRTU`` (``send_raw_modbus_frame``) and decodes the RTU
answer with the same framer, so every link yields the same pymodbus PDUs. The
link does not retry: the Session above retries and reconnects.

Most loggers ignore frames addressed to another logger serial, so a wrong
serial shows as a timeout; the message says so. Some answer with their own
serial instead: then the error names it ("this logger's serial is N, not M").
A logger that answers with an empty Modbus part is telling that the inverter
behind it did not answer; the error says so (not "bad Wi-Fi"). ``discover()`` asks loggers on the
local network for "ip,mac,serial" over UDP port 48899.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import FrameError, InverterSilentBehindLogger, LinkError, LoggerSerialMismatch, ModbusTimeout
from .base import Link, LinkInfo, answers

DEFAULT_PORT = 8899
DISCOVERY_PORT = 48899
DISCOVERY_MESSAGE = b"WIFIKIT-214028-READ"

_log = logging.getLogger("pvdesk.v5")  # handed to pysolarmanv5 so it never calls logging.basicConfig()


class V5Link(Link):
    """One TCP connection to a Solarman V5 logger that forwards RTU frames to the inverter."""

    def __init__(self, host: str, logger_serial: int, port: int = DEFAULT_PORT) -> None:
        super().__init__()
        if not host:
            raise ValueError("a Wi-Fi logger connection needs the logger's IP address or host name")
        if not 0 < int(logger_serial) < 2 ** 32:
            raise ValueError(f"logger serial {logger_serial!r} is not valid: use the number printed on the "
                             "logger stick (or find it with `pvdesk scan --v5`)")
        self.host = host
        self.port = port
        self.logger_serial = int(logger_serial)
        self.info = LinkInfo("v5", f"{host}:{port} logger #{self.logger_serial}")
        self._client: Any = None   # a PySolarmanV5Async, made in open()
        self._framer = FramerRTU(DecodePDU(is_server=False))

    @property
    def connected(self) -> bool:
        c = self._client
        return (c is not None and c.writer is not None and c.reader_task is not None
                and not c.reader_task.done())

    async def connect(self, timeout_s: float) -> None:
        from pysolarmanv5 import NoSocketAvailableError
        client = _client_class()(self.host, self.logger_serial, port=self.port, mb_slave_id=1,
                                   socket_timeout=max(timeout_s, 1.0), logger=_log, auto_reconnect=False)
        try:
            await client.connect()
        except NoSocketAvailableError as exc:
            reason = exc.__cause__ or exc
            raise LinkError(f"cannot reach the Wi-Fi logger at {self.host}:{self.port}: "
                            f"{str(reason) or type(reason).__name__}",
                            hint="check the laptop is on the same network as the logger, the IP address "
                                 "(see `pvdesk scan --v5`) and that port 8899 is not blocked") from None
        self._client = client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.disconnect(), 2.0)
            except Exception:  # closing a broken link must not raise
                pass

    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        from pysolarmanv5 import NoSocketAvailableError, V5FrameError
        if not self.connected:
            raise LinkError(f"{self.info} is not connected")
        client = self._client
        client.socket_timeout = timeout_s
        frame = self._framer.buildFrame(request)
        self._trace("tx", frame)
        ask = asyncio.ensure_future(client.send_raw_modbus_frame(frame))
        reader = client.reader_task
        try:
            done, _ = await asyncio.wait({ask, reader}, timeout=timeout_s + 0.5,
                                         return_when=asyncio.FIRST_COMPLETED)
            if ask not in done:
                ask.cancel()
                if reader in done:
                    raise LinkError(f"the Wi-Fi logger at {self.host}:{self.port} closed the connection",
                                    hint="the logger may have rebooted or lost Wi-Fi; PVDesk reconnects by itself")
                raise TimeoutError
            answer = bytes(ask.result())
        except TimeoutError:
            raise ModbusTimeout(
                f"no answer within {timeout_s:.1f} s from unit {request.dev_id} through the Wi-Fi logger "
                f"#{self.logger_serial} at {self.host}:{self.port}",
                hint=f"check the logger serial number {self.logger_serial} (printed on the stick; a logger "
                     "ignores requests for another serial), the unit id, and that the inverter is on") from None
        except V5FrameError as exc:
            raise self._v5_error(request, str(exc)) from None
        except (NoSocketAvailableError, ConnectionError, OSError) as exc:
            raise LinkError(f"the Wi-Fi logger at {self.host}:{self.port} was lost: {exc}") from None
        self._trace("rx", answer)
        return self._decode(request, answer)

    def _v5_error(self, request: ModbusPDU, text: str) -> Exception:
        """The error a V5 frame the library refused stands for."""
        last = getattr(self._client, "last_frame", b"") or b""
        if "serial number" in text:
            theirs = int.from_bytes(last[7:11], "little") if len(last) >= 11 else None
            said = f"this logger's serial is {theirs}, not {self.logger_serial}" if theirs is not None else \
                f"this logger's serial is not {self.logger_serial}"
            return LoggerSerialMismatch(f"the Wi-Fi logger at {self.host}:{self.port} answered: {said}",
                                        hint=f"connect with --logger-serial {theirs}" if theirs is not None else None)
        if "valid Modbus RTU frame" in text:
            return InverterSilentBehindLogger(
                f"the Wi-Fi logger #{self.logger_serial} at {self.host}:{self.port} answered, but the inverter "
                f"behind it did not (unit {request.dev_id})")
        return FrameError(f"the Wi-Fi logger #{self.logger_serial} sent a bad V5 frame: {text}",
                          hint="a weak Wi-Fi signal or a busy logger; PVDesk retries by itself")

    def _decode(self, request: ModbusPDU, answer: bytes) -> ModbusPDU:
        """The pymodbus PDU in an RTU answer; some loggers append a second, zero CRC."""
        for candidate in (answer, answer[:-2] if answer.endswith(b"\x00\x00") else None):
            if not candidate or len(candidate) < FramerRTU.MIN_SIZE:
                continue
            if not FramerRTU.check_CRC(candidate[:-2], int.from_bytes(candidate[-2:], "big")):
                continue
            pdu = self._framer.decoder.decode(candidate[1:-2])
            if pdu is None:
                continue
            pdu.dev_id = candidate[0]
            if answers(request, pdu):
                return pdu
            raise FrameError(f"the Wi-Fi logger returned an answer that does not match the request "
                             f"(unit {pdu.dev_id}, function {pdu.function_code})")
        raise FrameError(f"unit {request.dev_id}: {len(answer)} bytes came back through the Wi-Fi logger but "
                         "formed no valid Modbus frame (bad CRC, truncated or garbage)",
                         hint="check the logger's RS-485 wiring to the inverter and its baud rate")


_CLIENT_CLASS = None


def _client_class():
    """PySolarmanV5Async, with a reader that reassembles V5 frames split across TCP segments.

    pysolarmanv5 3.0 takes every socket read as one whole frame, so an answer
    that Wi-Fi delivers in two segments is lost. The subclass reads by the V5
    length field instead; where the library's internals differ from 3.0
    (``_conn_keeper``, ``_received_frame_is_valid``, ``_send_data``), the
    library's own reader is used.
    """
    global _CLIENT_CLASS
    if _CLIENT_CLASS is not None:
        return _CLIENT_CLASS
    from pysolarmanv5 import PySolarmanV5Async
    if not all(hasattr(PySolarmanV5Async, n) for n in ("_conn_keeper", "_received_frame_is_valid", "_send_data")):
        _CLIENT_CLASS = PySolarmanV5Async
        return _CLIENT_CLASS

    class ReassemblingV5(PySolarmanV5Async):
        async def _conn_keeper(self) -> None:
            buf = b""
            while True:
                try:
                    data = await self.reader.read(1024)  # type: ignore[has-type]  # set by pysolarmanv5
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                buf += data
                while buf:
                    start = buf.find(b"\xa5")
                    if start < 0:
                        buf = b""
                        break
                    buf = buf[start:]
                    if len(buf) < 3:
                        break
                    total = 13 + int.from_bytes(buf[1:3], "little")
                    if len(buf) < total:
                        break
                    frame, buf = buf[:total], buf[total:]
                    self.last_frame = frame
                    if self._received_frame_is_valid(frame) and self.data_wanted_ev.is_set():
                        self._send_data(frame)
            self.reader = None
            self.writer = None

    _CLIENT_CLASS = ReassemblingV5
    return _CLIENT_CLASS


@dataclass
class LoggerInfo:
    """A Solarman logger that answered discovery."""

    ip: str
    mac: str
    serial: int


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.found: dict[int, LoggerInfo] = {}

    def datagram_received(self, data: bytes, addr) -> None:
        parts = data.decode("ascii", "replace").strip().split(",")
        if len(parts) >= 3 and parts[2].strip().isdigit():
            info = LoggerInfo(parts[0].strip() or addr[0], parts[1].strip(), int(parts[2]))
            self.found[info.serial] = info


async def discover(timeout_s: float = 2.0, address: str = "255.255.255.255",
                   port: int = DISCOVERY_PORT) -> list[LoggerInfo]:
    """Loggers that answer the discovery message sent to ``address`` (broadcast by default).

    Not every logger firmware answers; when none does, connect by IP and the
    serial printed on the stick.
    """
    loop = asyncio.get_running_loop()
    try:
        transport, proto = await loop.create_datagram_endpoint(
            _Collector, local_addr=("0.0.0.0", 0), allow_broadcast=True)
    except OSError as exc:
        raise LinkError(f"cannot search for Wi-Fi loggers: {exc}",
                        hint="check that the laptop is connected to a network") from None
    try:
        for _ in range(2):   # UDP may lose one: ask twice
            try:
                transport.sendto(DISCOVERY_MESSAGE, (address, port))
            except OSError as exc:
                raise LinkError(f"cannot search for Wi-Fi loggers on {address}: {exc}",
                                hint="check that the laptop is connected to the logger's network") from None
            await asyncio.sleep(timeout_s / 2)
    finally:
        transport.close()
    return sorted(proto.found.values(), key=lambda i: i.ip)


def v5_link_from_spec(spec) -> V5Link:
    """The V5Link for a LinkSpec of kind "v5" (host, port default 8899, logger_serial)."""
    if not spec.logger_serial:
        raise ValueError("a Wi-Fi logger connection needs the logger serial number "
                         "(--logger-serial N, printed on the stick)")
    port = spec.port if spec.port and spec.port != 502 else DEFAULT_PORT
    return V5Link(spec.host, spec.logger_serial, port)


__all__ = ["V5Link", "LoggerInfo", "discover", "v5_link_from_spec"]

"""Modbus RTU on a serial port (pyserial) or a raw TCP socket, framed by PVDesk itself.

Runs on the device I/O thread's asyncio loop. pymodbus builds the request
PDUs and decodes the answers' PDUs; the framing is ours (``rtu_framing``):
pymodbus 3.11's RTU framer costs quadratic time on noise, and it takes a late
answer for the answer to the next request. So, here:

- every answer is checked before use (unit, function or its exception, byte
  count = 2 x the registers asked, CRC); a misfit is not an answer;
- before a request is sent the line is drained until it has been silent for
  3.5 character times, so leftovers of an earlier answer are never read;
- a request that timed out stays "outstanding" for one more timeout: an
  answer of the same shape (unit, function, length) arriving meanwhile is that
  late answer and is dropped, and a different request of the same shape is not
  sent before the late answer came or the window passed. A retry of the very
  same request may take the late answer: it carries the same registers;
- an answer equal to our own request means the adapter echoes: the error says
  to use ``--local-echo``.
"""

from __future__ import annotations

import asyncio
import time

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import EchoReceived, FrameError, LinkError, ModbusTimeout, frame_hint, timeout_hint
from .base import Link, LinkInfo
from .rtu_framing import RtuReceiver, Shape
from .rtu_streams import SerialStream, TcpStream


def _shape(request: ModbusPDU) -> Shape:
    count = getattr(request, "count", None) if request.function_code in (3, 4) else None
    return Shape(request.dev_id, request.function_code, count)


class _Outstanding:
    def __init__(self, frame: bytes, shape: Shape, until: float) -> None:
        self.frame, self.shape, self.until = frame, shape, until


class RtuLink(Link):
    """RTU over a byte stream (``SerialStream`` or ``TcpStream``)."""

    def __init__(self, stream, info: LinkInfo, local_echo: bool = False, char_time_s: float = 0.0) -> None:
        super().__init__()
        self.stream = stream
        self.info = info
        self.local_echo = local_echo
        # Serial line guide: t3.5 is fixed at 1.75 ms above 19200 baud.
        self.silence_s = max(3.5 * char_time_s, 0.00175) if char_time_s else 0.005
        self.rx = RtuReceiver()
        self.last_rx_t = 0.0
        self.stale_dropped = 0
        self.drained_bytes = 0
        self._decoder = DecodePDU(is_server=False)
        self._framer = FramerRTU(self._decoder)
        self._outstanding: list[_Outstanding] = []
        self._wake: asyncio.Event | None = None
        stream.on_bytes = self._on_bytes

    # ------------------------------------------------------------ lifecycle
    @property
    def connected(self) -> bool:
        return self.stream.connected

    async def connect(self, timeout_s: float) -> None:
        await self.stream.open(timeout_s)
        self.rx.reset()
        self._outstanding.clear()

    async def close(self) -> None:
        await self.stream.close()

    def _on_bytes(self, data: bytes) -> None:
        self.last_rx_t = time.monotonic()
        self.rx.feed(data)
        self._trace("rx", data)
        if self._wake is not None:
            self._wake.set()

    async def _wait_bytes(self, until: float) -> bool:
        """Wait for more bytes or ``until``; False on the deadline."""
        left = until - time.monotonic()
        if left <= 0:
            return False
        self._wake = asyncio.Event()
        try:
            await asyncio.wait_for(self._wake.wait(), left)
            return True
        except TimeoutError:
            return False
        finally:
            self._wake = None

    # -------------------------------------------------------------- drain
    def _drop_stale(self) -> None:
        """Drop, from what was received, late answers of outstanding requests."""
        while self._outstanding:
            starts = {(o.shape.unit, o.shape.function) for o in self._outstanding}
            frame = self.rx.next_frame(starts)
            if frame is None:
                return
            for o in self._outstanding:
                if o.shape.fits(frame):
                    self._outstanding.remove(o)
                    self.stale_dropped += 1
                    break

    async def _settle(self, shape: Shape, frame: bytes, timeout_s: float) -> None:
        """Before sending: no ambiguous late answer can come, and the line is silent for t3.5."""
        now = time.monotonic()
        self._outstanding = [o for o in self._outstanding if o.until > now]
        self._drop_stale()
        # A late answer of another request with the same shape could not be told apart: wait for it.
        while any(o.shape == shape and o.frame != frame for o in self._outstanding):
            until = min(o.until for o in self._outstanding if o.shape == shape and o.frame != frame)
            await self._wait_bytes(until)
            self._drop_stale()
            now = time.monotonic()
            self._outstanding = [o for o in self._outstanding if o.until > now]
        deadline = time.monotonic() + max(timeout_s, 0.1)
        while True:
            quiet = time.monotonic() - self.last_rx_t
            if quiet >= self.silence_s:
                break
            if time.monotonic() > deadline:
                raise FrameError(f"{self.info}: the line never fell silent for {self.silence_s * 1000:.1f} ms "
                                 f"(something keeps sending)", hint=frame_hint(self.info.kind))
            await asyncio.sleep(self.silence_s - quiet)
        self._drop_stale()
        self.drained_bytes += len(self.rx.buf)
        self.rx.reset()

    # ------------------------------------------------------------ exchange
    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        if not self.connected:
            raise LinkError(f"{self.info} is not connected")
        frame = self._framer.buildFrame(request)
        shape = _shape(request)
        await self._settle(shape, frame, timeout_s)
        try:
            self.stream.write(frame)
        except OSError as exc:
            raise LinkError(f"{self.info}: cannot send: {exc}") from None
        self._trace("tx", frame)
        sent_t = time.monotonic()
        deadline = sent_t + timeout_s
        echo_pending = self.local_echo
        same = [o for o in self._outstanding if o.frame == frame]
        while True:
            if echo_pending:
                echo_pending = not self.rx.skip_prefix(frame)
            answer = None if echo_pending else self._find(shape)
            if answer is not None:
                if same:   # the late answer of the same earlier request: ours is still to come
                    self._outstanding.remove(same[0])
                    self._outstanding.append(_Outstanding(frame, shape, sent_t + 2 * timeout_s))
                return self._decode(request, answer)
            if not self.connected:
                raise LinkError(f"{self.info} was lost during the request")
            if not await self._wait_bytes(deadline):
                break
        self._outstanding.append(_Outstanding(frame, shape, deadline + timeout_s))
        if self.rx.head.startswith(frame) and not self.local_echo:
            raise EchoReceived(f"unit {request.dev_id}: what came back on {self.info} is our own request "
                               f"({len(frame)} bytes), and no answer followed")
        if self.rx.seen:
            raise FrameError(f"unit {request.dev_id}: {self.rx.seen} bytes came back on {self.info} but formed "
                             f"no valid answer to this request (bad CRC, truncated, another unit or "
                             f"function, or garbage)", hint=frame_hint(self.info.kind))
        raise ModbusTimeout(f"unit {request.dev_id} did not answer within {timeout_s:.1f} s on {self.info}",
                            hint=timeout_hint(self.info.kind))

    def _find(self, shape: Shape) -> bytes | None:
        """The answer to ``shape`` in what arrived; late answers of outstanding requests are dropped."""
        starts = {(shape.unit, shape.function)} | {(o.shape.unit, o.shape.function) for o in self._outstanding}
        while True:
            frame = self.rx.next_frame(starts)
            if frame is None:
                return None
            stale = [o for o in self._outstanding if o.shape != shape and o.shape.fits(frame)]
            if stale:
                self._outstanding.remove(stale[0])
                self.stale_dropped += 1
                continue
            if frame[0] != shape.unit or (frame[1] & 0x7F) != shape.function:
                continue
            if not shape.fits(frame):
                raise FrameError(f"unit {shape.unit}: the answer carries {frame[2] // 2} registers where "
                                 f"{shape.count} were asked", hint=frame_hint(self.info.kind))
            return frame

    def _decode(self, request: ModbusPDU, frame: bytes) -> ModbusPDU:
        try:
            pdu = self._decoder.decode(frame[1:-2])
        except Exception as exc:  # whatever a decoder does wrong is a bad frame, not a crash
            raise FrameError(f"unit {request.dev_id}: the answer could not be decoded ({type(exc).__name__})",
                             hint=frame_hint(self.info.kind)) from None
        if pdu is None:
            raise FrameError(f"unit {request.dev_id}: the answer could not be decoded",
                             hint=frame_hint(self.info.kind))
        pdu.dev_id = frame[0]
        return pdu


def rtu_serial_link(port: str, baud: int = 9600, parity: str = "N", stopbits: int = 1, bytesize: int = 8,
                    local_echo: bool = False) -> RtuLink:
    bits_per_char = 1 + bytesize + (0 if parity == "N" else 1) + stopbits
    return RtuLink(SerialStream(port, baud, parity, stopbits, bytesize),
                   LinkInfo("serial", f"{port} {baud} {bytesize}{parity}{stopbits}", line_rate_bps=baud / bits_per_char),
                   local_echo=local_echo, char_time_s=bits_per_char / baud)


def rtu_tcp_stream_link(host: str, port: int) -> RtuLink:
    return RtuLink(TcpStream(host, port), LinkInfo("rtu-over-tcp", f"{host}:{port}"))


__all__ = ["RtuLink", "SerialStream", "TcpStream", "rtu_serial_link", "rtu_tcp_stream_link"]

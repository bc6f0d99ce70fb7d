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
import os
import time

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import EchoReceived, FrameError, LinkError, ModbusTimeout, frame_hint, timeout_hint
from .base import Link, LinkInfo
from .rtu_framing import RtuReceiver, Shape


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
        except asyncio.TimeoutError:
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
        except Exception as exc:  # noqa: BLE001 - whatever a decoder does wrong is a bad frame, not a crash
            raise FrameError(f"unit {request.dev_id}: the answer could not be decoded ({type(exc).__name__})",
                             hint=frame_hint(self.info.kind)) from None
        if pdu is None:
            raise FrameError(f"unit {request.dev_id}: the answer could not be decoded",
                             hint=frame_hint(self.info.kind))
        pdu.dev_id = frame[0]
        return pdu


# ---------------------------------------------------------------- streams
def _parity_took(ser, parity: str) -> bool:
    """Whether the driver really set the parity asked (pyserial does not notice a refusal)."""
    try:
        import termios  # noqa: PLC0415
        flags = termios.tcgetattr(ser.fileno())[2]
    except (ImportError, AttributeError, OSError, ValueError, Exception):  # noqa: BLE001 - Windows
        return True
    return bool(flags & termios.PARENB) == (parity != "N")



class SerialStream:
    """A serial port through pyserial; bytes are read when the loop sees the port readable."""

    def __init__(self, port: str, baud: int, parity: str, stopbits: int, bytesize: int) -> None:
        self.port, self.baud, self.parity, self.stopbits, self.bytesize = port, baud, parity, stopbits, bytesize
        self.on_bytes = lambda data: None
        self._ser = None
        self._poll: asyncio.Task | None = None
        self._fd = -1

    @property
    def connected(self) -> bool:
        return self._ser is not None and self._ser.is_open

    async def open(self, timeout_s: float) -> None:
        import serial  # noqa: PLC0415
        if self.port.startswith("/dev/") and not os.path.exists(self.port):
            raise LinkError(f"serial port {self.port} does not exist",
                            hint="plug in the RS-485 adapter; `pvdesk ports` lists the ports this computer has")
        try:
            ser = serial.Serial(self.port, self.baud, bytesize=self.bytesize, parity=self.parity,
                                stopbits=self.stopbits, timeout=0, write_timeout=max(timeout_s, 1.0))
        except (serial.SerialException, ValueError, OSError) as exc:
            text = str(exc)
            if "Invalid argument" in text or "parity" in text.lower() or isinstance(exc, ValueError):
                raise LinkError(f"serial {self.port}: the port refused these line settings ({text})",
                                hint="choose another baud rate or parity; some adapters (and pseudo-terminals) "
                                     "cannot do parity") from None
            raise LinkError(f"cannot open serial {self.port}: {text}") from None
        if not _parity_took(ser, self.parity):
            ser.close()
            raise LinkError(f"serial {self.port}: the port refused these line settings (parity {self.parity})",
                            hint="choose another baud rate or parity; some adapters (and pseudo-terminals) "
                                 "cannot do parity")
        self._ser = ser
        loop = asyncio.get_running_loop()
        try:
            self._fd = ser.fileno()
            loop.add_reader(self._fd, self._readable)
        except (AttributeError, NotImplementedError, OSError, ValueError):
            self._fd = -1           # Windows: no selectable handle, poll instead
            self._poll = asyncio.ensure_future(self._poll_loop())

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            self._lost()
            return
        if data:
            self.on_bytes(data)

    async def _poll_loop(self) -> None:
        while self.connected:
            try:
                waiting = self._ser.in_waiting
                data = self._ser.read(waiting) if waiting else b""
            except Exception:  # noqa: BLE001 - an unplugged adapter
                self._lost()
                return
            if data:
                self.on_bytes(data)
            else:
                await asyncio.sleep(0.002)

    def _lost(self) -> None:
        if self._fd >= 0:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = -1
        if self._ser is not None:
            try:
                self._ser.close()
            except Exception:  # noqa: BLE001
                pass

    def write(self, data: bytes) -> None:
        self._ser.write(data)

    async def close(self) -> None:
        if self._poll:
            self._poll.cancel()
            self._poll = None
        self._lost()
        self._ser = None


class TcpStream:
    """A raw TCP socket to a serial-to-Ethernet converter."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.on_bytes = lambda data: None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        return (self._writer is not None and not self._writer.is_closing()
                and self._task is not None and not self._task.done())

    async def open(self, timeout_s: float) -> None:
        from .pymodbus_link import tcp_connect_error  # noqa: PLC0415
        try:
            reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                          timeout_s + 0.5)
        except (asyncio.TimeoutError, OSError) as exc:
            raise tcp_connect_error(f"rtu-over-tcp {self.host}:{self.port}", exc, timeout_s) from None
        self._task = asyncio.ensure_future(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            self.on_bytes(data)

    def write(self, data: bytes) -> None:
        self._writer.write(data)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def rtu_serial_link(port: str, baud: int = 9600, parity: str = "N", stopbits: int = 1, bytesize: int = 8,
                    local_echo: bool = False) -> RtuLink:
    bits_per_char = 1 + bytesize + (0 if parity == "N" else 1) + stopbits
    return RtuLink(SerialStream(port, baud, parity, stopbits, bytesize),
                   LinkInfo("serial", f"{port} {baud} {bytesize}{parity}{stopbits}", line_rate_bps=baud / bits_per_char),
                   local_echo=local_echo, char_time_s=bits_per_char / baud)


def rtu_tcp_stream_link(host: str, port: int) -> RtuLink:
    return RtuLink(TcpStream(host, port), LinkInfo("rtu-over-tcp", f"{host}:{port}"))


__all__ = ["RtuLink", "SerialStream", "TcpStream", "rtu_serial_link", "rtu_tcp_stream_link"]

"""The byte streams an RTU link runs over: a serial port (pyserial) or a raw TCP socket.

Runs on the device I/O thread's asyncio loop. A stream opens, writes, closes
and hands every received chunk to ``on_bytes`` at once; it knows nothing of
Modbus. On POSIX the serial port is read when the loop sees it readable; on
Windows (no selectable handle) it is polled every 2 ms.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ..errors import LinkError


def _parity_took(ser, parity: str) -> bool:
    """Whether the driver really set the parity asked (pyserial does not notice a refusal)."""
    try:
        import termios
        flags = termios.tcgetattr(ser.fileno())[2]
    except (ImportError, AttributeError, OSError, ValueError, Exception):  # Windows
        return True
    return bool(flags & termios.PARENB) == (parity != "N")


def pty_without_parity(port: str, parity: str) -> bool:
    """Whether ``port`` is a pseudo-terminal (the simulator's RTU port) asked for parity: a pty has no UART
    and so no parity, and Linux refuses the flag on it. It is opened without parity instead (a real adapter
    is never affected), so tests can use the settings the doctor finds."""
    return parity != "N" and os.path.realpath(port).startswith("/dev/pts/")


class SerialStream:
    """A serial port through pyserial; bytes are read when the loop sees the port readable."""

    def __init__(self, port: str, baud: int, parity: str, stopbits: int, bytesize: int) -> None:
        self.port, self.baud, self.parity, self.stopbits, self.bytesize = port, baud, parity, stopbits, bytesize
        self.on_bytes = lambda data: None
        self._ser: Any = None   # a serial.Serial once open
        self._poll: asyncio.Task | None = None
        self._fd = -1

    @property
    def connected(self) -> bool:
        return self._ser is not None and self._ser.is_open

    async def open(self, timeout_s: float) -> None:
        import serial
        if self.port.startswith("/dev/") and not os.path.exists(self.port):
            raise LinkError(f"serial port {self.port} does not exist",
                            hint="plug in the RS-485 adapter; `pvdesk ports` lists the ports this computer has")
        parity = "N" if pty_without_parity(self.port, self.parity) else self.parity
        try:
            ser = serial.Serial(self.port, self.baud, bytesize=self.bytesize, parity=parity,
                                stopbits=self.stopbits, timeout=0, write_timeout=max(timeout_s, 1.0))
        except (serial.SerialException, ValueError, OSError) as exc:
            text = str(exc)
            if "Invalid argument" in text or "parity" in text.lower() or isinstance(exc, ValueError):
                raise LinkError(f"serial {self.port}: the port refused these line settings ({text})",
                                hint="choose another baud rate or parity; some adapters (and pseudo-terminals) "
                                     "cannot do parity") from None
            raise LinkError(f"cannot open serial {self.port}: {text}") from None
        if not _parity_took(ser, parity):
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
        while self._ser is not None and self.connected:
            try:
                waiting = self._ser.in_waiting
                data = self._ser.read(waiting) if waiting else b""
            except Exception:  # an unplugged adapter
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
            except Exception:
                pass

    def write(self, data: bytes) -> None:
        if self._ser is None:
            raise OSError("the serial port is closed")
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
        from .pymodbus_link import tcp_connect_error
        try:
            reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                          timeout_s + 0.5)
        except (TimeoutError, OSError) as exc:
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
        if self._writer is None:
            raise OSError("the connection is closed")
        self._writer.write(data)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None



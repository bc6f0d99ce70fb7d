"""Wi-Fi logger probes of the connection doctor: Solarman V5 (discovery and a V5 read) and GoodWe UDP.

Runs on the doctor's asyncio loop. Discovery is sent to the host being
diagnosed (never broadcast unless the caller names a broadcast address). A
V5 read goes over TCP to the logger with the serial learned from discovery
or given by the user; a logger that answers in its own name although we
named another serial reveals its serial. The GoodWe probe sends one Modbus
RTU read in a UDP datagram (default port 8899, unit 247) and expects the
AA55-wrapped answer; a lost datagram is asked again. Only reads are sent.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from . import frames
from .report import Attempt

_seq = itertools.count(1)
GOODWE_PROBE_ADDRESS = 35000   # GoodWe ET/EH/BT/BH device information block (holding)


async def v5_discover(host: str, port: int, timeout_s: float) -> tuple[Attempt, list]:
    """Ask the logger at ``host`` for "ip,mac,serial"; the attempt and the loggers that answered."""
    from ..links.solarman import discover
    t0 = time.monotonic()
    try:
        found = await discover(timeout_s, address=host, port=port)
    except Exception as exc:  # discovery failing is an observation, not a crash
        return Attempt("v5-discovery", f"{host}:{port}", "error", str(exc), time.monotonic() - t0), []
    detail = ", ".join(f"logger serial {i.serial} at {i.ip}" for i in found) or "no logger answered"
    return Attempt("v5-discovery", f"{host}:{port}", "answer" if found else "silent", detail,
                   time.monotonic() - t0), found


async def v5_read(host: str, port: int, logger_serial: int, unit: int, timeout_s: float,
                  address: int = 0) -> tuple[Attempt, str, int | None]:
    """One V5 read of unit ``unit``: (attempt, outcome, serial the logger named).

    outcome: "answer" (the inverter answered, or refused with an exception), "logger-only" (a V5
    frame came back without a valid Modbus answer in it), "other-serial", "silent", "refused",
    "closed".
    """
    t0 = time.monotonic()
    where = f"{host}:{port} logger #{logger_serial} unit {unit}"

    def done(outcome: str, detail: str, serial: int | None = None):
        return Attempt("v5", where, outcome, detail, time.monotonic() - t0), outcome, serial
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except ConnectionRefusedError:
        return done("refused", "connection refused")
    except (TimeoutError, OSError) as exc:
        return done("silent", str(exc) or "no TCP answer")
    try:
        writer.write(frames.v5_request(next(_seq), logger_serial, frames.rtu_read(unit, 3, address, 1)))
        await writer.drain()
        buf = b""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(1024), left)
            except TimeoutError:
                break
            if not chunk:
                return done("closed", "the logger closed the connection without an answer")
            buf += chunk
            v5 = frames.parse_v5(buf)
            if v5 is None:
                continue
            if v5.logger_serial != logger_serial:
                return done("other-serial", f"the logger answers as serial {v5.logger_serial}", v5.logger_serial)
            answer = frames.parse_rtu(v5.rtu, unit, 3, 1)
            if answer is None:
                return done("logger-only", f"a V5 frame without a Modbus answer ({len(v5.rtu)} bytes inside)",
                            v5.logger_serial)
            what = f"exception {answer.exception:02d}" if answer.is_exception else "registers"
            return done("answer", f"the inverter behind the logger answers ({what})", v5.logger_serial)
        return done("silent", f"no V5 answer within {timeout_s:.1f} s")
    except (ConnectionError, OSError) as exc:
        return done("closed", str(exc))
    finally:
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data, addr) -> None:
        self.queue.put_nowait(bytes(data))

    def error_received(self, exc) -> None:
        self.queue.put_nowait(b"")


async def goodwe_udp_read(host: str, port: int, unit: int, timeout_s: float, tries: int = 2,
                          address: int = GOODWE_PROBE_ADDRESS) -> tuple[Attempt, bool]:
    """One Modbus read in UDP datagrams, AA55 answer expected: (attempt, answered)."""
    t0 = time.monotonic()
    where = f"{host}:{port} unit {unit}"
    loop = asyncio.get_running_loop()
    try:
        transport, proto = await loop.create_datagram_endpoint(_Udp, remote_addr=(host, port))
    except OSError as exc:
        return Attempt("goodwe-udp", where, "error", exc.strerror or str(exc), time.monotonic() - t0), False
    request = frames.rtu_read(unit, 3, address, 1)
    try:
        for attempt in range(tries):
            transport.sendto(request)
            deadline = time.monotonic() + timeout_s / tries
            buf = b""
            while (left := deadline - time.monotonic()) > 0:
                try:
                    data = await asyncio.wait_for(proto.queue.get(), left)
                except TimeoutError:
                    break
                if not data:
                    return Attempt("goodwe-udp", where, "refused", "ICMP port unreachable",
                                   time.monotonic() - t0), False
                buf += data
                answer = frames.parse_aa55(buf, unit, 3, 1)
                if answer is not None:
                    what = f"exception {answer.exception:02d}" if answer.is_exception else "registers"
                    return Attempt("goodwe-udp", where, "answer", f"AA55 answer ({what}), try {attempt + 1}",
                                   time.monotonic() - t0), True
        return Attempt("goodwe-udp", where, "silent", f"no AA55 answer to {tries} datagrams",
                       time.monotonic() - t0), False
    finally:
        transport.close()

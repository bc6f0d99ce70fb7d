"""The Modbus session: the one owner of a link, through which every request goes.

Runs on the device I/O thread's asyncio loop (never on the GUI thread).
Requests are serialised (a Modbus link answers one request at a time); each
has a timeout and a watchdog; timeouts, bad frames and "busy" answers are
retried with backoff; a lost link is reopened; exception replies become the
errors in ``protocols.errors``. Refusals (01/02) are remembered here and
only here, by the exact span (unit, function, address, count): the same span
is not asked again, a smaller or shifted span is (``Device`` falls back to
smaller spans that are really sent). Every answer is checked against its
request (unit, function, register count) before use; a misfit is a
FrameError and is retried. Gateway exceptions 0x0A/0x0B are retried once,
then become "no device answers at unit N behind HOST".
Counters per link: requests, failures, timeouts, latency p50/p95.
"""

from __future__ import annotations

import asyncio
import collections
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

from .errors import (
    DeviceBusy,
    FrameError,
    GatewayNoDevice,
    LinkError,
    ModbusTimeout,
    PointNotSupported,
    exception_for,
    frame_hint,
)
from .links.base import Link

StateListener = Callable[[str, str], None]


@dataclass
class LinkStats:
    """Counters of one link, as shown in the status bar and in diagnostics.

    A request the device answers with an exception (a wrong installer code, a
    value out of range) is ``refused``, not a failure: the link worked.
    """

    requests: int = 0
    failures: int = 0       # the link failed: no answer, bad frames, lost (after the retries)
    refused: int = 0        # the device answered with an exception: the link worked, the request did not
    timeouts: int = 0
    frame_errors: int = 0
    retries: int = 0
    reconnects: int = 0
    latencies_ms: collections.deque = field(default_factory=lambda: collections.deque(maxlen=1000))

    def percentile_ms(self, pct: float) -> float | None:
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(pct) - 1]

    def as_dict(self) -> dict:
        return {"requests": self.requests, "failures": self.failures, "refused": self.refused, "timeouts": self.timeouts,
                "frame_errors": self.frame_errors, "retries": self.retries,
                "reconnects": self.reconnects,
                "latency_p50_ms": self.percentile_ms(50), "latency_p95_ms": self.percentile_ms(95)}


class Session:
    """Serialised, retried, counted Modbus requests over one Link."""

    def __init__(self, link: Link, *, timeout_s: float = 1.0, retries: int = 2,
                 backoff_s: float = 0.1, inter_frame_delay_s: float = 0.0,
                 reconnect: bool = True) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.inter_frame_delay_s = inter_frame_delay_s
        self.reconnect = reconnect
        self.stats = LinkStats()
        #: refused spans, (unit, function, address, count): the one memory of refusals
        self.unsupported: set[tuple[int, int, int, int]] = set()
        self.state = "closed"
        self._lock = asyncio.Lock()
        self._last_answer_t = 0.0
        self._listeners: list[StateListener] = []

    # ------------------------------------------------------------------ state
    def add_state_listener(self, fn: StateListener) -> None:
        """Call ``fn(state, detail)`` on every change: connected, reconnecting, closed."""
        self._listeners.append(fn)

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            for fn in list(self._listeners):
                fn(state, detail)

    async def open(self) -> None:
        """Open the link; raises LinkError naming what to check."""
        await self.link.connect(self.timeout_s)
        self._set_state("connected", str(self.link.info))

    async def close(self) -> None:
        await self.link.close()
        self._set_state("closed")

    async def _ensure_open(self) -> None:
        if self.link.connected:
            return
        if not self.reconnect:
            raise LinkError(f"{self.link.info} is closed")
        self._set_state("reconnecting", f"{self.link.info} lost; reconnecting")
        await self.link.close()
        await self.link.connect(self.timeout_s)
        self.stats.reconnects += 1
        # "connected" is declared only once the device answers again (see execute).

    # --------------------------------------------------------------- requests
    async def execute(self, request: ModbusPDU, *, address: int = 0) -> ModbusPDU:
        """Send ``request`` (its dev_id is the unit) and return the answer.

        Retries timeouts, bad frames and busy answers; reconnects a lost link;
        raises the mapped error when all attempts failed.
        """
        key = span_of(request, address)
        if key in self.unsupported:
            raise PointNotSupported(2, request.function_code, address, request.dev_id)
        async with self._lock:
            last_exc: Exception | None = None
            gateway_retried = False
            attempt = -1
            while attempt < self.retries:
                attempt += 1
                if attempt:
                    self.stats.retries += 1
                    await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))
                try:
                    await self._ensure_open()
                except LinkError as exc:
                    last_exc = exc
                    continue
                gap = self.inter_frame_delay_s - (time.monotonic() - self._last_answer_t)
                if gap > 0:
                    await asyncio.sleep(gap)
                self.stats.requests += 1
                t0 = time.perf_counter()
                try:
                    response = await self.link.exchange(request, self.timeout_s)
                except ModbusTimeout as exc:
                    self.stats.timeouts += 1
                    last_exc = exc
                    continue
                except FrameError as exc:
                    self.stats.frame_errors += 1
                    last_exc = exc
                    continue
                except LinkError as exc:
                    last_exc = exc
                    if self.state == "connected":
                        self._set_state("reconnecting", f"{self.link.info} lost; reconnecting")
                    continue
                finally:
                    self._last_answer_t = time.monotonic()
                self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
                if self.state != "connected":
                    self._set_state("connected", str(self.link.info))
                misfit = check_answer(request, response, self.link.info)
                if misfit is not None:
                    self.stats.frame_errors += 1
                    last_exc = misfit
                    continue
                if isinstance(response, ExceptionResponse) or response.isError():
                    code = getattr(response, "exception_code", 4)
                    refusal = exception_for(code, request.function_code, address, request.dev_id)
                    if isinstance(refusal, PointNotSupported):
                        self.unsupported.add(key)
                    if isinstance(refusal, GatewayNoDevice):
                        refusal = GatewayNoDevice(code, request.function_code, address, request.dev_id,
                                                  host=self.link.info.target.split()[0])
                        last_exc = refusal
                        if not gateway_retried:   # a gateway may miss the first answer: ask once more
                            gateway_retried = True
                            attempt -= 1 if attempt == self.retries else 0
                            continue
                        self.stats.failures += 1
                        raise refusal
                    if isinstance(refusal, DeviceBusy):
                        last_exc = refusal
                        continue
                    self.stats.refused += 1
                    raise refusal
                return response
            self.stats.failures += 1
            if isinstance(last_exc, LinkError) and not self.link.connected:
                self._set_state("reconnecting", str(last_exc))
            assert last_exc is not None
            raise last_exc

    async def read_registers(self, address: int, count: int, *, function: str = "holding",
                             unit: int = 1) -> list[int]:
        """Read ``count`` holding or input registers from ``address`` of ``unit``."""
        cls = ReadHoldingRegistersRequest if function == "holding" else ReadInputRegistersRequest
        response = await self.execute(cls(address=address, count=count, dev_id=unit), address=address)
        return list(response.registers)

    def sibling(self, *, timeout_s: float | None = None, retries: int | None = None) -> "Session":
        """Another Session on the same link and the same request lock (one owner of the link still):
        its own retry policy and counters, for one of several units on a shared bus."""
        other = Session(self.link, timeout_s=self.timeout_s if timeout_s is None else timeout_s,
                        retries=self.retries if retries is None else retries, backoff_s=self.backoff_s,
                        inter_frame_delay_s=self.inter_frame_delay_s, reconnect=self.reconnect)
        other._lock = self._lock
        other.state = self.state
        return other

    async def write_registers(self, address: int, values: list[int], *, unit: int = 1) -> None:
        """Write holding registers (function 16, or 6 for a single register)."""
        if len(values) == 1:
            request: ModbusPDU = WriteSingleRegisterRequest(address=address, registers=[values[0]], dev_id=unit)
        else:
            request = WriteMultipleRegistersRequest(address=address, registers=list(values), dev_id=unit)
        await self.execute(request, address=address)


def span_of(request: ModbusPDU, address: int) -> tuple[int, int, int, int]:
    """The exact span a request asks: (unit, function, address, count of registers)."""
    count = getattr(request, "count", 0) if request.function_code in (3, 4, 16) else 0
    if not count:
        count = len(getattr(request, "registers", None) or []) or 1
    return (request.dev_id, request.function_code, address, count)


def check_answer(request: ModbusPDU, response: ModbusPDU, info) -> FrameError | None:
    """Why ``response`` is not the answer to ``request`` (unit, function, count), or None if it is.

    Every link's answers pass here; links check what only their framing can
    (byte count, MBAP protocol id, CRC) before.
    """
    fc = request.function_code
    kind = getattr(info, "kind", "")

    def bad(what: str) -> FrameError:
        return FrameError(f"unit {request.dev_id}: an answer that does not fit the request came back on "
                          f"{info} ({what})", hint=frame_hint(kind))
    dev_id = getattr(response, "dev_id", request.dev_id)
    if request.dev_id and dev_id != request.dev_id:
        return bad(f"unit {dev_id} answered")
    if isinstance(response, ExceptionResponse):
        if response.function_code & 0x7F != fc:
            return bad(f"an exception for function {response.function_code & 0x7F}, asked {fc}")
        return None
    if response.function_code != fc:
        return bad(f"function {response.function_code} answered, asked {fc}")
    if fc in (3, 4) and len(response.registers) != request.count:
        return bad(f"{len(response.registers)} registers for {request.count} asked")
    return None

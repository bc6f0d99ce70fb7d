"""Modbus RTU tunnelled over Bluetooth LE (bleak): scan, connect, fragment, reassemble.

Runs on the device I/O thread's asyncio loop. A request is an RTU frame built
by pymodbus's ``FramerRTU``, written to the profile's write characteristic in
pieces that fit the negotiated MTU; the answer comes back as notifications on
the notify characteristic and is reassembled until the framer's own length
rules say the frame is complete and its CRC checks. The link does not retry:
the Session above retries timeouts and bad frames and reconnects a lost link
(``close()`` then ``connect()``).

Discovery (``scan``, recognising a device, finding its GATT pair) is
``ble_scan.py``; bleak's errors become the LinkError subclasses of
``protocols.errors`` in ``ble_errors.py``. ``backend`` takes a pair of bleak
backend classes (scanner, client); None uses the platform's real backend.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import FrameError, LinkError, ModbusTimeout
from .base import Link, LinkInfo, answers
from .ble_errors import link_error_from_bleak, not_found, quiet_disconnect
from .ble_scan import Backend, BleDeviceInfo, ble_tables, is_address, pick_characteristics, scan_for, signal_bars

__all__ = ["DEFAULT_BACKEND", "Backend", "BleDeviceInfo", "BleLink", "LinkQuality", "ble_link_from_spec",
           "ble_tables", "is_address", "link_error_from_bleak", "scan", "signal_bars"]

#: Used by ``ble_link_from_spec`` and ``scan`` when no backend is given (tests bind the simulator's).
DEFAULT_BACKEND: Backend | None = None


@dataclass
class LinkQuality:
    """How well the Bluetooth link works: shown beside the connection and in diagnostics."""

    rssi_dbm: int | None = None
    signal_bars: int = 0
    mtu: int = 23
    frames_ok: int = 0
    frames_lost: int = 0      # answers that stopped short (a notification went missing)
    frames_bad: int = 0       # answers with a bad CRC or garbage
    stale_dropped: int = 0    # late answers (or their pieces) to an earlier request, thrown away
    junk_bytes: int = 0       # bytes skipped while looking for the start of an answer
    disconnects: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


async def scan(timeout_s: float = 5.0, profiles=None, backend: Backend | None = None, *,
               stale_s: float | None = None) -> list[BleDeviceInfo]:
    """Devices a profile recognises (by [ble] name_prefix or service_uuid), strongest first.

    ``profiles``: Profile objects (default: every shipped profile). A device
    that stopped advertising more than ``stale_s`` before the end (default:
    half the scan, at least 0.5 s) is left out: it has gone.
    """
    return await scan_for(timeout_s, ble_tables(profiles), backend or DEFAULT_BACKEND or (None, None), stale_s)


class BleLink(Link):
    """Modbus RTU frames over a GATT write characteristic and a notify characteristic."""

    def __init__(self, target: str, *, profiles=None, backend: Backend | None = None,
                 scan_timeout_s: float = 5.0, write_response: bool | None = None) -> None:
        super().__init__()
        self.target = target.strip()
        self.tables = ble_tables(profiles)
        self.backend = backend or DEFAULT_BACKEND or (None, None)
        self.scan_timeout_s = scan_timeout_s
        self.write_response = write_response
        self.info = LinkInfo("ble", self.target)
        self.quality = LinkQuality()
        self.address = self.target if is_address(self.target) else ""
        self.profile_name = ""
        self._client: Any = None        # bleak's BleakClient, once connected
        self._write_char: Any = None    # BleakGATTCharacteristic
        self._notify_char: Any = None
        self._chunk = 20
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._rx = b""
        self._junk = 0
        self._waiter: asyncio.Future | None = None
        self._request: ModbusPDU | None = None

    # ------------------------------------------------------------ connection
    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def _resolve(self, timeout_s: float) -> str:
        """The address of ``target``: itself, or the device of that name found by scanning."""
        if self.address:
            return self.address
        def is_target(dev: BleDeviceInfo) -> bool:
            return dev.name == self.target or dev.address.upper() == self.target.upper()
        found = await scan_for(max(timeout_s, self.scan_timeout_s), self.tables, self.backend, None, is_target)
        for dev in found:
            if is_target(dev):
                self.quality.rssi_dbm, self.quality.signal_bars = dev.rssi_dbm, dev.signal_bars
                return dev.address
        raise not_found(self.target, "no device of that name answered a scan")

    async def connect(self, timeout_s: float) -> None:
        from bleak import BleakClient
        address = await self._resolve(timeout_s)
        self.address = address
        try:
            client = BleakClient(address, disconnected_callback=self._on_disconnect,
                                 timeout=max(timeout_s, 5.0), backend=self.backend[1])
        except Exception as exc:  # a backend may fail already here (no Bluetooth stack)
            raise link_error_from_bleak(exc, f"connect to {address}") from None
        try:
            await asyncio.wait_for(client.connect(), max(timeout_s, 5.0) + 1.0)
            self._write_char, self._notify_char, self.profile_name = pick_characteristics(
                client.services, self.tables, self.target)
            await client.start_notify(self._notify_char, self._on_notify)
        except LinkError:
            await quiet_disconnect(client)
            raise
        except TimeoutError:
            await quiet_disconnect(client)
            raise not_found(address, "connecting timed out") from None
        except Exception as exc:  # bleak raises backend-specific errors; map them
            await quiet_disconnect(client)
            raise link_error_from_bleak(exc, f"connect to {address}") from None
        self._client = client
        # MTU: bleak's per-characteristic size is the authority for writes without response
        # (BlueZ reports mtu_size 23 whatever was negotiated); with response, MTU - 3.
        mtu = int(getattr(client, "mtu_size", 23) or 23)
        payload = self._write_char.max_write_without_response_size if self._use_no_response() else mtu - 3
        self._chunk = max(20, min(payload, 512))
        self.quality.mtu = max(mtu, self._chunk + 3)
        self.info = LinkInfo("ble", f"{self.target} ({address})" if self.target != address else address)

    def _use_no_response(self) -> bool:
        if self.write_response is not None:
            return not self.write_response
        return "write-without-response" in self._write_char.properties

    def _on_disconnect(self, _client=None) -> None:
        self.quality.disconnects += 1
        self._fail(LinkError(f"Bluetooth link to {self.target} was lost",
                             hint="move the laptop closer to the inverter; PVDesk reconnects by itself"))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await quiet_disconnect(client)
        self._fail(LinkError(f"Bluetooth link to {self.target} was closed"))

    # -------------------------------------------------------------- exchange
    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _on_notify(self, _char, data: bytearray) -> None:
        if self._waiter is None or self._waiter.done():
            self.quality.stale_dropped += 1
            return
        self._rx += bytes(data)
        self._try_decode()

    def _try_decode(self) -> None:
        """Complete the waiter once the framer's length rules see a whole frame with a good CRC.

        Bytes before the start of our answer (the tail of a late answer, noise)
        are skipped and counted; a late but whole answer is dropped.
        """
        req = self._request
        if req is None:
            return
        while len(self._rx) >= 2:
            buf = self._rx
            if not (buf[0] == req.dev_id and buf[1] & 0x7F == req.function_code):
                start = next((i for i in range(1, len(buf)) if buf[i] == req.dev_id and
                              (i + 1 == len(buf) or buf[i + 1] & 0x7F == req.function_code)), len(buf))
                self._junk += start
                self.quality.junk_bytes += start
                self._rx = buf[start:]
                continue
            if len(buf) < FramerRTU.MIN_SIZE:
                return
            pdu_class = self._framer.decoder.lookupPduClass(buf)
            size = pdu_class.calculateRtuFrameSize(buf) if pdu_class else 0
            if pdu_class is None:
                self._junk += 1
                self.quality.junk_bytes += 1
                self._rx = buf[1:]
                continue
            if not size or len(buf) < size:
                return
            frame = buf[:size]
            pdu = None
            if FramerRTU.check_CRC(frame[:-2], int.from_bytes(frame[-2:], "big")):
                pdu = self._framer.decoder.decode(frame[1:-2])
            self._trace("rx", frame)
            if pdu is None:
                self._bad(f"a {size}-byte answer with a bad CRC")
                return
            pdu.dev_id = frame[0]
            self._rx = buf[size:]
            if not answers(req, pdu):
                self.quality.stale_dropped += 1      # a late answer to an earlier request
                continue
            self._rx = b""
            self.quality.frames_ok += 1
            if self._waiter is not None:
                self._waiter.set_result(pdu)
            return

    def _bad(self, what: str) -> None:
        self.quality.frames_bad += 1
        self._trace("rx", self._rx)
        unit = self._request.dev_id if self._request else 0
        self._fail(FrameError(f"unit {unit}: {what} over Bluetooth",
                              hint="move closer to the inverter or away from Wi-Fi routers and metal; "
                                   "PVDesk retries by itself"))

    async def exchange(self, request: ModbusPDU, timeout_s: float) -> ModbusPDU:
        if not self.connected:
            raise LinkError(f"Bluetooth link to {self.target} is not connected")
        frame = self._framer.buildFrame(request)
        self._rx = b""
        self._junk = 0
        self._request = request
        self._waiter = asyncio.get_running_loop().create_future()
        self._trace("tx", frame)
        no_response = self._use_no_response()
        try:
            for i in range(0, len(frame), self._chunk):
                await self._client.write_gatt_char(self._write_char, frame[i:i + self._chunk],
                                                   response=not no_response)
            return await asyncio.wait_for(asyncio.shield(self._waiter), timeout_s)
        except TimeoutError:
            if self._junk and not self._rx:
                self.quality.frames_bad += 1
                raise FrameError(f"unit {request.dev_id}: {self._junk} bytes came back over Bluetooth but started "
                                 "no Modbus answer (the start was lost, or garbage)",
                                 hint="move closer to the inverter; PVDesk retries by itself") from None
            if self._rx:
                self.quality.frames_lost += 1
                raise ModbusTimeout(
                    f"unit {request.dev_id}: the answer stopped after {len(self._rx)} bytes "
                    f"(a Bluetooth notification was lost)",
                    hint="move closer to the inverter; PVDesk retries by itself") from None
            raise ModbusTimeout(f"unit {request.dev_id} did not answer within {timeout_s:.1f} s over Bluetooth",
                                hint="check the unit id and that the inverter's Bluetooth module is on") from None
        except (LinkError, asyncio.CancelledError):
            raise
        except Exception as exc:  # bleak's write errors
            if not self.connected:
                raise LinkError(f"Bluetooth link to {self.target} was lost during the request") from None
            raise link_error_from_bleak(exc, f"write to {self.target}") from None
        finally:
            self._waiter = None


def ble_link_from_spec(spec) -> BleLink:
    """The BleLink for a LinkSpec of kind "ble" (``ble_address`` is an address or a device name)."""
    if not spec.ble_address:
        raise ValueError("a Bluetooth connection needs a device address or name (see `pvdesk scan --ble`)")
    return BleLink(spec.ble_address)

"""Modbus RTU tunnelled over Bluetooth LE (bleak): scan, connect, fragment, reassemble.

Runs on the device I/O thread's asyncio loop. A request is an RTU frame built
by pymodbus's ``FramerRTU``, written to the profile's write characteristic in
pieces that fit the negotiated MTU; the answer comes back as notifications on
the notify characteristic and is reassembled until the framer's own length
rules say the frame is complete and its CRC checks. The link does not retry:
the Session above retries timeouts and bad frames and reconnects a lost link
(``close()`` then ``connect()``).

bleak's errors become the LinkError subclasses of ``protocols.errors`` with a
hint the user can act on (adapter missing or off, permission denied, pairing
needed, device not found). ``backend`` takes a pair of bleak backend classes
(scanner, client); None uses the platform's real backend.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU

from ..errors import (
    BluetoothAdapterMissing,
    BluetoothAdapterOff,
    BluetoothPairingRequired,
    BluetoothPermissionDenied,
    BluetoothUnavailable,
    DeviceNotFound,
    FrameError,
    LinkError,
    ModbusTimeout,
)
from .base import Link, LinkInfo

#: (scanner backend class, client backend class); None or a None member = the platform's real one.
Backend = tuple[Any, Any]

#: Used by ``ble_link_from_spec`` and ``scan`` when no backend is given (tests bind the simulator's).
DEFAULT_BACKEND: Backend | None = None

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$|^SI:MU:LA:TE(:[0-9A-F]{2}){2}$")


def is_address(text: str) -> bool:
    """A Bluetooth address (AA:BB:..), a macOS device UUID, or the simulator's address; else a name."""
    return bool(_ADDRESS.match(text.strip()))


def signal_bars(rssi_dbm: int | None) -> int:
    """0-4 bars for a received signal strength, as phones show it."""
    if rssi_dbm is None:
        return 0
    for bars, floor in ((4, -60), (3, -70), (2, -80), (1, -90)):
        if rssi_dbm >= floor:
            return bars
    return 0


@dataclass
class BleDeviceInfo:
    """One device heard in a scan that a shipped profile recognises."""

    name: str
    address: str
    rssi_dbm: int | None
    signal_bars: int
    profile: str

    @property
    def rssi(self) -> int | None:
        return self.rssi_dbm


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


def ble_tables(profiles=None) -> list[tuple[str, dict]]:
    """(profile name, [ble] table) of the given profiles, or of every shipped profile."""
    if profiles is None:
        from ..profiles import loader
        profiles = [loader.load(name) for name in loader.available()]
    return [(p.name, dict(p.ble)) for p in profiles if getattr(p, "ble", None)]


def _recognise(tables, name: str | None, uuids) -> str | None:
    uuids = {u.lower() for u in uuids or ()}
    for profile_name, table in tables:
        prefix = table.get("name_prefix")
        if prefix and name and name.startswith(prefix):
            return profile_name
        if table.get("service_uuid", "").lower() in uuids:
            return profile_name
    return None


async def scan(timeout_s: float = 5.0, profiles=None, backend: Backend | None = None, *,
               stale_s: float | None = None) -> list[BleDeviceInfo]:
    """Devices a profile recognises (by [ble] name_prefix or service_uuid), strongest first.

    ``profiles``: Profile objects (default: every shipped profile). A device
    that stopped advertising more than ``stale_s`` before the end (default:
    half the scan, at least 0.5 s) is left out: it has gone.
    """
    return await _scan(timeout_s, ble_tables(profiles), backend, stale_s)


async def _scan(timeout_s: float, tables, backend: Backend | None, stale_s: float | None,
                until=None) -> list[BleDeviceInfo]:
    """Scan for ``timeout_s``, or until a device satisfies ``until(info)``."""
    from bleak import BleakScanner
    backend = backend or DEFAULT_BACKEND or (None, None)
    loop = asyncio.get_running_loop()
    heard: dict[str, tuple[BleDeviceInfo, float]] = {}
    wanted = asyncio.Event()

    def on_advert(device, adv) -> None:
        name = adv.local_name or device.name
        profile = _recognise(tables, name, adv.service_uuids)
        if profile:
            info = BleDeviceInfo(name or device.address, device.address, adv.rssi, signal_bars(adv.rssi), profile)
            heard[device.address] = (info, loop.time())
            if until is not None and until(info):
                wanted.set()
    try:
        scanner = BleakScanner(detection_callback=on_advert, backend=backend[0])
        await scanner.start()
    except Exception as exc:  # bleak raises backend-specific errors; map them
        raise link_error_from_bleak(exc, "scan for Bluetooth devices") from None
    try:
        await asyncio.wait_for(wanted.wait(), timeout_s)
    except TimeoutError:
        pass
    finally:
        try:
            await asyncio.wait_for(scanner.stop(), 2.0)
        except Exception:  # noqa: BLE001 (stopping a scan that failed must not hide the result)
            pass
    fresh_s = stale_s if stale_s is not None else max(0.5, timeout_s / 2)
    now = loop.time()
    found = [info for info, seen in heard.values() if now - seen <= fresh_s]
    return sorted(found, key=lambda d: -(d.rssi_dbm if d.rssi_dbm is not None else -999))


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
        found = await _scan(max(timeout_s, self.scan_timeout_s), self.tables, self.backend, None, is_target)
        for dev in found:
            if is_target(dev):
                self.quality.rssi_dbm, self.quality.signal_bars = dev.rssi_dbm, dev.signal_bars
                return dev.address
        raise _not_found(self.target, "no device of that name answered a scan")

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
            self._pick_characteristics(client)
            await client.start_notify(self._notify_char, self._on_notify)
        except LinkError:
            await _quiet_disconnect(client)
            raise
        except TimeoutError:
            await _quiet_disconnect(client)
            raise _not_found(address, "connecting timed out") from None
        except Exception as exc:  # bleak raises backend-specific errors; map them
            await _quiet_disconnect(client)
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

    def _pick_characteristics(self, client) -> None:
        services = client.services
        for profile_name, table in self.tables:
            w = services.get_characteristic(table.get("write_uuid", ""))
            n = services.get_characteristic(table.get("notify_uuid", ""))
            if w is not None and n is not None:
                self._write_char, self._notify_char, self.profile_name = w, n, profile_name
                return
        raise LinkError(f"{self.target} offers no Modbus tunnel that a PVDesk profile knows",
                        hint="this Bluetooth device is not a supported inverter; pick another in the scan list")

    def _on_disconnect(self, _client=None) -> None:
        self.quality.disconnects += 1
        self._fail(LinkError(f"Bluetooth link to {self.target} was lost",
                             hint="move the laptop closer to the inverter; PVDesk reconnects by itself"))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _quiet_disconnect(client)
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
            if not _answers(req, pdu):
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


def _answers(request: ModbusPDU | None, pdu: ModbusPDU) -> bool:
    """Whether ``pdu`` is the answer to ``request`` (and not a late one to an earlier request)."""
    if request is None or pdu.dev_id != request.dev_id:
        return False
    if isinstance(pdu, ExceptionResponse):
        return (pdu.function_code & 0x7F) == request.function_code
    if pdu.function_code != request.function_code:
        return False
    if request.function_code in (3, 4):
        return len(pdu.registers) == request.count
    return True


def _not_found(what: str, why: str) -> LinkError:
    return DeviceNotFound(f"Bluetooth device {what} not found: {why}")


_PAIRING_WORDS = ("authentication", "authorization", "encryption", "pair", "notauthorized")


def link_error_from_bleak(exc: BaseException, doing: str) -> LinkError:
    """The LinkError (with a hint) for what bleak or the OS raised while ``doing``."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakGATTProtocolError
    from bleak.exc import BleakBluetoothNotAvailableReason as Why
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if isinstance(exc, LinkError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason in (Why.NO_BLUETOOTH, Why.NO_BLE_CENTRAL_ROLE):
            return BluetoothAdapterMissing(f"cannot {doing}: this computer has no Bluetooth LE adapter")
        if exc.reason == Why.POWERED_OFF:
            return BluetoothAdapterOff(f"cannot {doing}: Bluetooth is switched off")
        if exc.reason in (Why.DENIED_BY_USER, Why.DENIED_BY_SYSTEM, Why.DENIED_BY_UNKNOWN):
            return BluetoothPermissionDenied(f"cannot {doing}: the system denied PVDesk access to Bluetooth")
        return BluetoothUnavailable(f"cannot {doing}: Bluetooth is not available ({text})")
    if isinstance(exc, FileNotFoundError) or "no bluetooth adapters found" in low:
        # BlueZ: no D-Bus system socket or no adapter (hci0) at all.
        return BluetoothAdapterMissing(f"cannot {doing}: no Bluetooth adapter or Bluetooth service found")
    if isinstance(exc, PermissionError) or "accessdenied" in low or "not permitted" in low and "pair" not in low:
        return BluetoothPermissionDenied(f"cannot {doing}: the system denied access to Bluetooth ({text})")
    if "notready" in low or "not ready" in low or "powered off" in low or "turned off" in low:
        return BluetoothAdapterOff(f"cannot {doing}: the Bluetooth adapter is off or not ready")
    if isinstance(exc, BleakGATTProtocolError) and exc.code in (0x05, 0x08, 0x0C, 0x0F):
        return BluetoothPairingRequired(f"cannot {doing}: the device needs pairing ({text})")
    if any(w in low for w in _PAIRING_WORDS):
        return BluetoothPairingRequired(f"cannot {doing}: the device needs pairing ({text})")
    if isinstance(exc, BleakDeviceNotFoundError):
        return _not_found(exc.identifier, "it is not advertising (out of range, off, or connected to a phone)")
    return LinkError(f"cannot {doing} over Bluetooth: {text}")


async def _quiet_disconnect(client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 3.0)
    except Exception:  # noqa: BLE001 (closing a broken link must not raise)
        pass


def ble_link_from_spec(spec) -> BleLink:
    """The BleLink for a LinkSpec of kind "ble" (``ble_address`` is an address or a device name)."""
    if not spec.ble_address:
        raise ValueError("a Bluetooth connection needs a device address or name (see `pvdesk scan --ble`)")
    return BleLink(spec.ble_address)

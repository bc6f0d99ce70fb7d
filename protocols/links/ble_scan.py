"""Bluetooth LE discovery for the Modbus tunnel: which devices a profile recognises, and their GATT pair.

Runs on the device I/O thread's asyncio loop (``scan_for``) or anywhere (the
plain functions). A device is recognised by a shipped profile's ``[ble]``
table (``name_prefix`` or ``service_uuid``); once connected, the same table
names the write and notify characteristics of its tunnel. The link itself
(framing, exchange, quality) is ``ble.py``; the mapping of bleak's errors is
``ble_errors.py``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import LinkError
from .ble_errors import link_error_from_bleak

#: (scanner backend class, client backend class); None or a None member = the platform's real one.
Backend = tuple[Any, Any]

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


def ble_tables(profiles=None) -> list[tuple[str, dict]]:
    """(profile name, [ble] table) of the given profiles, or of every shipped profile."""
    if profiles is None:
        from ..profiles import loader
        profiles = [loader.load(name) for name in loader.available()]
    return [(p.name, dict(p.ble)) for p in profiles if getattr(p, "ble", None)]


def recognise(tables, name: str | None, uuids) -> str | None:
    """The name of the profile whose [ble] table matches an advert's name or service UUIDs, else None."""
    uuids = {u.lower() for u in uuids or ()}
    for profile_name, table in tables:
        prefix = table.get("name_prefix")
        if prefix and name and name.startswith(prefix):
            return profile_name
        if table.get("service_uuid", "").lower() in uuids:
            return profile_name
    return None


async def scan_for(timeout_s: float, tables, backend: Backend, stale_s: float | None,
                   until: Callable[[BleDeviceInfo], bool] | None = None) -> list[BleDeviceInfo]:
    """Scan for ``timeout_s``, or until a device satisfies ``until(info)``; strongest first.

    ``tables``: see ``ble_tables``; ``backend``: see ``Backend`` (the caller picks the default).
    """
    from bleak import BleakScanner
    loop = asyncio.get_running_loop()
    heard: dict[str, tuple[BleDeviceInfo, float]] = {}
    wanted = asyncio.Event()

    def on_advert(device, adv) -> None:
        name = adv.local_name or device.name
        profile = recognise(tables, name, adv.service_uuids)
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
        except Exception:  # stopping a scan that failed must not hide the result
            pass
    fresh_s = stale_s if stale_s is not None else max(0.5, timeout_s / 2)
    now = loop.time()
    found = [info for info, seen in heard.values() if now - seen <= fresh_s]
    return sorted(found, key=lambda d: -(d.rssi_dbm if d.rssi_dbm is not None else -999))


def pick_characteristics(services, tables, target: str) -> tuple[Any, Any, str]:
    """(write characteristic, notify characteristic, profile name) of the first profile whose tunnel
    ``services`` (bleak's BleakGATTServiceCollection) offers; LinkError if none does."""
    for profile_name, table in tables:
        w = services.get_characteristic(table.get("write_uuid", ""))
        n = services.get_characteristic(table.get("notify_uuid", ""))
        if w is not None and n is not None:
            return w, n, profile_name
    raise LinkError(f"{target} offers no Modbus tunnel that a PVDesk profile knows",
                    hint="this Bluetooth device is not a supported inverter; pick another in the scan list")

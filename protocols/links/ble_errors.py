"""What bleak or the operating system raised, as PVDesk's Bluetooth LinkErrors with a hint the user can act on.

Pure functions, any thread (``quiet_disconnect`` is a coroutine for the
device I/O loop). Adapter missing or off, permission denied, pairing needed,
device not found: each becomes its subclass of ``protocols.errors.LinkError``.
"""

from __future__ import annotations

import asyncio

from ..errors import (
    BluetoothAdapterMissing,
    BluetoothAdapterOff,
    BluetoothPairingRequired,
    BluetoothPermissionDenied,
    BluetoothUnavailable,
    DeviceNotFound,
    LinkError,
)


def not_found(what: str, why: str) -> LinkError:
    """DeviceNotFound for the Bluetooth device ``what``, saying ``why``."""
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
        return not_found(exc.identifier, "it is not advertising (out of range, off, or connected to a phone)")
    return LinkError(f"cannot {doing} over Bluetooth: {text}")


async def quiet_disconnect(client) -> None:
    """Disconnect bleak's ``client``, waiting at most 3 s, never raising."""
    try:
        await asyncio.wait_for(client.disconnect(), 3.0)
    except Exception:  # closing a broken link must not raise
        pass



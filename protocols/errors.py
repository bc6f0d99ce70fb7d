"""Errors of the protocol layer, each with what failed and what to check.

Runs on any thread. Messages name the device by link and unit id only, never
by customer data. Every class carries a short ``hint`` telling the user what
to check, so the CLI and the GUI can print one clear line.
"""

from __future__ import annotations


class PVDeskError(Exception):
    """Base of all errors that PVDesk reports to a user."""

    hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """The message and the hint on one line, for the CLI and status bars."""
        text = str(self)
        return f"{text} ({self.hint})" if self.hint else text


class ProfileError(PVDeskError):
    """A device profile is invalid; the message names file, entry and field."""

    hint = "fix the profile file or choose another profile"


class LinkError(PVDeskError):
    """The link could not be opened or was lost."""

    hint = "check the cable or network, the port name and that no other program holds the port"


class ModbusTimeout(LinkError):
    """The device did not answer in time."""

    hint = "check the unit id, baud rate, parity, wiring (A/B) and bus termination"


class FrameError(LinkError):
    """An answer was malformed: truncated, wrong CRC, garbage or the wrong length."""

    hint = "check the baud rate and parity, RS-485 termination and cable shielding"


class ModbusExceptionReply(PVDeskError):
    """The device answered with a Modbus exception code."""

    def __init__(self, code: int, function: int, address: int, unit: int) -> None:
        self.code = code
        self.function = function
        self.address = address
        self.unit = unit
        super().__init__(
            f"unit {unit} refused function {function} at address {address}: "
            f"exception {code:02d} ({EXCEPTION_NAMES.get(code, 'unknown')})"
        )


class PointNotSupported(ModbusExceptionReply):
    """Exception 01 or 02: the function or address is not implemented (remembered)."""

    hint = "this device does not implement that register; it will not be asked again"


class DeviceFailure(ModbusExceptionReply):
    """Exception 04: the device failed while executing the request."""

    hint = "read the device's fault log; the device reported an internal failure"


class DeviceBusy(ModbusExceptionReply):
    """Exception 05 or 06: the device is busy and asks to retry later."""

    hint = "the device is busy; PVDesk retries later by itself"


class IllegalValue(ModbusExceptionReply):
    """Exception 03: the device refused the value written or the quantity read."""

    hint = "the device refused the value; check the allowed range"


EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge, busy",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


def exception_for(code: int, function: int, address: int, unit: int) -> ModbusExceptionReply:
    """Map a Modbus exception code to the error class PVDesk acts on."""
    cls: type[ModbusExceptionReply]
    if code in (1, 2):
        cls = PointNotSupported
    elif code == 3:
        cls = IllegalValue
    elif code == 4:
        cls = DeviceFailure
    elif code in (5, 6):
        cls = DeviceBusy
    else:
        cls = ModbusExceptionReply
    return cls(code, function, address, unit)


class DeviceNotFound(LinkError):
    """A wireless device (Bluetooth LE or a Wi-Fi logger) did not show up."""

    hint = "check the device is powered and in range, and not connected to a phone app; scan again"


class BluetoothUnavailable(LinkError):
    """Bluetooth cannot be used on this computer right now."""

    hint = "check that this computer has Bluetooth and that it is switched on"


class BluetoothAdapterMissing(BluetoothUnavailable):
    """No Bluetooth adapter, or no Bluetooth service to reach it."""

    hint = ("plug in a Bluetooth adapter or enable the built-in one; on Linux install and start "
            "BlueZ (systemctl start bluetooth); or connect by RS-485 or Wi-Fi instead")


class BluetoothAdapterOff(BluetoothUnavailable):
    """The Bluetooth adapter is there but switched off."""

    hint = "switch Bluetooth on in the system settings (and turn off flight mode), then try again"


class BluetoothPermissionDenied(BluetoothUnavailable):
    """The operating system does not let PVDesk use Bluetooth."""

    hint = ("allow PVDesk to use Bluetooth: macOS System Settings > Privacy & Security > Bluetooth; "
            "Windows Settings > Privacy > Bluetooth; Linux: add your user to the 'bluetooth' group")


class BluetoothPairingRequired(LinkError):
    """The device needs pairing (or the pairing was lost) before it answers."""

    hint = ("pair the inverter in the system's Bluetooth settings with the PIN on its label "
            "(remove an old pairing first), then connect again")

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
    """The device did not answer in time (the link raising it gives the hint fitting its transport)."""

    hint = "check the unit id and that the device is on"


class FrameError(LinkError):
    """An answer was malformed or did not fit the request (the link gives the transport's hint)."""

    hint = "PVDesk retries by itself; if it persists, check the link to the device"


#: What to check, by link kind, when a device stays silent or answers garbage. TCP-like links
#: never get serial-line advice (baud, parity, A/B, termination) and vice versa.
TIMEOUT_HINTS = {
    "serial": "check the unit id, baud rate, parity, wiring (A/B) and bus termination",
    "rtu-over-tcp": "check the unit id, and the serial server's baud rate, parity and RS-485 wiring to the device",
    "tcp": "check the unit id (many inverters answer only at unit 1, some at 247 or 0xF7) and that the "
           "device or gateway forwards Modbus TCP requests",
}
FRAME_HINTS = {
    "serial": "check the baud rate and parity, RS-485 termination and cable shielding",
    "rtu-over-tcp": "check the serial server's baud rate and parity and the RS-485 wiring behind it",
    "tcp": "the device answered something that is not a Modbus TCP answer to this request: check that "
           "the port is the device's Modbus TCP port (502 by default), not a web or logger port",
}


def timeout_hint(kind: str) -> str:
    return TIMEOUT_HINTS.get(kind, ModbusTimeout.hint)


def frame_hint(kind: str) -> str:
    return FRAME_HINTS.get(kind, FrameError.hint)


class EchoReceived(FrameError):
    """The bytes that came back are exactly the request: the adapter (or a serial server) echoes."""

    hint = ("the RS-485 adapter echoes what it sends (2-wire adapters without echo suppression): "
            "connect again with --local-echo (the 'local echo' box in the connection panel)")


class ConnectionRefused(LinkError):
    """A TCP port that nothing listens on: the host answered, the port refused."""

    hint = ("the host is there but refuses that port: check the port number (Modbus TCP is 502, a "
            "Solarman logger 8899) and that Modbus TCP is enabled on the device")


class NoNetworkAnswer(LinkError):
    """A TCP connection attempt that got no answer at all (host down, wrong address, firewall)."""

    hint = ("check the IP address, that the laptop is on the device's network and that no firewall "
            "blocks the port")


class SessionTaken(LinkError):
    """The device accepted the connection, then closed it before answering anything."""

    hint = ("another client (the vendor's Wi-Fi/LAN dongle, a home-automation system or another PVDesk) "
            "may hold the inverter's only Modbus TCP session: stop it or unplug it, then connect again")


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


class GatewayNoDevice(ModbusExceptionReply):
    """Exception 0x0A/0x0B from a gateway: nothing answers at that unit id behind it."""

    hint = ("check the unit id (see `pvdesk scan`), the wiring and baud rate between the gateway and "
            "the inverter, and that the inverter is on")

    def __init__(self, code: int, function: int, address: int, unit: int, host: str = "the gateway") -> None:
        super().__init__(code, function, address, unit)
        self.host = host
        self.args = (f"no device answers at unit {unit} behind {host} "
                     f"(gateway exception {code:02d}: {EXCEPTION_NAMES.get(code, 'unknown')})",)


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
    if code in (1, 2):
        cls = PointNotSupported
    elif code == 3:
        cls = IllegalValue
    elif code == 4:
        cls = DeviceFailure
    elif code in (5, 6):
        cls = DeviceBusy
    elif code in (10, 11):
        return GatewayNoDevice(code, function, address, unit)
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


class LoggerSerialMismatch(PVDeskError):
    """A Solarman logger answered with its own serial, not the one asked (a configuration error, not retried)."""

    hint = "connect with the serial this logger reports (--logger-serial), printed on the stick's label"


class InverterSilentBehindLogger(ModbusTimeout):
    """The Wi-Fi logger answered, but with no Modbus answer: the inverter behind it did not answer."""

    hint = ("the logger works; check its RS-485 cable to the inverter, the unit id (most inverters: 1) and "
            "that the inverter is on (many switch their RS-485 port off at night)")

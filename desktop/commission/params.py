"""Parameters of a device: listing with current values, validation, safe writes, the write history.

Runs on the device I/O thread's asyncio loop (the coroutines) and on any
thread (``check``, the data classes). No Qt.

A write goes: ``check`` (validated against the profile; nothing is sent if it
breaks a rule) -> confirmation (points with ``confirm = true``: the caller asks
the user first and passes ``confirmed=True``) -> installer login (points with
``protected = true`` on a profile that has an ``installer_login`` point: the
code is asked once and kept in memory for this session only, and written
before each protected write so the device's login window is open) -> the old
value is read -> ``Device.write_point`` (written, read back, compared) -> one
history entry (old, new, read-back, result, time, installer id) in the app's
data folder, keyed by device serial. A device refusal or a read-back mismatch
is returned as a WriteResult with ``ok = False`` and a message saying which.
"""

from __future__ import annotations

import struct
import time
from dataclasses import asdict, dataclass, field, replace

from protocols import codecs
from protocols.device import Device, WriteRefused
from protocols.errors import PVDeskError
from protocols.profiles.model import Point, Profile
from protocols.reader import describe

from .storage import WriteHistory
from .typed_value import parse_setting, range_text

LOGIN_POINT = "installer_login"


class ConfirmationNeeded(PVDeskError):
    """The point is safety-relevant: the user must confirm the change first."""

    hint = "confirm the change (the profile marks this setting as safety-relevant)"


class LoginNeeded(PVDeskError):
    """The point is protected behind the device's installer login and no code was given."""

    hint = "enter the installer code (kept in memory for this session only)"


class LoginFailed(PVDeskError):
    """The device did not accept the installer code."""

    hint = "check the installer code in the installation manual or ask the manufacturer's support"


ROLE_POINT = "parallel_role"   # canonical name of a parallel system role (single / master / slave)


def parameter_points(profile: Profile) -> list[Point]:
    """Writable points shown to the installer (the login register is not a setting)."""
    return [p for p in profile.parameters if p.name != LOGIN_POINT]


def transferable_points(profile: Profile) -> list[Point]:
    """Settings that can be saved and applied: writable, read back (no clock, no login), and not the
    parallel role: a master's file applied to a slave must not make it a second master."""
    role = profile.resolve(ROLE_POINT)
    return [p for p in parameter_points(profile) if p.readback and p.name != role]


def value_text(point: Point, value) -> str:
    """A value as the installer reads it: label with raw code, number with unit, or n/a."""
    if value is None:
        return "—"
    return describe(point, value)


def plain(value):
    """A value fit for JSON: NOT_IMPLEMENTED becomes None."""
    return None if value is codecs.NOT_IMPLEMENTED else value


def same_value(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return False
    return a == b


@dataclass
class ParamInfo:
    """One writable parameter with its current value, for tables and editors."""

    name: str
    label: str
    unit: str
    kind: str                   # "choice", "number" or "text"
    value: object
    text: str
    choices: dict[int, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    step: float = 1.0           # the smallest change the register can hold (its scale)
    description: str = ""
    confirm: bool = False
    protected: bool = False
    readback: bool = True

    @classmethod
    def from_point(cls, p: Point, value, step: float | None = None) -> "ParamInfo":
        kind = "choice" if p.enum else ("text" if p.type == "string" else "number")
        return cls(p.name, p.label or p.name, p.unit, kind, plain(value), value_text(p, value), dict(p.enum),
                   p.min, p.max, p.scale if step is None else step, p.description, p.confirm, p.protected,
                   p.readback)

    @property
    def decimals(self) -> int:
        return 0 if self.step >= 1 else len(f"{self.step:.6f}".rstrip("0").split(".")[1])

    def allowed_text(self) -> str:
        """Range or choices, e.g. '0 … 10000 W' or '0 Off, 1 On'."""
        if self.choices:
            return ", ".join(f"{k} {v}" for k, v in sorted(self.choices.items()))
        if self.min is not None and self.max is not None:
            return f"{self.min:g} … {self.max:g} {self.unit}".strip()
        return "any" if self.kind != "text" else "text"


@dataclass
class WritePlan:
    """A validated write: the value as the register will hold it, and what it needs."""

    point: Point
    value: object
    text: str
    confirm: bool
    protected: bool


@dataclass
class WriteResult:
    """What happened to one write that was sent."""

    name: str
    label: str
    old: object
    new: object
    readback: object
    ok: bool
    result: str                 # "ok", "sent" (no read-back), "unchanged", "mismatch", "refused"
    message: str
    time_s: float
    installer: str
    old_text: str = ""
    new_text: str = ""
    readback_text: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


async def device_serial(device: Device) -> str:
    """The device's serial number, or a stand-in naming profile and unit when it has none."""
    for name in ("serial_number",):
        if device.profile.has(name):
            v = (await device.read_names([name]))[name]
            if isinstance(v, str) and v.strip():
                return v.strip()
    for c in await device.firmware():
        if c.get("serial"):
            return str(c["serial"])
    return f"{device.profile.name}-unit{device.unit}"


class ParamSession:
    """Writes to one device by one installer; keeps the installer code in memory only."""

    def __init__(self, device: Device, installer: str = "installer", history: WriteHistory | None = None,
                 serial: str | None = None, clock=time.time) -> None:
        self.device = device
        self.profile = device.profile
        self.installer = installer
        self.history = history if history is not None else WriteHistory()
        self.serial = serial
        self.clock = clock
        self.results: list[WriteResult] = []   # this session's writes, oldest first (for the report)
        self._code: str | None = None

    # ----------------------------------------------------------- reading
    async def ensure_serial(self) -> str:
        if not self.serial:
            self.serial = await device_serial(self.device)
        return self.serial

    async def read_all(self, names: list[str] | None = None) -> list[ParamInfo]:
        """Every parameter (or ``names``) with its current value, in profile order."""
        points = parameter_points(self.profile)
        if names is not None:
            points = [p for p in points if p.name in names]
        values = await self.device.read_names([p.name for p in points]) if points else {}
        return [ParamInfo.from_point(p, values.get(p.name), self._step(p)) for p in points]

    def _step(self, point: Point) -> float:
        """The smallest change the register holds: its scale, with the live scale factor (SunSpec)."""
        try:
            return self.device.effective_scale(point)
        except WriteRefused:
            return point.scale

    async def _ensure_scale_factor(self, name: str) -> None:
        """Read a point's scale factor before validating a value for it (SunSpec controls)."""
        point = self.profile.point(name) if self.profile.has(name) else None
        if point is not None and point.scale_factor and self.profile.has(point.scale_factor) \
                and point.scale_factor not in self.device.scale_factors:
            await self.device.read_names([point.scale_factor])

    # -------------------------------------------------------- validation
    def check(self, name: str, value) -> WritePlan:
        """Validate ``value`` for ``name`` against the profile; WriteRefused names the rule broken."""
        try:
            point = self.profile.point(name)
        except KeyError:
            raise WriteRefused(f"{name!r} is not a parameter of {self.profile.title}",
                               hint="list the parameters with 'pvdesk params list'") from None
        if point.name == LOGIN_POINT:
            raise WriteRefused("the installer login is not a setting", hint="use the login instead")
        if not point.writable:
            raise WriteRefused(f"{point.label or point.name} is read-only")
        if point.type not in ("string", "datetime", "time"):
            # typed, unit-aware, in steps of the live scale (a SunSpec point's scale factor); WriteRefused names
            # the setting and its range, and a scale factor not read or not implemented
            value = parse_setting(replace(point, scale=self.device.effective_scale(point)), value)
        try:
            regs = self.device.validate(point, value)
        except (ValueError, OverflowError, TypeError, struct.error) as exc:
            raise WriteRefused(f"{point.name}: {value!r} cannot be encoded as {point.type} "
                               f"({type(exc).__name__}); allowed: {range_text(point)}") from None
        effective = codecs.apply_scale(codecs.decode_point(regs, point), self.device.effective_scale(point))
        if point.invert and isinstance(effective, (int, float)):
            effective = -effective
        if isinstance(effective, float) and effective.is_integer() and self.device.effective_scale(point) >= 1:
            effective = int(effective)
        return WritePlan(point, effective, value_text(point, effective), point.confirm,
                         point.protected and self.has_login)

    @property
    def has_login(self) -> bool:
        """The device has an installer login register (protected points need its code)."""
        return self.profile.has(LOGIN_POINT)

    @property
    def logged_in(self) -> bool:
        return self._code is not None

    def needs_login(self, name: str) -> bool:
        p = self.profile.point(name)
        return p.protected and self.has_login and self._code is None

    # ------------------------------------------------------------- login
    async def login(self, code: str) -> None:
        """Check ``code`` with the device and keep it (memory only) for this session."""
        code = str(code).strip()
        if not code.isdigit() or not 0 < int(code) <= 9999:
            raise LoginFailed("the installer code is a number of 1 to 4 digits")
        await self._send_login(code)
        self._code = code

    def forget_login(self) -> None:
        self._code = None

    async def _send_login(self, code: str) -> None:
        try:
            await self.device.write_point(LOGIN_POINT, int(code))
        except WriteRefused as exc:
            if exc.reason == "device":
                raise LoginFailed("the device did not accept the installer code") from None
            raise

    # ------------------------------------------------------------- write
    async def write(self, name: str, value, *, confirmed: bool = False) -> WriteResult:
        """Validate, confirm, log in, write, read back, record; see the module docstring.

        Raises before sending (WriteRefused with reason "rule", ConfirmationNeeded,
        LoginNeeded, LoginFailed); once sent, the outcome is the returned WriteResult.
        """
        await self._ensure_scale_factor(name)
        plan = self.check(name, value)
        point = plan.point
        if plan.confirm and not confirmed:
            raise ConfirmationNeeded(f"{point.label or name} is safety-relevant: confirm {plan.text}")
        if plan.protected:
            if self._code is None:
                raise LoginNeeded(f"{point.label or name} is protected by the installer login")
            await self._send_login(self._code)
        serial = await self.ensure_serial()
        old = plain((await self.device.read_names([name]))[name]) if point.readback else None
        readback, ok, result, message = None, True, "ok", ""
        try:
            readback = plain(await self.device.write_point(name, plan.value))
            if not point.readback:
                readback, result, message = None, "sent", "written; this setting does not read back"
        except WriteRefused as exc:
            if exc.reason == "rule":
                raise
            ok = False
            result = "mismatch" if exc.reason == "readback" else "refused"
            readback = plain(getattr(exc, "readback", None))
            message = exc.one_line()
        res = WriteResult(name, point.label or name, old, plan.value, readback, ok, result, message,
                          self.clock(), self.installer, value_text(point, old) if point.readback else "",
                          plan.text, value_text(point, readback) if readback is not None else "")
        self.results.append(res)
        self.history.append({"time_s": res.time_s, "serial": serial, "profile": self.profile.name,
                             "point": name, "label": res.label, "old": old, "new": plan.value,
                             "readback": readback, "result": result, "installer": self.installer,
                             "message": message})
        return res

    async def write_many(self, values: dict, *, confirmed: bool = False,
                         stop_on_error: bool = True) -> list[WriteResult]:
        """Write ``values`` in profile order after checking them all (nothing is sent if one is bad)."""
        order = {p.name: i for i, p in enumerate(self.profile.points)}
        names = sorted(values, key=lambda n: order.get(n, 1 << 30))
        for n in names:
            await self._ensure_scale_factor(n)
            plan = self.check(n, values[n])
            if plan.confirm and not confirmed:
                raise ConfirmationNeeded(f"{plan.point.label or n} is safety-relevant: confirm {plan.text}")
            if plan.protected and self._code is None:
                raise LoginNeeded(f"{plan.point.label or n} is protected by the installer login")
        out = []
        for n in names:
            res = await self.write(n, values[n], confirmed=confirmed)
            out.append(res)
            if not res.ok and stop_on_error:
                break
        return out

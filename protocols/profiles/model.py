"""Device profile objects: points, faults, firmware components, identity.

Runs on any thread; immutable after loading. A profile is data (a TOML file
under ``resources/profiles/``, or built from SunSpec model definitions); these
classes are its checked, typed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import codecs

FUNCTIONS = {"holding": 3, "input": 4}
RATES_S = {"fast": 1.0, "slow": 10.0, "once": 0.0}


@dataclass(frozen=True)
class Point:
    """One value on the device: where it lives and how it decodes."""

    name: str
    address: int
    type: str
    function: str = "holding"
    count: int | None = None
    word_order: str = "big"
    scale: float = 1.0
    scale_factor: str | None = None
    unit: str = ""
    label: str = ""
    category: str = "other"
    rate: str = "fast"
    range: tuple[float, float] | None = None
    enum: dict[int, str] = field(default_factory=dict)
    bits: dict[int, str] = field(default_factory=dict)
    sentinel: bool = True
    invert: bool = False  # the device counts the other way round: value = -(raw * scale)
    writable: bool = False
    min: float | None = None
    max: float | None = None
    confirm: bool = False
    readback: bool = True
    protected: bool = False
    description: str = ""

    @property
    def width(self) -> int:
        """Registers the point occupies."""
        return codecs.width(self.type, self.count)

    @property
    def end(self) -> int:
        """First address after the point."""
        return self.address + self.width

    @property
    def function_code(self) -> int:
        return FUNCTIONS[self.function]


@dataclass(frozen=True)
class FaultCode:
    """What a fault or alarm code means."""

    code: int
    text: str
    severity: str = "error"
    cause: str = ""     # the vendor's explanation, where its document gives one
    remedy: str = ""    # what the installer should do, from the vendor's document
    affects: tuple[str, ...] = ()  # canonical quantities the fault stops or falsifies (pv_power_w, ...)


@dataclass(frozen=True)
class AlarmWord:
    """A bitfield point whose bits are active alarms."""

    point: str
    bits: dict[int, FaultCode]


@dataclass(frozen=True)
class FaultHistory:
    """A ring of fault entries in registers: code (u16), time (u32, Unix s), detail (u16)."""

    address: int
    entries: int
    function: str = "input"
    entry_registers: int = 4
    count_point: str | None = None


@dataclass(frozen=True)
class FirmwareComponent:
    """A component whose firmware version the device reports."""

    component: str
    label: str
    version_point: str
    hardware_point: str | None = None
    serial_point: str | None = None


@dataclass(frozen=True)
class IdentityRule:
    """One check that recognises the model: a point equals a value or starts with a prefix."""

    point: str
    equals: int | str | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class Profile:
    """A checked device profile."""

    name: str
    title: str
    vendor: str
    source: str
    points: tuple[Point, ...]
    identity: tuple[IdentityRule, ...] = ()
    identity_points: tuple[str, ...] = ()
    unreadable: tuple[tuple[int, int], ...] = ()
    max_read_registers: int = 125
    alarms: tuple[AlarmWord, ...] = ()
    fault_codes: dict[int, FaultCode] = field(default_factory=dict)
    fault_history: FaultHistory | None = None
    firmware: tuple[FirmwareComponent, ...] = ()
    upgrade_method: str | None = None
    upgrade_base: int | None = None
    ble: dict = field(default_factory=dict)
    kind: str = "map"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.points})

    def point(self, name: str) -> Point:
        """The point called ``name``; KeyError names the profile if absent."""
        try:
            return self._by_name[name]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"profile {self.name} has no point {name!r}") from None

    def has(self, name: str) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    def resolve(self, canonical: str) -> str | None:
        """The point that carries PVDesk's canonical quantity ``canonical``, or None if the device has none.

        The one place canonical names (``pv_power_w``, ``grid_power_w`` + import, ``battery_power_w``
        + discharge, ``battery_soc_pct``, ...) are mapped to a profile's own points: a point of that
        name, else the profile's alias (``extra["aliases"]``: canonical -> point name, as SunSpec
        profiles and computed points provide). The dashboard, ``monitor``, the recorder, the CT
        check and the wizard all ask here.
        """
        if self.has(canonical):
            return canonical
        alias = self.extra.get("aliases", {}).get(canonical)
        return alias if alias and self.has(alias) else None

    @property
    def parameters(self) -> tuple[Point, ...]:
        """The writable points, in profile order."""
        return tuple(p for p in self.points if p.writable)

    def points_by_rate(self, rate: str) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.rate == rate)

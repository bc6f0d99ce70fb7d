"""Device profile objects: points, faults, firmware components, identity.

Runs on any thread; immutable after loading. A profile is data (a TOML file
under ``resources/profiles/``, or built from SunSpec model definitions); these
classes are its checked, typed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import codecs

FUNCTIONS = {"holding": 3, "input": 4}
COMPUTE_OPS = ("sum", "difference", "product", "ratio", "first", "field")


@dataclass(frozen=True)
class Compute:
    """How a computed point is made from other points (see ``protocols.profiles.computed``).

    ``op``: sum, difference (first minus the rest), product, ratio (first / second),
    first (the first input that is available), field (bits ``shift`` .. ``shift + width - 1``
    of one input). ``missing``: "na" (any input n/a -> n/a) or "skip" (n/a inputs are left
    out; n/a only when all are).
    """

    op: str
    inputs: tuple[str, ...]
    missing: str = "na"
    shift: int = 0
    width: int = 16


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
    sentinels: tuple[int, ...] = ()   # raw register values (unsigned) that mean "not available"
    plausible: tuple[float, float] | None = None  # values outside are impossible: shown n/a
    encoding: str = ""                 # string: ascii|utf16; datetime: binary|bcd|epoch; time: bytes|decimal|minutes|bcd
    layout: tuple[str, ...] = ()       # datetime fields in wire order
    year_offset: int = 0
    offset: float = 0.0                # value = raw * scale + offset (Deye temperatures: raw/10 - 100)
    compute: Compute | None = None     # a computed point: no registers of its own

    @property
    def computed(self) -> bool:
        return self.compute is not None

    @property
    def width(self) -> int:
        """Registers the point occupies (0 for a computed point)."""
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
    """One check that recognises the model (see ``protocols.profiles.identity``).

    A leaf names a ``point`` and one test: ``equals``, ``one_of`` (a list), ``prefix``,
    ``contains``, ``regex`` (searched in the text), ``range`` (inclusive, numbers);
    ``negate`` turns it round. A group holds ``any_of`` or ``all_of`` sub-rules.
    """

    point: str | None = None
    equals: int | str | None = None
    prefix: str | None = None
    contains: str | None = None
    regex: str | None = None
    one_of: tuple = ()
    range: tuple[float, float] | None = None
    negate: bool = False
    any_of: tuple["IdentityRule", ...] = ()
    all_of: tuple["IdentityRule", ...] = ()

    def points(self) -> list[str]:
        """Every point the rule reads."""
        out = [self.point] if self.point else []
        for sub in self.any_of + self.all_of:
            out += [n for n in sub.points() if n not in out]
        return out

    def describe(self) -> str:
        """One line saying what the rule checks."""
        if self.any_of or self.all_of:
            joiner = " or " if self.any_of else " and "
            return "(" + joiner.join(r.describe() for r in (self.any_of or self.all_of)) + ")"
        for key in ("equals", "prefix", "contains", "regex", "range"):
            v = getattr(self, key)
            if v is not None:
                words = {"equals": "=", "prefix": "starts with", "contains": "contains",
                         "regex": "matches", "range": "in"}[key]
                text = f"{self.point} {words} {v!r}"
                break
        else:
            text = f"{self.point} is one of {list(self.one_of)!r}"
        return f"not ({text})" if self.negate else text


@dataclass(frozen=True)
class LinkDefaults:
    """How a family is usually reached: unit ids, TCP ports, serial settings (scan and detection use them)."""

    units: tuple[int, ...] = (1,)
    tcp_ports: tuple[int, ...] = (502,)
    baud: int = 9600
    parity: str = "N"
    stopbits: int = 1
    exclusive: bool = False   # the family answers only at these unit ids (Victron GX services): detection asks nowhere else
    notes: str = ""


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
    priority: int = 0                  # identity: higher is tried first (a family inside a brand before the brand)
    defaults: LinkDefaults = field(default_factory=LinkDefaults)
    verified: bool = True              # False: no real capture proves the map ("unverified on hardware")
    address_base: int = 0              # 1: the vendor's document counts from 1; addresses were shifted on load

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

    @property
    def register_points(self) -> tuple[Point, ...]:
        """The points that live in registers (not computed)."""
        return tuple(p for p in self.points if not p.computed)

    def identity_rule_points(self) -> list[str]:
        """Every point the identity rules read, in rule order."""
        out: list[str] = []
        for rule in self.identity:
            out += [n for n in rule.points() if n not in out]
        return out

    def points_by_rate(self, rate: str) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.rate == rate)

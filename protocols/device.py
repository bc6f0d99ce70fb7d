"""A device on a session: read points, identity, firmware versions, alarms, raw registers, writes.

Runs on the device I/O thread's asyncio loop. It plans reads with
``reader.plan_reads`` and decodes with the profile. A block the device
refuses (exception 01/02) is split (``Device._split``) and every part is really
sent, down to single points; only a single point refused is "n/a". What was refused is
remembered by the Session alone, by exact span, so repeated reads ask again
exactly the spans that were answered and never lose a point.
"""

from __future__ import annotations

import time

from . import codecs, faults
from .errors import IllegalValue, PointNotSupported, PVDeskError
from .profiles import computed
from .profiles.model import Point, Profile
from .reader import ReadBlock, decode_points, engineering, plan_reads
from .sample import Sample
from .session import Session

#: Points whose value is a secret (the installer login code): never quoted in a message.
SECRET_POINTS = frozenset({"installer_login"})

#: Registers read during discovery stand for the first snapshot only if younger than this.
PRIMED_MAX_AGE_S = 5.0


class WriteRefused(PVDeskError):
    """A write was refused before sending (validation) or by the device.

    ``reason`` says which: "rule" (the profile's range or choices, nothing was
    sent), "device" (an exception reply, ``code`` holds it; for a protected
    point it may mean the installer login is closed) or "readback" (written,
    but the device holds another value).
    """

    readback: object = None   # with reason "readback": what the device holds
    hint = "check the allowed range and whether the parameter needs a login"

    def __init__(self, message: str, hint: str | None = None, reason: str = "rule",
                 code: int | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason
        self.code = code


class Device:
    """One unit id on a session, read and written through its profile."""

    def __init__(self, session: Session, profile: Profile, unit: int = 1) -> None:
        self.session = session
        self.profile = profile
        self.unit = unit
        self.reads_last = 0
        self._plans: dict[tuple, list[ReadBlock]] = {}
        self.scale_factors: dict[str, object] = {}   # last raw value of each scale-factor point read
        self._primed = self._take_snapshot(profile, unit)

    @staticmethod
    def _take_snapshot(profile: Profile, unit: int) -> dict[int, int]:
        """Registers discovery just read (SunSpec), served once as the first snapshot while fresh."""
        snap = profile.extra.pop("sunspec_snapshot", None) if isinstance(profile.extra, dict) else None
        if not snap or snap.get("unit") != unit or time.monotonic() - snap.get("time", 0) > PRIMED_MAX_AGE_S:
            return {}
        return dict(snap.get("holding", {}))

    # ------------------------------------------------------------------ read
    def plan(self, points) -> list[ReadBlock]:
        """The fewest reads for ``points`` (cached per set of points)."""
        key = tuple(p.name for p in points)
        cached = self._plans.get(key)
        if cached is not None:
            return cached
        blocks = plan_reads(points, self.profile.max_read_registers, self.profile.unreadable)
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[key] = blocks
        return blocks

    async def _read_block(self, block: ReadBlock) -> dict:
        if self._is_primed(block):
            return decode_points(block, [self._primed[a] for a in range(block.address, block.end)])
        regs = await self.session.read_registers(block.address, block.count,
                                                 function=block.function, unit=self.unit)
        return decode_points(block, regs)

    async def read_raw_points(self, points) -> dict:
        """Raw decoded values of ``points``; refused points read as NOT_IMPLEMENTED."""
        raws: dict[str, object] = {}
        self.reads_last = 0
        plan = self.plan(points)
        leaves: list[ReadBlock] = []
        for block in plan:
            await self._read_or_split(block, raws, leaves)
        if len(leaves) != len(plan):
            # The blocks that were answered (and the single points refused) are the plan from now on;
            # it is derived from the Session's memory of refusals, it does not replace it.
            self._plans[tuple(p.name for p in points)] = self._merge_answered(leaves)
        for p in points:
            if p.type == "sunssf" and p.name in raws:
                self.scale_factors[p.name] = raws[p.name]
        self._primed = {}
        return raws

    async def _read_or_split(self, block: ReadBlock, raws: dict, leaves: list) -> None:
        """Read ``block``; if refused, split it (every part really sent) down to single points."""
        if not await self._attempt(block, raws, leaves):
            await self._split(block, raws, leaves)

    async def _attempt(self, block: ReadBlock, raws: dict, leaves: list) -> bool:
        """Read ``block`` into ``raws``; False when the device refused it (exception 01/02)."""
        try:
            if not self._known_refused(block) and not self._is_primed(block):
                self.reads_last += 1
            raws.update(await self._read_block(block))
        except PointNotSupported:
            return False
        leaves.append(block)
        return True

    async def _split(self, block: ReadBlock, raws: dict, leaves: list) -> None:
        """``block`` was refused: read its halves. When one half is refused, that half is split
        again (a lone gap is found in about 2 log2(n) requests). When both are refused, the unit
        lacks a whole region (a second battery, a block its model does not have): splitting on
        would cost about 2n requests, so each point of both halves is asked alone (n + 3).
        Either way a point is "n/a" only after a request for it alone was refused."""
        if len(block.points) == 1:
            raws[block.points[0].name] = codecs.NOT_IMPLEMENTED
            leaves.append(block)
            return
        half = len(block.points) // 2
        refused = []
        for part in (block.points[:half], block.points[half:]):
            sub = _sub_block(block, part)
            if not await self._attempt(sub, raws, leaves):
                refused.append(sub)
        if len(refused) == 1:
            await self._split(refused[0], raws, leaves)
            return
        for sub in refused:
            if len(sub.points) == 1:     # asked alone already, as a half
                await self._split(sub, raws, leaves)
                continue
            for point in sub.points:
                single = _sub_block(sub, [point])
                if not await self._attempt(single, raws, leaves):
                    await self._split(single, raws, leaves)

    def _merge_answered(self, leaves: list[ReadBlock]) -> list[ReadBlock]:
        """The next plan: answered spans that touch become one read (each of their registers answered),
        unless that very span was refused before; refused single points stay as they are."""
        out: list[ReadBlock] = []
        for block in sorted(leaves, key=lambda b: (b.function, b.address)):
            prev = out[-1] if out else None
            if (prev is not None and prev.function == block.function and block.address <= prev.end
                    and not self._known_refused(prev) and not self._known_refused(block)):
                end = max(prev.end, block.end)
                merged = ReadBlock(prev.function, prev.address, end - prev.address, prev.points + block.points)
                if merged.count <= self.profile.max_read_registers and not self._known_refused(merged):
                    out[-1] = merged
                    continue
            out.append(ReadBlock(block.function, block.address, block.count, list(block.points)))
        return out

    def _is_primed(self, block: ReadBlock) -> bool:
        """Whether discovery's registers hold the whole block (it costs no request then)."""
        return bool(self._primed) and block.function == "holding" and all(
            a in self._primed for a in range(block.address, block.end))

    def _known_refused(self, block: ReadBlock) -> bool:
        fc = 3 if block.function == "holding" else 4
        # A stand-in session (a recording's replay, a test's dict) may keep no memory of refusals.
        return (self.unit, fc, block.address, block.count) in getattr(self.session, "unsupported", ())

    def _with_scale_factors(self, points) -> list[Point]:
        pts = list(points)
        names = {p.name for p in pts}
        for p in list(pts):
            if p.scale_factor and p.scale_factor not in names and self.profile.has(p.scale_factor):
                pts.append(self.profile.point(p.scale_factor))
                names.add(p.scale_factor)
        return pts  # a scale factor the device's model does not reach leaves its points n/a

    def effective_scale(self, point: Point) -> float:
        """The point's scale with its live scale factor (as last read); WriteRefused if unknown."""
        if not point.scale_factor:
            return point.scale
        sf = self.scale_factors.get(point.scale_factor)
        if not isinstance(sf, int) or not -10 <= sf <= 10:
            raise WriteRefused(f"{point.label or point.name}: its scale factor {point.scale_factor} is "
                               f"{'not read yet' if sf is None else 'not implemented'} on the device",
                               hint="read the device first; a point without a valid scale factor cannot be written")
        return point.scale * 10.0 ** sf

    async def read(self, points=None) -> Sample:
        """One snapshot of ``points`` (default: all), decoded and checked."""
        pts = computed.expand(self.profile, self.profile.points if points is None else points)
        regs = self._with_scale_factors([p for p in pts if p.compute is None])
        t0 = time.perf_counter()
        raws = await self.read_raw_points(regs)
        values, flags = engineering(self.profile, raws)
        computed.evaluate(self.profile, pts, values, flags)
        return Sample(time.time(), values, flags, self.unit, self.reads_last, time.perf_counter() - t0)

    async def read_names(self, names) -> dict:
        return (await self.read([self.profile.point(n) for n in names])).values

    async def identity(self) -> dict:
        """Identity points (model, serial, ratings)."""
        names = self.profile.identity_points or [p.name for p in self.profile.points if p.category == "identity"]
        return await self.read_names(names)

    async def firmware(self) -> list[dict]:
        """Firmware version, hardware revision and serial of every component the profile names."""
        names: set[str] = set()
        for c in self.profile.firmware:
            names.update(n for n in (c.version_point, c.hardware_point, c.serial_point) if n)
        values = await self.read_names(sorted(names)) if names else {}

        def show(v):
            return None if v is None or v is codecs.NOT_IMPLEMENTED else v
        return [{"component": c.component, "label": c.label,
                 "version": show(values.get(c.version_point)),
                 "hardware": show(values.get(c.hardware_point)) if c.hardware_point else None,
                 "serial": show(values.get(c.serial_point)) if c.serial_point else None}
                for c in self.profile.firmware]

    async def alarms(self, values: dict | None = None) -> list[faults.Alarm]:
        """Active alarms, decoded; reads the alarm points unless ``values`` has them."""
        if values is None:
            names = [a.point for a in self.profile.alarms]
            if self.profile.has("active_fault_code"):
                names.append("active_fault_code")
            values = await self.read_names(names) if names else {}
        return faults.active_alarms(self.profile, values)

    async def fault_history(self) -> list[faults.Alarm]:
        """The device's fault log, newest first (empty where the profile has none)."""
        hist = self.profile.fault_history
        if hist is None:
            return []
        total = hist.entries * hist.entry_registers
        regs: list[int] = []
        step = (self.profile.max_read_registers // hist.entry_registers) * hist.entry_registers
        for off in range(0, total, step):
            regs += await self.session.read_registers(hist.address + off, min(step, total - off),
                                                      function=hist.function, unit=self.unit)
        count = None
        if hist.count_point:
            c = (await self.read_names([hist.count_point]))[hist.count_point]
            count = c if isinstance(c, int) else None
        return faults.decode_history(self.profile, regs, count)

    async def read_raw(self, function: str, address: int, count: int) -> list[int]:
        """Registers as the device holds them, in reads of at most 125."""
        out: list[int] = []
        for off in range(0, count, 125):
            out += await self.session.read_registers(address + off, min(125, count - off),
                                                     function=function, unit=self.unit)
        return out

    # ----------------------------------------------------------------- write
    def validate(self, point: Point, value) -> list[int]:
        """Registers for ``value``; WriteRefused names the rule it breaks (never quoting a secret)."""
        if point.name not in SECRET_POINTS:
            return self._validate(point, value)
        try:
            return self._validate(point, value)
        except (WriteRefused, ValueError, TypeError):
            raise WriteRefused("the installer code must be a whole number the device's login register holds "
                               f"({point.type})") from None

    def _validate(self, point: Point, value) -> list[int]:
        if not point.writable or point.computed:
            raise WriteRefused(f"{point.label or point.name} is read-only")
        if point.enum:
            if isinstance(value, str):
                matches = [k for k, v in point.enum.items() if v.lower() == value.lower()]
                if not matches:
                    raise WriteRefused(f"{point.name}: {value!r} is not one of {', '.join(point.enum.values())}")
                value = matches[0]
            if int(value) not in point.enum:
                raise WriteRefused(f"{point.name}: {value} is not one of {sorted(point.enum)}")
        if point.type in ("datetime", "time"):
            try:
                return codecs.encode_point(value, point)
            except (ValueError, OverflowError, TypeError) as exc:
                raise WriteRefused(f"{point.name}: {exc}") from None
        if point.type != "string":
            value = float(value)
            if point.min is not None and value < point.min or point.max is not None and value > point.max:
                raise WriteRefused(f"{point.name}: {value:g} {point.unit} is outside "
                                   f"{point.min:g}..{point.max:g} {point.unit}".replace("  ", " "))
            raw = ((-value if point.invert else value) - point.offset) / self.effective_scale(point)
            raw = raw if point.type == "float32" else round(raw)
        else:
            raw = value
        try:
            return codecs.encode_point(raw, point)
        except (ValueError, OverflowError) as exc:
            raise WriteRefused(f"{point.name}: {value} does not fit a {point.type}: {exc}") from None

    async def write_point(self, name: str, value) -> object:
        """Validate, write, read back; returns the value read back (mismatch raises)."""
        point = self.profile.point(name)
        regs = self.validate(point, value)
        self._primed = {}  # from now on every value comes from the device
        try:
            await self.session.write_registers(point.address, regs, unit=self.unit)
        except (IllegalValue, PointNotSupported) as exc:
            hint = ("the device refused the value or is locked: log in with the installer code first "
                    "(a login lasts a limited time)") if point.protected else None
            shown = "the installer code" if name in SECRET_POINTS else f"{name} = {value}"  # never echo a code
            raise WriteRefused(f"the device refused {shown}: {exc}", hint=hint, reason="device",
                               code=exc.code) from None
        if not point.readback:
            return value
        back = (await self.read([point])).values[name]
        expect = codecs.apply_scale(codecs.decode_point(regs, point), self.effective_scale(point))
        if point.offset and isinstance(expect, (int, float)):
            expect = round(expect + point.offset, 6)
        expect = -expect if point.invert and isinstance(expect, (int, float)) else expect
        if back != expect and not (isinstance(back, float) and abs(back - expect) < 1e-6):
            err = WriteRefused(f"read-back mismatch for {name}: wrote {expect}, device holds {back}",
                               hint="the device changed or ignored the value; check its state and limits",
                               reason="readback")
            err.readback = back  # what the device holds, for the report
            raise err
        return back


def _sub_block(block: ReadBlock, points: list[Point]) -> ReadBlock:
    """The read of ``points`` alone (a part of ``block``, same function)."""
    lo = min(p.address for p in points)
    hi = max(p.end for p in points)
    return ReadBlock(block.function, lo, hi - lo, list(points))

"""The site: several devices open at once (unit ids on one bus, several hosts, mixed links), no Qt.

Runs on the device service's I/O loop (methods may be called from any
thread: they schedule work there and return a Future). One Session per
physical link, shared by every unit on it, so the link keeps one owner; a
Session serialises requests with an asyncio lock that wakes waiters in
arrival order, so the pollers of the units on one bus take turns and a
silent unit costs only its own timeouts. A link the device service already
holds (the window's connection) is shared, never opened twice.

``snapshot()`` is what the site tree and the overview read, from any thread:
a list of plain dicts, replaced whole on every update. Totals follow "n/a
rather than a guess": PV, AC and battery power add up; the state of charge
is weighted by capacity only when every battery reports its capacity; grid
power is a total only when exactly one device measures it (several devices
may read one shared meter).

Parallel systems: each unit's role (the profile's ``parallel_role``, read
when it is added and again by its slow poll) is in the snapshot; a slave's
settings follow the master (``follows_master``), so the window warns before
writing to one. ``paused(key)`` gives one unit's Device to a firmware
upgrade or a settings write with that unit's polling stopped between two
requests of its bus, while the other units keep their turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from protocols.device import Device
from protocols.errors import PVDeskError
from protocols.faults import active_alarms
from protocols.poller import Poller
from protocols.session import Session

from desktop.commission.params import ROLE_POINT  # the canonical name profiles map a parallel system role to

from .connect import Target, choose_profile, open_session
from .events import SiteChanged

log = logging.getLogger(__name__)


class SiteError(PVDeskError):
    """A site operation that cannot run (the device is not open)."""

    hint = "add the device to the site again"


def role_text(point, value) -> str:
    """The role as the profile names it (enum text), or "" when the device does not say."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return ""
    if isinstance(value, str):
        return value
    return point.enum.get(int(value), str(int(value))) if point.enum else str(value)


async def read_role(device: Device) -> str:
    """The parallel role of ``device`` ("" when its profile maps none or it does not answer)."""
    name = device.profile.resolve(ROLE_POINT)
    if not name:
        return ""
    try:
        value = (await device.read_names([name])).get(name)
    except PVDeskError:
        return ""
    return role_text(device.profile.point(name), value)


def follows_master(role: str) -> bool:
    """A unit whose settings follow a master's (a parallel slave)."""
    return role.strip().casefold().startswith("slave")

QUANTITIES = ("pv_power_w", "inverter_power_w", "battery_power_w", "battery_soc_pct", "grid_power_w",
              "load_power_w")
SUMMED = ("pv_power_w", "inverter_power_w", "battery_power_w", "load_power_w")
SILENT_BACKOFF_S = 30.0   # a unit that does not answer is asked at most this rarely


def link_key(target: Target) -> str:
    """Devices with the same link key share one Session (the physical link)."""
    s = target.spec
    if s.kind == "serial":
        return f"serial:{s.serial_port}:{s.baud}:{s.parity}:{s.stopbits}:{int(s.local_echo)}"
    return f"{s.kind}:{s.host}:{s.port}:{s.logger_serial}:{s.ble_address}"


@dataclass
class Member:
    """One device of the site."""

    target: Target
    state: str = "connecting"
    detail: str = ""
    profile: str = ""
    title: str = ""
    serial: str = ""
    alarms: int = 0
    role: str = ""          # parallel role as the device names it ("Master", "Slave"; "" when not mapped)
    values: dict = field(default_factory=dict)
    last_s: float | None = None
    device: Device | None = None
    poller: Poller | None = None
    retries: int = 1

    @property
    def key(self) -> str:
        return f"{self.target.spec.label()} unit {self.target.unit}"

    def as_dict(self) -> dict:
        return {"key": self.key, "link": self.target.spec.label(), "unit": self.target.unit, "state": self.state,
                "detail": self.detail, "profile": self.profile, "title": self.title, "serial": self.serial,
                "alarms": self.alarms, "role": self.role, "values": dict(self.values), "last_s": self.last_s}


class SiteService:
    """The devices of one site, polled at once through shared links."""

    def __init__(self, service, fast_period_s: float = 1.0, slow_period_s: float = 10.0) -> None:
        self.service = service
        self.fast_period_s = fast_period_s
        self.slow_period_s = slow_period_s
        self.members: dict[str, Member] = {}
        self._sessions: dict[str, Session] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._snapshot: list[dict] = []

    # --------------------------------------------------------------- public
    def add(self, target: Target):
        """Open ``target`` as one more device of the site (Future of its key)."""
        return self.service.submit(lambda: self._add(target))

    def add_units(self, target: Target, units):
        """Several unit ids on the link of ``target`` (Future of their keys)."""
        async def go():
            keys = []
            for unit in units:
                keys.append(await self._add(Target(spec=target.spec, unit=unit, profile=target.profile)))
            return keys
        return self.service.submit(go)

    def remove(self, key: str):
        return self.service.submit(lambda: self._remove(key))

    def close(self):
        """Stop every poller and close the site's own links (the service's connection stays)."""
        async def go():
            for key in list(self.members):
                await self._remove(key)
        return self.service.submit(go)

    def snapshot(self) -> list[dict]:
        return self._snapshot

    @contextlib.asynccontextmanager
    async def paused(self, key: str) -> AsyncIterator[Device]:
        """``async with site.paused(key) as device`` (I/O loop): that unit's polling stops (between two
        requests of its bus) and starts again afterwards; the window's own polling too when it shows the
        same unit. For a firmware upgrade or settings written to one device of the site."""
        member = self.members.get(key)
        if member is None or member.device is None:
            raise SiteError(f"{key} is not an open device of the site; add it again on the Site page")
        poller = member.poller
        if poller is not None:
            async with member.device.session._lock:   # the link's lock, shared by every unit on it
                await poller.stop()
        svc = self.service
        same = (svc.target is not None and link_key(svc.target) == link_key(member.target)
                and svc.target.unit == member.target.unit and svc.device is not None)
        try:
            if same:
                async with svc.polling_paused():
                    yield member.device
            else:
                yield member.device
        finally:
            if poller is not None and self.members.get(key) is member:
                poller.start()

    # ------------------------------------------------------------ I/O loop
    async def _session_for(self, target: Target) -> tuple[Session, bool]:
        """(session, owned): the service's own when it holds that link, else one per link key."""
        key = link_key(target)
        svc = self.service
        if svc.device is not None and svc.target is not None and link_key(svc.target) == key:
            return svc.device.session, False
        # Two units of one link added at once (a restored site) must not open the link twice.
        async with self._opening.setdefault(key, asyncio.Lock()):
            session = self._sessions.get(key)
            if session is None:
                session = await open_session(Target(spec=target.spec, unit=target.unit, retries=1))
                self._sessions[key] = session
        return session, True

    async def _add(self, target: Target) -> str:
        member = Member(target)
        if member.key in self.members:
            return member.key
        self.members[member.key] = member
        self._publish()
        try:
            shared, _ = await self._session_for(target)
            session = shared.sibling()
            profile = await choose_profile(session, target)
            member.device = Device(session, profile, target.unit)
            member.retries = session.retries
            member.profile, member.title = profile.name, profile.title
            try:
                ident = await member.device.identity()
                member.serial = str(ident.get("serial_number") or "")
                member.role = await read_role(member.device)
                if profile.has("battery_capacity_wh"):
                    cap = (await member.device.read_names(["battery_capacity_wh"])).get("battery_capacity_wh")
                    member.values["battery_capacity_wh"] = cap if isinstance(cap, (int, float)) else None
            except PVDeskError as exc:
                member.detail = exc.one_line()
        except (PVDeskError, OSError, ValueError) as exc:
            member.state, member.detail = "failed", exc.one_line() if isinstance(exc, PVDeskError) else str(exc)
            self._publish()
            return member.key
        member.state = "connected"
        member.poller = Poller(member.device, lambda s, m=member: self._on_sample(m, s),
                               lambda exc, n, m=member: self._on_error(m, exc, n),
                               fast_period_s=self.fast_period_s, slow_period_s=self.slow_period_s,
                               max_backoff_s=SILENT_BACKOFF_S)
        member.poller.start()
        self._publish()
        log.info("site: %s added (%s)", member.key, member.profile)
        return member.key

    async def _remove(self, key: str) -> None:
        member = self.members.pop(key, None)
        if member is None:
            return
        if member.poller is not None:
            # Stopped between two requests: a request cut off on a shared bus would garble the next
            # unit's answer.
            async with member.device.session._lock:   # the link's lock, shared by every unit on it
                await member.poller.stop()
        lk = link_key(member.target)
        if lk in self._sessions and not any(link_key(m.target) == lk for m in self.members.values()):
            await self._sessions.pop(lk).close()
        self._publish()

    def _on_sample(self, member: Member, sample) -> None:
        profile = member.device.profile
        values = {q: sample.number(p) if (p := profile.resolve(q)) else None for q in QUANTITIES}
        if values["inverter_power_w"] is None and (p := profile.resolve("ac_power_w")):
            values["inverter_power_w"] = sample.number(p)
        values["battery_capacity_wh"] = member.values.get("battery_capacity_wh")
        member.values = values
        member.alarms = len(active_alarms(profile, sample.values, sample.timestamp_s))
        role_point = profile.resolve(ROLE_POINT)
        if role_point and role_point in sample.values:
            member.role = role_text(profile.point(role_point), sample.values[role_point])
        member.state, member.detail, member.last_s = "connected", "", time.time()
        member.device.session.retries = member.retries
        self._publish()

    def _on_error(self, member: Member, exc: PVDeskError, consecutive: int) -> None:
        member.detail = exc.one_line()
        # A unit that fails is asked without retries (and, by the poller's backoff, ever more rarely)
        # until it answers again: on a shared bus its silence costs the other units their turns.
        member.device.session.retries = 0
        if consecutive >= 2:
            member.state = "no answer"
        self._publish()

    def _publish(self) -> None:
        members = sorted(self.members.values(), key=lambda m: (m.target.spec.label(), m.target.unit))
        self._snapshot = [m.as_dict() for m in members]
        self.service.emit(SiteChanged(self._snapshot))


def totals(snapshot: list[dict]) -> dict:
    """Site totals of a snapshot (see the module docstring for what is added and what stays n/a)."""
    live = [d for d in snapshot if d["state"] == "connected" and d["values"]]
    out: dict = {}
    for q in SUMMED:
        numbers = [d["values"].get(q) for d in live if d["values"].get(q) is not None]
        out[q] = sum(numbers) if numbers else None
    socs = [(d["values"].get("battery_soc_pct"), d["values"].get("battery_capacity_wh")) for d in live
            if d["values"].get("battery_soc_pct") is not None]
    if len(socs) == 1:
        out["battery_soc_pct"] = socs[0][0]
    elif socs and all(isinstance(c, (int, float)) and c > 0 for _, c in socs):
        out["battery_soc_pct"] = sum(s * c for s, c in socs) / sum(c for _, c in socs)
    else:
        out["battery_soc_pct"] = None
    grids = [d["values"].get("grid_power_w") for d in live if d["values"].get("grid_power_w") is not None]
    out["grid_power_w"] = grids[0] if len(grids) == 1 else None
    out["devices"] = len(snapshot)
    out["devices_live"] = len(live)
    return out


__all__ = ["SiteService", "SiteError", "Member", "totals", "link_key", "QUANTITIES", "ROLE_POINT", "follows_master",
           "read_role", "role_text"]



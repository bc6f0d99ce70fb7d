"""The guided set-up: its steps, its resumable state, and the device work of each step.

``WizardState`` and ``WizardStore`` run on any thread (the GUI thread, in
practice); ``WizardRunner``'s coroutines run on the device I/O thread's loop
and update the state only from inside them, one at a time (the GUI reads the
state after the coroutine's result has come back). No Qt.

Every step can be skipped; the state (which steps are done or skipped, the
current step, every write with its read-back, the CT verdict) is saved per
device serial in the app's data folder, so a wizard closed halfway opens
again at the step where it stopped. Nothing personal is kept there.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from protocols.reader import describe

from desktop.device.canonical import resolve_all
from desktop.device.site_service import read_role

from .clock import TIME_POINT, TZ_POINT, read_clock, set_clock
from .ct_check import CtResult, PowerStepPlan, plan_power_step, run_ct_check
from .params import ParamSession, WriteResult, device_serial, plain, same_value, value_text
from .storage import commission_dir, serial_key, write_json_atomic
from .timezones import zones_for


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    points: tuple[str, ...] = ()


STEPS: tuple[Step, ...] = (
    Step("identify", "Device and firmware"),
    Step("grid", "Country and grid code", ("grid_code",)),
    Step("clock", "Date, time and time zone", ("timezone_offset_min", "device_time_unix_s")),
    Step("export", "Export and feed-in limit", ("export_limit_enabled", "export_limit_w", "active_power_limit_pct")),
    Step("battery", "Battery", ("battery_type", "battery_charge_limit_a", "battery_discharge_limit_a",
                                "battery_min_soc_pct", "battery_max_soc_pct", "work_mode")),
    Step("meter", "Meter and CT", ("meter_type", "ct_ratio")),
    Step("ct", "CT direction check", ("ct_direction",)),
    Step("final", "Final live check"),
    Step("report", "Commissioning report"),
)
STEP_IDS = tuple(s.id for s in STEPS)
LIVE_POINTS = ("pv_power_w", "inverter_power_w", "load_power_w", "grid_power_w", "battery_power_w",
               "battery_soc_pct", "ac_voltage_v", "ac_frequency_hz", "inverter_temperature_c", "run_state")


def step(step_id: str) -> Step:
    return STEPS[STEP_IDS.index(step_id)]


COUNTRY_NAMES = {
    "AT": "Austria", "AU": "Australia", "BE": "Belgium", "CH": "Switzerland", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "ES": "Spain", "FR": "France", "GB": "United Kingdom", "GR": "Greece", "HU": "Hungary",
    "IE": "Ireland", "IT": "Italy", "NL": "Netherlands", "NZ": "New Zealand", "PL": "Poland", "PT": "Portugal",
    "RO": "Romania", "SE": "Sweden", "SK": "Slovakia", "US": "United States", "ZA": "South Africa",
}


def country_text(code: str) -> str:
    """'Germany (DE)'; 'Other' stays as it is."""
    return f"{COUNTRY_NAMES[code]} ({code})" if code in COUNTRY_NAMES else code


def grid_code_country(point, value) -> str | None:
    """The country a grid-code setting names ('DE VDE-AR-N 4105' -> 'DE'), or None (not set, generic)."""
    if point is None or not point.enum or not isinstance(value, int):
        return None
    head = str(point.enum.get(value, "")).split(" ", 1)[0]
    return head if head in COUNTRY_NAMES else None


def grid_code_countries(point) -> dict[str, list[tuple[int, str]]]:
    """Grid-code choices by country, from labels that start with a country code ('DE VDE-AR-N 4105').

    Labels that start with anything else (a European standard such as 'EN 50549-1 generic')
    are listed under "Other"; "Not set" is never offered.
    """
    out: dict[str, list[tuple[int, str]]] = {}
    for code, label in sorted(point.enum.items()):
        head = label.split(" ", 1)[0]
        country = head if head in COUNTRY_NAMES else "Other"
        if code == 0 and label.lower().startswith("not set"):
            continue
        out.setdefault(country, []).append((code, label))
    return out


@dataclass
class WizardState:
    """Where the set-up of one device stands."""

    serial: str
    profile: str
    installer: str = "installer"
    current: str = STEP_IDS[0]
    steps: dict[str, dict] = field(default_factory=dict)   # id -> {status, at, result}
    applied: list[dict] = field(default_factory=list)      # WriteResult dicts + "step"
    ct_result: dict = field(default_factory=dict)          # the newest CT check, passed or not
    pv_capacity_kwp: float | None = None                   # installed PV capacity, as given for the report
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def status(self, step_id: str) -> str:
        return self.steps.get(step_id, {}).get("status", "pending")

    def result(self, step_id: str) -> dict:
        return self.steps.get(step_id, {}).get("result") or {}

    def mark(self, step_id: str, status: str, result: dict | None = None) -> None:
        """Record a step as "done" or "skipped"; the current step moves past it (never back)."""
        if step_id not in STEP_IDS or status not in ("done", "skipped"):
            raise ValueError(f"unknown step {step_id!r} or status {status!r}")
        self.steps[step_id] = {"status": status, "at": time.time(), "result": result or {}}
        i = STEP_IDS.index(step_id)
        if STEP_IDS.index(self.current) <= i:   # redoing an earlier step keeps the place reached
            self.current = STEP_IDS[min(i + 1, len(STEP_IDS) - 1)]
        self.updated_at = time.time()

    @property
    def finished(self) -> bool:
        return all(self.status(s) != "pending" for s in STEP_IDS)

    def applied_settings(self) -> list[dict]:
        """The newest write per setting, in the order they were made."""
        newest: dict[str, dict] = {}
        for entry in self.applied:
            newest.pop(entry["name"], None)
            newest[entry["name"]] = entry
        return list(newest.values())

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "WizardState":
        known = {k: d[k] for k in ("serial", "profile", "installer", "current", "steps", "applied",
                                   "ct_result", "pv_capacity_kwp", "started_at", "updated_at") if k in d}
        state = cls(**known)
        if state.current not in STEP_IDS:
            state.current = STEP_IDS[0]
        return state


class WizardStore:
    """Wizard states on disk, one JSON file per device serial."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else commission_dir("wizard")
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, serial: str) -> Path:
        return self.folder / f"{serial_key(serial)}.json"

    def load(self, serial: str) -> WizardState | None:
        """The saved state, or None (also for a damaged file, which is kept aside, not deleted)."""
        path = self.path(serial)
        if not path.exists():
            return None
        try:
            return WizardState.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError, KeyError, UnicodeDecodeError):
            path.replace(path.with_suffix(".damaged.json"))
            return None

    def save(self, state: WizardState) -> None:
        write_json_atomic(self.path(state.serial), state.to_dict())

    def discard(self, serial: str) -> None:
        self.path(serial).unlink(missing_ok=True)


class WizardRunner:
    """The device work of each step; updates and saves the state as it goes."""

    def __init__(self, session: ParamSession, store: WizardStore | None = None) -> None:
        self.session = session
        self.device = session.device
        self.store = store if store is not None else WizardStore()
        self.state: WizardState | None = None

    async def open(self, restart: bool = False) -> WizardState:
        """Identify the device and load its saved state (or start a new one)."""
        serial = await self.session.ensure_serial()
        state = None if restart else self.store.load(serial)
        if state is None or state.profile != self.device.profile.name:
            state = WizardState(serial, self.device.profile.name, self.session.installer)
            self.store.save(state)
        self.state = state
        return state

    def save(self) -> None:
        if self.state is not None:
            self.store.save(self.state)

    def skip(self, step_id: str) -> None:
        self.state.mark(step_id, "skipped")
        self.save()

    def _record(self, step_id: str, results: list[WriteResult]) -> None:
        for r in results:
            self.state.applied.append(dict(r.as_dict(), step=step_id))

    # ------------------------------------------------------------- steps
    async def identify(self) -> dict:
        ident = await self.device.identity()
        fw = await self.device.firmware()
        profile = self.device.profile
        result = {"profile": profile.name, "model": profile.title, "serial": await device_serial(self.device),
                  "identity": {k: {"label": profile.point(k).label or k, "text": describe(profile.point(k), v),
                                   "value": plain(v)} for k, v in ident.items()},
                  "firmware": fw, "role": await read_role(self.device)}
        self.state.mark("identify", "done", result)
        self.save()
        return result

    async def apply(self, step_id: str, values: dict) -> list[WriteResult]:
        """Write the step's values (confirmed by the page); unchanged values are verified, not written."""
        profile = self.device.profile
        values = {k: v for k, v in values.items() if profile.has(k)}
        current = await self.device.read_names(list(values)) if values else {}
        changed, results = {}, []
        for name, value in values.items():
            plan = self.session.check(name, value)
            now = plain(current.get(name))
            if same_value(plan.value, now):
                p = plan.point
                results.append(WriteResult(name, p.label or name, now, plan.value, now, True, "unchanged",
                                           "already set", time.time(), self.session.installer,
                                           value_text(p, now), plan.text, value_text(p, now)))
            else:
                changed[name] = value
        if changed:
            results += await self.session.write_many(changed, confirmed=True, stop_on_error=False)
        self._record(step_id, results)
        ok = all(r.ok for r in results)
        if ok:
            self.state.mark(step_id, "done", {"written": len(changed), "unchanged": len(values) - len(changed)})
        self.save()
        return results

    async def write_one(self, step_id: str, name: str, value) -> WriteResult:
        """One write belonging to a step (e.g. the CT direction fix), recorded without finishing the step."""
        res = await self.session.write(name, value, confirmed=True)
        self._record(step_id, [res])
        self.save()
        return res

    async def clock_plan(self) -> dict:
        """What the clock step will write: the device's clock now, and the site's zone(s) from the grid code.

        ``zones`` lists the grid code's country's zones (one: that one is written; several: the installer
        chooses); empty when the grid code names no country (the installer chooses from every zone).
        """
        profile = self.device.profile
        name = profile.resolve("grid_code") or "grid_code"
        country = None
        if profile.has(name):
            value = plain((await self.device.read_names([name]))[name])
            country = grid_code_country(profile.point(name), value)
        zones = zones_for(country)
        reading = await read_clock(self.device, zones[0] if len(zones) == 1 else None)
        return {"reading": reading.as_dict(), "country": country, "zones": list(zones),
                "local_clock": not profile.has(TIME_POINT), "has_zone_register": profile.has(TZ_POINT)}

    async def clock(self, zone: str | None = None, tz_offset_min: int | None = None) -> tuple[list[WriteResult], dict]:
        """Measure the drift, set the site's zone and the clock, measure again; the step keeps both readings."""
        before = await read_clock(self.device, zone)
        results, after = await set_clock(self.session, tz_offset_min, zone=zone)
        self._record("clock", results)
        if all(r.ok for r in results):
            self.state.mark("clock", "done", dict(after.as_dict(), before=before.as_dict(), after=after.as_dict()))
        self.save()
        return results, dict(after.as_dict(), before=before.as_dict())

    async def read_clock(self, zone: str | None = None) -> dict:
        return (await read_clock(self.device, zone)).as_dict()

    async def power_step_plan(self, duration_s: float = 6.0, settle_s: float = 1.5) -> PowerStepPlan | str:
        """What the CT check's power step would do now (for the question before it), or why it cannot run."""
        return await plan_power_step(self.device, duration_s, settle_s)

    async def ct_check(self, duration_s: float = 6.0, step_test: bool = False, period_s: float = 0.5,
                       settle_s: float = 1.5, progress=None, step_plan: PowerStepPlan | None = None) -> CtResult:
        result = await run_ct_check(self.device, duration_s=duration_s, period_s=period_s, session=self.session,
                                    step=step_test, settle_s=settle_s, progress=progress, step_plan=step_plan)
        self.state.ct_result = result.as_dict()
        if result.passed:
            self.state.mark("ct", "done", result.as_dict())
        self.save()
        return result

    async def final_check(self) -> dict:
        """Read every setting and the live values; compare what the wizard set with what the device holds."""
        profile = self.device.profile
        applied = [a for a in self.state.applied_settings()
                   if a["ok"] and profile.has(a["name"]) and profile.point(a["name"]).readback]   # not the clock
        now = await self.device.read_names([a["name"] for a in applied]) if applied else {}
        settings = []
        for a in applied:
            p = profile.point(a["name"])
            held = plain(now.get(a["name"]))
            settings.append({"name": a["name"], "label": a["label"], "set_text": a["new_text"],
                             "now_text": value_text(p, held), "ok": same_value(held, a["new"])})
        live_names = resolve_all(profile, LIVE_POINTS)  # canonical -> the device's own point
        sample = await self.device.read([profile.point(n) for n in live_names.values()]) if live_names else None
        live = [{"name": canon, "label": profile.point(n).label or canon,
                 "text": describe(profile.point(n), sample.values.get(n))}
                for canon, n in live_names.items()] if sample else []
        alarms = [a.as_dict() for a in await self.device.alarms()]
        clock = (await read_clock(self.device, self.state.result("clock").get("zone"))).as_dict()
        result = {"settings": settings, "live": live, "alarms": alarms, "clock": clock,
                  "time_s": time.time(), "all_match": all(s["ok"] for s in settings)}
        self.state.mark("final", "done", result)
        self.save()
        return result


"""Settings files and the commissioning report for several devices of a site at once, no Qt.

Runs on the device I/O thread's asyncio loop (the coroutines, each given one
device of the site) and on any thread (``site_checks``). The settings of each
device go through the existing settings-file code (settings_file.preview /
apply through a ParamSession per device: model check, typed values,
confirmation, login, read-back, write history), so a file applied to three
inverters is checked and shown for each of them as it would be for one.
``describe`` is what the site's commissioning report lists for one device:
model, serial, identity, firmware, every transferable setting and its checks.
"""

from __future__ import annotations

from protocols.errors import PVDeskError

from . import settings_file
from .params import ParamSession
from .storage import WriteHistory


def session_for(device, installer: str, history: WriteHistory | None, sessions: dict) -> ParamSession:
    """One write session per Device object (kept in ``sessions`` for the batch: one login each)."""
    session = sessions.get(id(device))
    if session is None or session.device is not device:
        session = sessions[id(device)] = ParamSession(device, installer, history)
    return session


async def preview_on(device, doc: dict, installer: str, history: WriteHistory | None,
                     sessions: dict) -> settings_file.Preview:
    """What ``doc`` would change on ``device`` (refused for another model before anything is written)."""
    return await settings_file.preview(doc, session_for(device, installer, history, sessions))


async def apply_on(device, doc: dict, installer: str, history: WriteHistory | None, sessions: dict,
                   code: str | None = None) -> list:
    """Write the settings of ``doc`` that differ on ``device`` (login first with ``code``); WriteResults."""
    session = session_for(device, installer, history, sessions)
    if code:
        await session.login(code)
    return await settings_file.apply(doc, session)


async def describe(device, *, key: str, link: str, state: str, alarms: int, role: str,
                   installer: str = "installer") -> dict:
    """One device of the site as the commissioning report lists it (a part that cannot be read says so)."""
    profile = device.profile
    out: dict = {"key": key, "link": link, "unit": device.unit, "profile": profile.name, "model": profile.title,
                 "serial": "", "role": role, "state": state, "alarms": alarms, "identity": [], "firmware": [],
                 "device_settings": [], "errors": []}
    try:
        doc = await settings_file.capture(device, installer)
        out["serial"] = doc.get("serial") or ""
        out["device_settings"] = [{"label": v["label"], "text": v["text"]} for v in doc["settings"].values()]
    except PVDeskError as exc:
        out["errors"].append(f"settings: {exc.one_line()}")
    try:
        ident = await device.identity()
        out["identity"] = [{"label": profile.point(n).label or n, "text": str(v)} for n, v in ident.items()
                           if profile.has(n) and isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        model = ident.get(profile.resolve("model_name") or "model_name")
        if isinstance(model, str) and model.strip():
            out["model"] = model.strip()
    except PVDeskError as exc:
        out["errors"].append(f"identity: {exc.one_line()}")
    try:
        out["firmware"] = list(await device.firmware())
    except PVDeskError as exc:
        out["errors"].append(f"firmware: {exc.one_line()}")
    return out


def site_checks(devices: list[dict]) -> list[dict]:
    """Each device's checks, filled in place (``checks``: check, ok, detail); returns ``devices``."""
    masters = {d["link"] for d in devices if d.get("role", "").casefold().startswith("master")}
    for d in devices:
        checks = [("Answers", d.get("state") == "connected", d.get("state") or "not read"),
                  ("Active alarms", not d.get("alarms"), f"{d.get('alarms', 0)} active" if d.get("alarms")
                   else "none"),
                  ("Firmware read", bool(d.get("firmware")) and all(c.get("version") for c in d["firmware"]),
                   ", ".join(f"{c.get('label')} {c.get('version') or 'n/a'}" for c in d.get("firmware", []))
                   or "not read"),
                  ("Settings read", bool(d.get("device_settings")), f"{len(d.get('device_settings', []))} settings"
                   if d.get("device_settings") else "; ".join(d.get("errors", [])) or "none read")]
        role = d.get("role", "")
        if role.casefold().startswith("slave"):
            checks.append(("Parallel master", d["link"] in masters,
                           "a master on the same link" if d["link"] in masters
                           else "no master found on this link: the slave has nothing to follow"))
        d["checks"] = [{"check": c, "ok": bool(ok), "detail": detail} for c, ok, detail in checks]
    return devices


__all__ = ["apply_on", "describe", "preview_on", "session_for", "site_checks"]

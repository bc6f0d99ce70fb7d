"""Every device of the site in the diagnostics bundle: identity, register snapshot and faults, one folder each.

``capture_device`` runs on the device I/O thread's asyncio loop (it reads
through the device's Session, like every other request, so on a shared bus
it takes its turns with the pollers); ``add_site`` runs on the bundle
writer's thread. Members, under ``site/<NN>-<serial or unit>/``:

  identity.json    link, unit, profile, identity values, firmware versions, parallel role, state
  registers.json   the raw register image (capture.capture_register_image; secret registers zeroed)
  faults.json      the alarms active in the site view and the device's own fault history

plus ``site/index.json`` listing the folders. Every member goes through the
same scrub as the rest of the bundle (the customer's name and other personal
data unless support sharing was consented), and a device that cannot be read
is listed with the error instead of its data: one silent unit never costs the
bundle the others.
"""

from __future__ import annotations

import json
import re

from protocols.errors import PVDeskError

from .capture import capture_state, image_to_json
from .redact import scrub

SITE_INDEX = "site/index.json"


async def capture_device(device, *, key: str, link: str, state: str = "", role: str = "",
                         alarms: int = 0) -> dict:
    """One device of the site as its bundle folder holds it (never raises for the device's own failures)."""
    out: dict = {"key": key, "link": link, "unit": device.unit, "profile": device.profile.name,
                 "title": device.profile.title, "state": state, "role": role, "active_alarms": alarms,
                 "errors": []}
    try:
        out["identity"] = {k: v for k, v in (await device.identity()).items()
                           if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
        out["firmware"] = list(await device.firmware())
    except PVDeskError as exc:
        out["errors"].append(f"identity: {exc.one_line()}")
    try:
        captured = await capture_state(device)
        out["register_image"] = image_to_json(captured["register_image"])
        out["fault_history"] = captured.get("fault_history", [])
        if "fault_history_error" in captured:
            out["errors"].append(f"fault history: {captured['fault_history_error']}")
    except PVDeskError as exc:
        out["errors"].append(f"registers: {exc.one_line()}")
    return out


async def capture_site(site) -> list[dict]:
    """Every device of a SiteService (``snapshot()`` and ``members``), in the snapshot's order (I/O loop)."""
    out = []
    for d in site.snapshot():
        member = site.members.get(d["key"])
        if member is None or member.device is None:
            out.append({"key": d["key"], "link": d["link"], "unit": d["unit"], "state": d["state"],
                        "errors": [f"not open: {d.get('detail') or d['state']}"]})
            continue
        out.append(await capture_device(member.device, key=d["key"], link=d["link"], state=d["state"],
                                        role=d.get("role", ""), alarms=d.get("alarms", 0)))
    return out


def folder_name(n: int, device: dict) -> str:
    serial = str((device.get("identity") or {}).get("serial_number") or "")
    tag = re.sub(r"[^A-Za-z0-9-]", "", serial)[:32] or f"unit{int(device.get('unit') or 0):03d}"
    return f"site/{n + 1:02d}-{tag}"


def add_site(writer, devices: list[dict], terms: list[str]) -> list[str]:
    """Write each device's folder through the bundle's ``writer`` (``add(name, bytes, role)``); the folders."""
    def put(name: str, doc, role: str) -> None:
        writer.add(name, scrub(json.dumps(doc, indent=1, default=str).encode("utf-8"), terms), role)

    folders = []
    for n, d in enumerate(devices):
        folder = folder_name(n, d)
        put(f"{folder}/identity.json", {k: d.get(k) for k in ("key", "link", "unit", "profile", "title", "state",
                                                                "role", "identity", "firmware", "errors")},
            "site device identity")
        if d.get("register_image"):
            put(f"{folder}/registers.json", d["register_image"], "site device register image")
        put(f"{folder}/faults.json", {"active_alarms": d.get("active_alarms", 0),
                                      "fault_history": d.get("fault_history", [])}, "site device faults")
        folders.append(folder)
    put(SITE_INDEX, {"devices": [{"folder": f, "key": d.get("key"), "unit": d.get("unit"),
                                  "errors": d.get("errors", [])} for f, d in zip(folders, devices)]}, "site index")
    return folders


__all__ = ["SITE_INDEX", "add_site", "capture_device", "capture_site", "folder_name"]

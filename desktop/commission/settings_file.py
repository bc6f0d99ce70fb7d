"""Settings files: save a device's settings to JSON, preview the changes a file makes, apply it.

Runs on the device I/O thread's asyncio loop (capture, preview, apply) and on
any thread (save, load, check_model). No Qt.

A file holds every transferable setting (writable and read back: no clock, no
login) with its value and text, plus where it came from: profile, model
identity, serial, firmware versions, time and installer id (no customer data).
It must name the model (its identity values) and the serial it came from, and
applies only to a device of the same model (same profile and every model
identity value equal); a file without them, or for another model, is refused
before a single write. Values go through the same typed parsing as a typed
write (typed_value.py): a JSON ``true`` or a NaN is refused, not written as 1.
Applying writes only the settings that differ, in profile order, through the
ParamSession (validated, confirmed by the preview, login for protected ones,
read back, recorded in the write history).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from protocols.device import Device, WriteRefused
from protocols.errors import PVDeskError

from desktop.core import safe_files

from .params import ParamSession, WriteResult, device_serial, plain, same_value, transferable_points, value_text

FORMAT = "pvdesk-settings/1"


class SettingsFileError(PVDeskError):
    """The file cannot be read as a PVDesk settings file."""

    hint = "choose a file saved with 'Save settings' or 'pvdesk settings save'"


class SettingsFileRefused(PVDeskError):
    """The file was made for another model."""

    hint = "a settings file applies only to a device of the same model; set this one up by hand or with the wizard"


def model_identity(device_profile, identity: dict) -> dict:
    """The values that tell the model: the profile's identity-rule points and the model name."""
    names = device_profile.identity_rule_points()
    if device_profile.has("model_name"):
        names.append("model_name")
    return {n: plain(identity.get(n)) for n in dict.fromkeys(names) if n in identity}


async def capture(device: Device, installer: str = "installer") -> dict:
    """Read every transferable setting and where it came from, as the file's dict."""
    profile = device.profile
    points = transferable_points(profile)
    ident_names = profile.identity_rule_points() + [n for n in ("model_name",) if profile.has(n)]
    ident = await device.read_names(list(dict.fromkeys(ident_names))) if ident_names else {}
    values = await device.read_names([p.name for p in points])
    now = time.time()
    return {
        "format": FORMAT,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "profile": profile.name, "profile_title": profile.title,
        "model": model_identity(profile, ident),
        "serial": await device_serial(device),
        "firmware": [{"component": c["component"], "label": c["label"], "version": c["version"]}
                     for c in await device.firmware()],
        "installer": installer,
        "settings": {p.name: {"value": plain(values.get(p.name)), "text": value_text(p, values.get(p.name)),
                              "label": p.label or p.name, "unit": p.unit}
                     for p in points if plain(values.get(p.name)) is not None},
    }


def save(doc: dict, path: str | Path) -> Path:
    """Write the file: atomically, owner-only, never through a symlink or onto a device (safe_files)."""
    path = Path(path)
    safe_files.write_text(path, json.dumps(doc, indent=2, ensure_ascii=False, default=str))
    return path


def load(path: str | Path) -> dict:
    """Read and check the structure; SettingsFileError names what is wrong."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsFileError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsFileError(f"{path.name} is not a PVDesk settings file (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise SettingsFileError(f"{path.name} is not a PVDesk settings file (format {found!r}, "
                                f"expected {FORMAT!r})")
    settings = doc.get("settings")
    if not isinstance(doc.get("profile"), str) or not isinstance(settings, dict) or not all(
            isinstance(v, dict) and "value" in v for v in settings.values()):
        raise SettingsFileError(f"{path.name}: the 'profile' or 'settings' entries are missing or damaged")
    model, serial = doc.get("model"), doc.get("serial")
    if not isinstance(model, dict) or not model or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip() for v in model.values()):
        raise SettingsFileRefused(f"{path.name} does not name the model it was saved from ('model' is missing, "
                                  "empty or damaged); PVDesk applies a settings file only to the model it came from")
    if not isinstance(serial, str) or not serial.strip():
        raise SettingsFileRefused(f"{path.name} does not name the serial number of the device it was saved from")
    return doc


def check_model(doc: dict, profile, identity: dict) -> None:
    """Refuse a file made for another model: profile or any model identity value differs or is missing."""
    here = model_identity(profile, identity)
    there = doc.get("model")
    made_for = doc.get("profile_title") or doc.get("profile")
    if doc.get("profile") != profile.name:
        raise SettingsFileRefused(f"this settings file was made for {made_for}; the connected device is "
                                  f"{profile.title}")
    if not isinstance(there, dict) or not there:
        raise SettingsFileRefused("this settings file does not name the model it was saved from")
    if not here:
        raise SettingsFileRefused(f"the connected {profile.title} does not report its model, so a settings file "
                                  "cannot be matched to it")
    missing = [k for k in here if k not in there]
    if missing:
        raise SettingsFileRefused(f"this settings file does not name the device's {', '.join(missing)}; "
                                  "it cannot be matched to this model")
    differ = {k: (there.get(k), v) for k, v in here.items() if there[k] != v}
    if differ:
        what = ", ".join(f"{k} {a!r} in the file, {b!r} on the device" for k, (a, b) in differ.items())
        raise SettingsFileRefused(f"this settings file was made for another model ({what})")


@dataclass
class DiffRow:
    name: str
    label: str
    current: object
    current_text: str
    new: object
    new_text: str
    changes: bool
    protected: bool = False
    confirm: bool = False
    error: str = ""


@dataclass
class Preview:
    """What applying the file would change on this device."""

    rows: list[DiffRow]
    warnings: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def changes(self) -> list[DiffRow]:
        return [r for r in self.rows if r.changes]

    @property
    def errors(self) -> list[DiffRow]:
        return [r for r in self.rows if r.error]

    @property
    def protected_changes(self) -> list[DiffRow]:
        """Changes that need the installer login."""
        return [r for r in self.rows if r.changes and r.protected]


async def preview(doc: dict, session: ParamSession) -> Preview:
    """Check the model, then compare every setting of the file with the device's value."""
    device = session.device
    profile = device.profile
    ident_names = profile.identity_rule_points() + [n for n in ("model_name",) if profile.has(n)]
    identity = await device.read_names(list(dict.fromkeys(ident_names))) if ident_names else {}
    check_model(doc, profile, identity)
    points = {p.name: p for p in transferable_points(profile)}
    current = await device.read_names([n for n in doc["settings"] if n in points])
    rows, warnings = [], []
    for name, entry in doc["settings"].items():
        p = points.get(name)
        if p is None:
            warnings.append(f"{name}: not a setting of this profile any more; left out")
            continue
        new = entry.get("value")
        row = DiffRow(name, p.label or name, plain(current.get(name)), value_text(p, current.get(name)),
                      new, value_text(p, new) if new is not None else "—", False,
                      p.protected and session.has_login, p.confirm)
        try:
            plan = session.check(name, new)
            row.new, row.new_text = plan.value, plan.text
            row.changes = not same_value(plan.value, row.current)
        except WriteRefused as exc:
            row.error = str(exc)
        rows.append(row)
    fw_file = {c.get("component"): c.get("version") for c in doc.get("firmware", [])}
    for c in await device.firmware():
        was = fw_file.get(c["component"])
        if was and c["version"] and was != c["version"]:
            warnings.append(f"{c['label']}: the file was saved from firmware {was}, this device runs "
                            f"{c['version']}")
    return Preview(rows, warnings, f"{doc.get('serial', '?')} saved {doc.get('saved_at', '?')}")


async def apply(doc: dict, session: ParamSession, names: list[str] | None = None) -> list[WriteResult]:
    """Write the settings that differ (or only ``names``); the preview counts as the confirmation.

    Refuses another model and any invalid value before writing anything; needs
    the installer login first when a protected setting changes (LoginNeeded).
    """
    pv = await preview(doc, session)
    if pv.errors:
        raise SettingsFileError("the file holds values this device does not allow: "
                                + "; ".join(r.error for r in pv.errors))
    values = {r.name: r.new for r in pv.changes if names is None or r.name in names}
    if not values:
        return []
    return await session.write_many(values, confirmed=True, stop_on_error=False)

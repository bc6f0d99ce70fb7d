"""Recent connections, remembered in QSettings: the link, the unit id and the profile choice.

Runs on the GUI thread (QSettings is used from there only). What is kept is
what the connection panel needs to connect again -- link kind, host/port or
serial port and line settings, unit id, profile choice, the demo flag -- and
a short label. Nothing about the customer or the site is stored: no names,
no addresses, no serial numbers of the device.
"""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QSettings

from protocols.links.factory import LinkSpec

from desktop.device.connect import Target

log = logging.getLogger(__name__)

KEY = "connection/recent"
LIMIT = 8
# LinkSpec fields that say where and how to connect; nothing else is stored.
_SPEC_FIELDS = ("kind", "host", "port", "serial_port", "baud", "parity", "stopbits", "local_echo",
                "inter_frame_delay_s", "ble_address", "logger_serial", "timeout_s")


def target_to_dict(target: Target) -> dict:
    """The storable form of a Target (only connection fields)."""
    spec = target.spec.to_dict()
    out = {"spec": {k: spec[k] for k in _SPEC_FIELDS if k in spec}, "unit": int(target.unit),
           "profile": target.profile or "auto", "demo": bool(target.demo)}
    if getattr(target, "sunspec_base", None) is not None:
        out["sunspec_base"] = int(target.sunspec_base)
    return out


def target_from_dict(data: dict) -> Target:
    """A Target from ``target_to_dict`` output; ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a recent connection must be a mapping")
    spec = LinkSpec.from_dict(dict(data.get("spec") or {}))
    unit = int(data.get("unit", 1))
    if not 0 <= unit <= 247:
        raise ValueError(f"unit id {unit} is outside 0..247")
    base = data.get("sunspec_base")
    if base is not None and not (isinstance(base, int) and 0 <= base <= 65534):
        raise ValueError(f"SunSpec base {base!r} is not a register address 0..65534")
    return Target(spec=spec, unit=unit, profile=str(data.get("profile") or "auto"),
                  demo=bool(data.get("demo", False)), sunspec_base=base)


def _identity(data: dict) -> tuple:
    """What makes two entries the same connection (the label may differ)."""
    spec = data.get("spec", {})
    if data.get("demo"):
        return ("demo",)
    return (spec.get("kind"), spec.get("host"), spec.get("port"), spec.get("serial_port"),
            spec.get("baud"), spec.get("parity"), data.get("unit"))


class RecentConnections:
    """The most recent connections first, at most ``limit``, kept in ``settings``."""

    def __init__(self, settings: QSettings, limit: int = LIMIT) -> None:
        self.settings = settings
        self.limit = limit

    def entries(self) -> list[dict]:
        """Stored entries, newest first: {"label", "spec", "unit", "profile", "demo"}.

        An unreadable value (edited by hand, older format) is dropped with a
        log line rather than breaking the panel.
        """
        raw = self.settings.value(KEY, "[]")
        try:
            items = json.loads(raw if isinstance(raw, str) else "[]")
        except (TypeError, ValueError):
            log.warning("recent connections in the settings are unreadable; starting an empty list")
            return []
        out = []
        for item in items if isinstance(items, list) else []:
            try:
                target_from_dict(item)
            except (ValueError, TypeError):
                continue
            out.append(item)
        return out[: self.limit]

    def targets(self) -> list[tuple[str, Target]]:
        """(label, Target) for each entry, newest first."""
        return [(e.get("label") or target_from_dict(e).label(), target_from_dict(e)) for e in self.entries()]

    def remember(self, target: Target, label: str | None = None) -> None:
        """Put ``target`` first (moving it up if already known) and trim the list."""
        item = target_to_dict(target)
        item["label"] = label or target.label()
        kept = [e for e in self.entries() if _identity(e) != _identity(item)]
        self._store([item] + kept)

    def clear(self) -> None:
        self._store([])

    def _store(self, entries: list[dict]) -> None:
        self.settings.setValue(KEY, json.dumps(entries[: self.limit]))
        self.settings.sync()

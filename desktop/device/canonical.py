"""Canonical point names (``pv_power_w``, ``serial_number``, ...) on any profile, for every desktop consumer.

Any thread (pure functions, no Qt). ``Profile.resolve`` (protocols/profiles/
model.py) is the one mapping from PVDesk's canonical names to a profile's own
points (the point of that name, else ``extra["aliases"]``); this module is
how the recorder, the CT check, the wizard, the diagnostics and firmware
pages apply it to reads and identity dictionaries. A canonical name the
device does not have is simply absent (shown as "n/a"), never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from protocols.profiles.model import Profile


def resolve_all(profile: Profile, canonical: Iterable[str]) -> dict[str, str]:
    """canonical name -> the profile's point name, for those the device has (in the order given)."""
    out = {}
    for name in canonical:
        point = profile.resolve(name)
        if point is not None:
            out[name] = point
    return out


def by_canonical(names: Mapping[str, str], values: Mapping[str, object]) -> dict[str, object]:
    """Values read by point name, keyed by canonical name (``names`` from :func:`resolve_all`)."""
    return {canon: values[point] for canon, point in names.items() if point in values}


def serial_of(profile: Profile | None, identity: Mapping[str, object]) -> str | None:
    """The device serial in an identity read (its ``serial_number`` point, whatever the profile calls it)."""
    name = profile.resolve("serial_number") if profile is not None else "serial_number"
    value = identity.get(name) if name else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None

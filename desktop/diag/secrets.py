"""Secrets kept out of everything PVDesk records: the installer login code above all.

Runs on any thread (pure functions, no Qt). A *secret point* is one whose
value unlocks the device (the ``installer_login`` register, or any point a
profile marks ``secret = true`` in its ``extra``); its value is replaced by
``REDACTED`` before it reaches the session log, a bundle, the review window
or a log line, and the register values of a write to it are zeroed in the bus
trace (the frame stays, so the analyser still shows *that* a login happened,
never *what* was typed). The protected settings themselves (grid code, export
limit) are not secrets: their values are what a support engineer needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from .trace import pdu_of

LOGIN_POINT = "installer_login"
REDACTED = "(secret, not recorded)"


def is_secret(profile, name: str) -> bool:
    """True when the point ``name`` of ``profile`` holds a secret (the login code)."""
    if name == LOGIN_POINT:
        return True
    extra = getattr(profile, "extra", None) or {}
    return name in extra.get("secret_points", ())


def secret_names(profile) -> frozenset[str]:
    """Every secret point of ``profile`` (possibly empty)."""
    names = {LOGIN_POINT} if profile is not None and profile.has(LOGIN_POINT) else set()
    extra = getattr(profile, "extra", None) or {}
    names.update(n for n in extra.get("secret_points", ()) if profile.has(n))
    return frozenset(names)


def secret_registers(profile) -> frozenset[int]:
    """Holding-register addresses a write to which carries a secret."""
    regs: set[int] = set()
    for name in secret_names(profile):
        p = profile.point(name)
        regs.update(range(p.address, p.address + p.width))
    return frozenset(regs)


def redact_write(profile, entry: dict) -> dict:
    """A write event with the value, old value and read-back of a secret point replaced."""
    if not is_secret(profile, str(entry.get("name", ""))):
        return entry
    return _write_redacted(entry)


def _write_redacted(entry: dict) -> dict:
    return {k: (REDACTED if k in ("value", "old", "read_back") and v is not None else v) for k, v in entry.items()}


def redact_values(profile, values: dict) -> dict:
    """A sample's (or capture's) values without the secret points."""
    hidden = secret_names(profile)
    return values if not hidden else {k: v for k, v in values.items() if k not in hidden}


def _blank_span(pdu: bytearray, start: int, count: int, first_value_at: int, secret: Iterable[int]) -> None:
    secret = set(secret)
    for i in range(count):
        if start + i in secret:
            at = first_value_at + 2 * i
            if at + 2 <= len(pdu):
                pdu[at:at + 2] = b"\x00\x00"


def redact_frame(frame: bytes, secret: frozenset[int]) -> bytes:
    """``frame`` (MBAP or RTU) with the register values of a write to a secret register zeroed.

    FC6 (write single) and FC16 (write multiple) requests are the frames that
    carry a login code; their answers echo only address and count (FC16) or
    the value (FC6, zeroed too). The RTU CRC is left as it was: a redacted
    frame is marked by the zeros, and a CRC over the secret would leak
    nothing useful but would no longer match, which the analyser shows.
    """
    if not secret or len(frame) < 4:
        return frame


    unit, pdu = pdu_of(frame)
    if unit is None or not pdu or pdu[0] not in (6, 16) or len(pdu) < 5:
        return frame
    start = len(frame) - len(pdu) if frame[2:4] == b"\x00\x00" and len(frame) - len(pdu) == 7 else 1
    body = bytearray(pdu)
    address = int.from_bytes(body[1:3], "big")
    if body[0] == 6:
        _blank_span(body, address, 1, 3, secret)
    elif len(body) >= 6:
        _blank_span(body, address, int.from_bytes(body[3:5], "big"), 6, secret)
    return frame[:start] + bytes(body) + frame[start + len(pdu):]


def session_secrets(profile_doc: dict) -> tuple[frozenset[str], frozenset[int]]:
    """The secret point names and registers of a recorded session, from its profile document.

    A bundle redacts again with these, so a recording made before a point was known to be
    secret (or by an older PVDesk that recorded writes as they were) never carries the code.
    The login point's name is secret even when the document cannot be read back.
    """
    from .profile_doc import from_doc
    try:
        profile = from_doc(profile_doc)
    except Exception:  # a document an older PVDesk wrote: the name rule still holds
        return frozenset({LOGIN_POINT}), frozenset()
    return secret_names(profile) | {LOGIN_POINT}, secret_registers(profile)


def redact_event(event: dict, names: frozenset[str]) -> dict:
    """A recorded event (write, settings) with every value of a point in ``names`` replaced or dropped."""
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return event
    if event.get("kind") == "write" and str(payload.get("name", "")) in names:
        payload = _write_redacted(payload)
    elif event.get("kind") == "settings" and names & payload.keys():
        payload = {k: v for k, v in payload.items() if k not in names}
    else:
        return event
    return {**event, "payload": payload}

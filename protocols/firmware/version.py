"""The one version grammar of firmware packages and devices, and how versions compare.

Runs on any thread; pure functions. The grammar (docs/firmware-protocol.md):

    version = part "." part [ "." part ]      e.g. 1.04.02, 2.10, 1.5.0
    part    = 1 to 3 ASCII digits
    at most 8 characters in all (the device keeps a version in 4 registers)

Nothing else: no epoch (``1!0.1``), no letters, pre-release, post or local
tags (``1.05.00+evil``, ``1.0rc1``), no signs, spaces or non-ASCII digits,
and no more than 8 characters (``10.00.001``). Versions compare part by part
as numbers, a missing third part counting as 0: 1.04.02 == 1.4.2 < 1.10.
"""

from __future__ import annotations

import re

from ..errors import PVDeskError

VERSION_TEXT_MAX = 8
_GRAMMAR = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}(?:\.[0-9]{1,3})?", re.ASCII)
GRAMMAR_TEXT = "two or three dot-separated numbers of 1 to 3 digits, at most 8 characters, e.g. 1.04.02"


class VersionInvalid(PVDeskError):
    """A version does not follow the grammar."""

    check = "version grammar"
    hint = "a firmware version is " + GRAMMAR_TEXT


def parse_version(text) -> tuple[int, int, int]:
    """(major, minor, patch) of a version in the grammar; VersionInvalid otherwise."""
    if not isinstance(text, str):
        raise VersionInvalid(f"version grammar: {text!r} is not a version text")
    if len(text) > VERSION_TEXT_MAX:
        raise VersionInvalid(f"version grammar: {text[:24]!r} is longer than {VERSION_TEXT_MAX} characters "
                             "(the device keeps 4 registers)")
    if not _GRAMMAR.fullmatch(text):
        raise VersionInvalid(f"version grammar: {text!r} is not a version number (expected e.g. 1.04.02)")
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


def is_version(text) -> bool:
    try:
        parse_version(text)
    except VersionInvalid:
        return False
    return True

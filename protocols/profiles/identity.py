"""Identity rules: does a device's identity fit a profile, and why.

Runs on any thread (pure functions). A profile's ``[identity] match`` is a
list of rules that must all pass; a rule tests one identity point (equals,
one_of, prefix, contains, regex searched in the text, inclusive range) or
groups sub-rules (``any_of``, ``all_of``); ``negate`` turns any rule round.
Text tests compare the text with surrounding blanks and NULs removed, case as
written. A value that is not available never passes a positive test.
``priority`` (higher first) orders profiles so that a family inside a brand
(SOFAR ES/ME) is tried before the brand's broader rule (SOFAR G3).
"""

from __future__ import annotations

import re

from .. import codecs
from .model import IdentityRule, Profile


def _text(v) -> str | None:
    if isinstance(v, str):
        return v.strip(" \x00")
    return None


def _leaf(rule: IdentityRule, v) -> bool:
    if v is None or v is codecs.NOT_IMPLEMENTED:
        return False
    if rule.equals is not None:
        return (_text(v) if isinstance(rule.equals, str) else v) == rule.equals
    if rule.one_of:
        return (_text(v) if isinstance(v, str) else v) in rule.one_of
    if rule.range is not None:
        return isinstance(v, (int, float)) and rule.range[0] <= v <= rule.range[1]
    t = _text(v)
    if t is None:
        return False
    if rule.prefix is not None:
        return t.startswith(rule.prefix)
    if rule.contains is not None:
        return rule.contains in t
    if rule.regex is not None:
        return re.search(rule.regex, t) is not None
    return False


def passes(rule: IdentityRule, values: dict) -> bool:
    """Whether ``values`` (identity point -> decoded value) pass ``rule``."""
    if rule.any_of:
        ok = any(passes(r, values) for r in rule.any_of)
    elif rule.all_of:
        ok = all(passes(r, values) for r in rule.all_of)
    else:
        ok = _leaf(rule, values.get(rule.point))
    return ok != rule.negate


def judge(profile: Profile, values: dict) -> tuple[bool, str]:
    """(matched, why): every rule of ``profile`` passed, and a line saying what was seen."""
    if not profile.identity:
        return False, "the profile has no identity rules"
    for rule in profile.identity:
        if not passes(rule, values):
            return False, f"failed: {rule.describe()}"
    seen = ", ".join(f"{n} = {values.get(n)!r}" for n in profile.identity_rule_points())
    return True, f"{' and '.join(r.describe() for r in profile.identity)} ({seen})"


def order(profiles: list[Profile]) -> list[Profile]:
    """Profiles in detection order: higher identity priority first, then by name."""
    return sorted(profiles, key=lambda p: (-p.priority, p.name))

"""Text from outside (a bundle, a package, a device) made safe to print on a terminal.

Runs on any thread; pure functions. A diagnostics bundle is written by another
laptop and may be hostile: an alarm text or a model name holding ``ESC [2J``
cleared the support engineer's screen, and ``ESC ]0;...`` set the window
title. ``terminal_text`` shows every control character (C0, DEL, C1), and the
bidirectional overrides that can make text read differently from what it is,
as a visible escape (``\\x1b``, ``\\u202e``) instead of sending it to the
terminal. Newlines and tabs are escaped too: each field stays on its line.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal_text(value) -> str:
    """``str(value)`` with control and direction-override characters shown as escapes."""
    return _UNSAFE.sub(_escape, str(value))


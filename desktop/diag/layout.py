"""Names and limits of the diagnostics bundle format (shared by export and open). Any thread."""

from __future__ import annotations

from dataclasses import dataclass

FORMAT = "pvdesk-diagnostics/1"
MANIFEST = "manifest.json"
TELEMETRY = "telemetry.parquet"
EVENTS = "events.jsonl"
ALARMS = "alarms.json"
FIRMWARE = "firmware.json"
IDENTITY = "identity.json"
SETTINGS = "settings.json"
REGISTERS = "registers.json"
PROFILE = "profile.json"
TRACE = "bus_trace.parquet"
CUSTOMER = "customer.json"


@dataclass(frozen=True)
class Limits:
    """What a bundle may be before it is refused unopened (hostile or broken files)."""

    max_file_bytes: int = 4 * 1024**3           # the zip on disk
    max_members: int = 512
    max_member_bytes: int = 3 * 1024**3          # one member, uncompressed
    max_total_bytes: int = 4 * 1024**3           # all members, uncompressed
    max_ratio: float = 200.0                     # uncompressed / compressed, for members over ratio_floor
    ratio_floor_bytes: int = 1024 * 1024
    max_json_bytes: int = 256 * 1024**2          # a JSON member parsed in memory

"""What the device service tells its listeners: one frozen dataclass per event kind. No Qt.

Made and delivered ON THE I/O THREAD (the Qt bridge re-emits each as a
signal for the GUI thread; the diagnostics recorder queues it for its writer).
A listener dispatches on the type (``match event: case SampleReady(...)``) or
on ``event.kind``; payloads are plain values, never the live Device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from protocols.profiles.model import Profile
from protocols.sample import Sample


class EventKind(Enum):
    STATE = "state"
    LINK = "link"
    IDENTITY = "identity"
    FIRMWARE = "firmware"
    SAMPLE = "sample"
    ALARMS = "alarms"
    STATS = "stats"
    ERROR = "error"
    SITE = "site"


@dataclass(frozen=True)
class StateChanged:
    """The link's state: "disconnected", "connecting", "connected" or "reconnecting", and a detail line."""

    kind: ClassVar[EventKind] = EventKind.STATE
    state: str
    detail: str = ""


@dataclass(frozen=True)
class LinkOpened:
    """A device is connected: the link's label, the chosen profile, the unit, the link spec, demo or not.

    ``profile`` is None only in review, for a bundle recorded without one.
    """

    kind: ClassVar[EventKind] = EventKind.LINK
    label: str
    profile: Profile | None
    unit: int = 1
    spec: dict = field(default_factory=dict)
    demo: bool = False
    joined: bool = False   # the recorder joined a link that was already open
    recorded_title: str = ""   # review: the title the recording names when it has no profile

    @property
    def title(self) -> str:
        return self.profile.title if self.profile is not None else self.recorded_title

    @property
    def profile_name(self) -> str:
        return self.profile.name if self.profile is not None else ""

    def as_dict(self) -> dict:
        """The JSON form kept in recordings and bundles (the profile by name)."""
        out = {"label": self.label, "profile": self.profile_name, "title": self.title, "unit": self.unit,
               "spec": dict(self.spec), "demo": self.demo}
        if self.joined:
            out["joined"] = True
        return out

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access to :meth:`as_dict` (for handlers written for the old dict payload)."""
        return self.as_dict().get(key, default)


@dataclass(frozen=True)
class IdentityRead:
    """The identity points (model, serial, ratings) read once after connecting, by point name."""

    kind: ClassVar[EventKind] = EventKind.IDENTITY
    values: dict


@dataclass(frozen=True)
class FirmwareRead:
    """Version, hardware revision and serial of every firmware component."""

    kind: ClassVar[EventKind] = EventKind.FIRMWARE
    components: list


@dataclass(frozen=True)
class SampleReady:
    """One poll cycle's values."""

    kind: ClassVar[EventKind] = EventKind.SAMPLE
    sample: Sample


@dataclass(frozen=True)
class AlarmsChanged:
    """The alarms active in the latest sample (protocols.faults.Alarm)."""

    kind: ClassVar[EventKind] = EventKind.ALARMS
    alarms: list


@dataclass(frozen=True)
class StatsUpdated:
    """Link statistics (requests, failures, latency, the last good sample's time)."""

    kind: ClassVar[EventKind] = EventKind.STATS
    stats: dict


@dataclass(frozen=True)
class ErrorRaised:
    """One line for the user (desktop.core.errors.describe_error of what went wrong)."""

    kind: ClassVar[EventKind] = EventKind.ERROR
    text: str


@dataclass(frozen=True)
class SiteChanged:
    """The site service's snapshot of every device of the site (desktop/device/site_service.py)."""

    kind: ClassVar[EventKind] = EventKind.SITE
    devices: list


Event = (StateChanged | LinkOpened | IdentityRead | FirmwareRead | SampleReady | AlarmsChanged | StatsUpdated
         | ErrorRaised | SiteChanged)
Listener = Callable[[Event], None]

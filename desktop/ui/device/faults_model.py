"""Table model of the faults page: active alarms and the device's fault log, with filter and CSV export.

Runs on the GUI thread (Qt item models). Rows are plain ``FaultRow`` values
built from ``protocols.faults.Alarm``; the raw code is always a column of
its own, beside the text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from widgets.row_table import RowTableModel

COLUMNS = ("Time", "Code", "Description", "Severity", "State")
SEVERITY_COLOUR = {"critical": "#D0343A", "error": "#E0484E", "warning": "#E07B00", "info": "#3A86E0"}


@dataclass(frozen=True)
class FaultRow:
    """One line of the table: an active alarm (since when) or a logged fault (when)."""

    time_s: float
    code: int
    text: str
    severity: str
    state: str  # "Active" or "Logged"
    source: str
    clock: str = "laptop"            # whose clock time_s is: "laptop" (seen by PVDesk) or "device" (its log)
    drift_s: float | None = None     # device clock minus laptop clock, where measured

    @classmethod
    def from_alarm(cls, alarm, time_s: float | None = None, drift_s: float | None = None) -> "FaultRow":
        logged = not alarm.active
        return cls(float(alarm.time_s if time_s is None else time_s), int(alarm.code), alarm.text,
                   alarm.severity, "Logged" if logged else "Active", alarm.source,
                   "device" if logged else "laptop", drift_s if logged else None)

    def local_time(self) -> str:
        return datetime.fromtimestamp(self.time_s).strftime("%Y-%m-%d %H:%M:%S")

    def laptop_time_s(self) -> float | None:
        """The time on the laptop's clock: as is for laptop rows, corrected by the drift for device rows."""
        if self.clock == "laptop":
            return self.time_s
        return None if self.drift_s is None else self.time_s - self.drift_s

    def time_text(self) -> str:
        """"2026-12-02 10:06:02 (device clock ≈ 10:07:35 laptop)" -- every time says whose clock it is."""
        text = f"{self.local_time()} ({self.clock} clock"
        laptop = self.laptop_time_s()
        if self.clock == "device" and laptop is not None and abs(self.drift_s or 0.0) >= 1.0:
            text += f" ≈ {datetime.fromtimestamp(laptop).strftime('%H:%M:%S')} laptop"
        return text + ")"

    def utc_iso(self) -> str:
        return datetime.fromtimestamp(self.time_s, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class FaultTableModel(RowTableModel):
    """Active rows first (newest first), then the log (newest first)."""

    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.active: list[FaultRow] = []
        self.history: list[FaultRow] = []
        self.rows: list[FaultRow] = []

    def set_active(self, rows: list[FaultRow]) -> None:
        self.active = sorted(rows, key=lambda r: -r.time_s)
        self._rebuild()

    def set_history(self, rows: list[FaultRow]) -> None:
        self.history = sorted(rows, key=lambda r: -r.time_s)
        self._rebuild()

    def _rebuild(self) -> None:
        self.set_rows(self.active + self.history)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.time_text(), str(row.code), row.text, row.severity.capitalize(), row.state)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            clock = ("when PVDesk first saw it active, by this laptop's clock" if row.clock == "laptop" else
                     "as the device logged it, by the device's own clock" + (
                         f" (it runs {row.drift_s:+.0f} s from the laptop's)" if row.drift_s is not None else ""))
            return (f"{row.utc_iso()} (UTC), {clock}", f"raw code {row.code} (0x{row.code:04X}), from {row.source}",
                    row.text, row.severity, "still active" if row.state == "Active" else "from the device's log")[col]
        if role == Qt.ItemDataRole.DecorationRole and col == 3:
            return QColor(SEVERITY_COLOUR.get(row.severity, "#8A8F98"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row.state == "Active":
            from PySide6.QtGui import QFont
            font = QFont()
            font.setWeight(QFont.Weight.DemiBold)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


class FaultFilter(QSortFilterProxyModel):
    """Rows of one severity (or all) whose text, code or source contains every word typed."""

    def __init__(self) -> None:
        super().__init__()
        self.severity: str | None = None
        self.words: list[str] = []

    def set_severity(self, severity: str | None) -> None:
        self.severity = severity or None
        self.invalidate()

    def set_text(self, text: str) -> None:
        self.words = text.lower().split()
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, _parent) -> bool:  # Qt override
        row = self.sourceModel().rows[source_row]
        if self.severity and row.severity != self.severity:
            return False
        hay = f"{row.code} 0x{row.code:04x} {row.text} {row.source} {row.state} {row.severity}".lower()
        return all(w in hay for w in self.words)

    def visible_rows(self) -> list[FaultRow]:
        return [self.data(self.index(i, 0), Qt.ItemDataRole.UserRole) for i in range(self.rowCount())]


def write_csv(path: str, rows: list[FaultRow]) -> int:
    """time_utc (ISO 8601, Z), clock (whose), laptop_time_utc, code, text, severity, state, source."""
    from desktop.core.safe_files import safe_output
    with safe_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["time_utc", "clock", "laptop_time_utc", "code", "text", "severity", "state", "source"])
        for r in rows:
            laptop = r.laptop_time_s()
            laptop_text = "" if laptop is None else datetime.fromtimestamp(laptop, tz=UTC).isoformat(
                timespec="seconds").replace("+00:00", "Z")
            writer.writerow([r.utc_iso(), r.clock, laptop_text, r.code, r.text, r.severity, r.state.lower(),
                             r.source])
    return len(rows)

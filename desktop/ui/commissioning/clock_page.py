"""The wizard's clock step: the site's time zone from the grid code's country (or asked), then the clock.

GUI thread; the reads and writes run on the I/O thread through the wizard's
Bridge (WizardRunner.clock_plan, WizardRunner.clock). The zone is never taken
silently from the laptop: the grid code's country names it
(desktop.commission.timezones); where the country has several zones, or the
grid code names none, the installer chooses from the zones listed, and Next
is refused until they have. The page shows what will be written (zone, its
offset now, the clock from this laptop's clock) before the write, and the
drift before and after once it is done.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel

from desktop.commission.clock import drift_text, laptop_tz_offset_min, offset_text, zone_text
from desktop.commission.timezones import ZoneUnknown, all_zones, zone_offset_min
from desktop.commission.wizard import country_text
from desktop.core.errors import describe_error
from desktop.ui.commissioning.widgets import html_escape, show_result
from desktop.ui.commissioning.wizard import StepPage


class ClockPage(StepPage):
    step_id = "clock"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle("The device's time zone is the site's, from the grid code's country; its clock is "
                         "set from this laptop's clock.")
        form = QFormLayout()
        self.device_time = QLabel("…")
        self.laptop_time = QLabel("…")
        self.drift = QLabel("…")
        self.drift.setObjectName("clockDrift")
        self.country = QLabel("…")
        self.country.setObjectName("clockCountry")
        self.country.setWordWrap(True)
        self.tz = QComboBox(self)
        self.tz.setObjectName("timezone")
        self.will_write = QLabel("")
        self.will_write.setObjectName("clockWillWrite")
        self.will_write.setWordWrap(True)
        form.addRow("Device clock:", self.device_time)
        form.addRow("Laptop clock:", self.laptop_time)
        form.addRow("Difference:", self.drift)
        form.addRow("Site's country:", self.country)
        form.addRow("Time zone:", self.tz)
        form.addRow("Will be written:", self.will_write)
        self.layout_.addLayout(form)
        self.finish_layout()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.tz.currentIndexChanged.connect(lambda _i: self._zone_changed())
        self.reading: dict | None = None
        self.plan: dict | None = None

    def initializePage(self) -> None:
        self.plan = None
        self.tz.clear()
        self.timer.start(1000)
        self.run(lambda: self.wiz.runner.clock_plan(), self._planned, "Reading the device's clock and grid code…")

    def cleanupPage(self) -> None:
        self.timer.stop()

    # ----------------------------------------------------------- the plan
    def _planned(self, plan: dict) -> None:
        self.plan = plan
        zones, country = plan["zones"], plan["country"]
        self.tz.blockSignals(True)
        self.tz.clear()
        if len(zones) != 1:   # several, or none known: the installer chooses, nothing is preselected
            self.tz.addItem("Choose the site's time zone…", None)
        for z in zones or all_zones():
            try:
                self.tz.addItem(zone_text(z), z)
            except ZoneUnknown:   # no time zone database here: the page says so when it is chosen
                self.tz.addItem(z, z)
        self.tz.setCurrentIndex(0)
        self.tz.blockSignals(False)
        if country and len(zones) == 1:
            self.country.setText(f"{html_escape(country_text(country))}, from the grid code")
        elif country:
            self.country.setText(f"{html_escape(country_text(country))}, from the grid code: it has "
                                 f"{len(zones)} time zones ({html_escape(', '.join(zones))}): choose the site's below")
        else:
            self.country.setText("The grid code names no country: choose the site's time zone")
        self._show(plan["reading"])
        self._zone_changed(reread=False)   # the plan's reading was taken in the one zone already

    def zone(self) -> str | None:
        return self.tz.currentData()

    def _zone_changed(self, reread: bool = True) -> None:
        zone = self.zone()
        if self.plan is None:
            return
        if zone is None:
            self.will_write.setText("nothing yet: choose the time zone first")
            show_result(self.status, "Choose the site's time zone, then press Next.", "warn")
            return
        parts = []
        if self.plan.get("has_zone_register"):
            try:
                minutes = zone_offset_min(zone)
            except ZoneUnknown as exc:
                self.will_write.setText("nothing: " + html_escape(exc.one_line()))
                show_result(self.status, describe_error(exc), "bad")
                return
            parts.append(f"time zone <b>{html_escape(zone)}</b>: offset <b>{offset_text(minutes)}</b> "
                         f"({minutes} min)")
        if self.plan.get("local_clock"):
            parts.append(f"the device's clock set to the local time in <b>{html_escape(zone)}</b>, "
                         "from this laptop's clock")
        else:
            parts.append("the device's clock from this laptop's clock (UTC)")
        self.will_write.setText("; ".join(parts) + ".")
        show_result(self.status, "Press Next to write the time zone and set the clock.", "ok")
        if reread and self.wiz.runner is not None and not self.busy:
            self.run(lambda: self.wiz.runner.read_clock(zone), self._show, "Reading the device's clock…")

    # ---------------------------------------------------------- the clocks
    def _show(self, reading: dict) -> None:
        self.reading = dict(reading, read_at=time.time())
        self._tick()
        if self.plan is not None and self.zone() is not None and self.status.property("kind") == "busy":
            show_result(self.status, "Press Next to write the time zone and set the clock.", "ok")

    def _tick(self) -> None:
        now = time.time()
        self.laptop_time.setText(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
                                 + f" ({offset_text(laptop_tz_offset_min())}, this laptop's zone)")
        r = self.reading
        if r and r.get("device_time_s") is not None:
            dev_now = r["device_time_s"] + (now - r["read_at"])
            off = r.get("device_tz_offset_min") or 0
            self.device_time.setText(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(dev_now + off * 60))
                                     + f" ({offset_text(r.get('device_tz_offset_min'))})")
            self.drift.setText(drift_text(r["drift_s"]))

    # -------------------------------------------------------------- write
    def start(self) -> None:
        zone = self.zone()
        if zone is None:
            zones = (self.plan or {}).get("zones") or []
            which = f" ({', '.join(zones)})" if len(zones) > 1 else ""
            show_result(self.status, f"Not written: choose the site's time zone first{which}.", "bad")
            return
        self.run(lambda: self.wiz.runner.clock(zone), self._set, "Setting the time zone and the clock…",
                 on_error=lambda exc: show_result(self.status, describe_error(exc), "bad"))

    def _set(self, result) -> None:
        results, reading = result
        self._show(reading)
        bad = [r for r in results if not r.ok]
        if bad:
            show_result(self.status, "; ".join(r.message for r in bad), "bad")
            return
        before = (reading.get("before") or {}).get("drift_s")
        show_result(self.status, f"Time zone {reading.get('zone')} written; clock set: before "
                    f"{drift_text(before)}, now {drift_text(reading['drift_s'])}.", "ok")
        self.advance()

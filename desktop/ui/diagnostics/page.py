"""The Diagnostics page: recording status and limits, the bus-trace switch, and Export diagnostics.

Runs on the GUI thread. The recorder writes on its own thread; this page
reads its status and the session log's extent every few seconds. Export
takes a fresh register image, fault log and settings through
``bridge.call_device`` when a device is connected, then writes the bundle on
the app's Worker (results back as a signal), so the window never waits.
Every open device of the site (the Site page's SiteService) is read too
and goes in the bundle under site/ (desktop/diag/site_capture.py).
The customer's consent to sharing with support decides whether the customer
section is masked; the page says which before the export.

Built by the composition root (desktop/app.py) with the app's recorder, its
records and its worker.
"""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from widgets.flow_layout import flow_row, labelled

from desktop.core import paths
from desktop.core.errors import describe_error
from desktop.device.canonical import serial_of
from desktop.diag.bundle import ExportOptions, default_name, export_bundle
from desktop.diag.capture import capture_live
from desktop.diag.redact import PURPOSE, customer_share
from desktop.diag.sessionlog import SessionLog
from desktop.diag.site_capture import capture_site
from desktop.records.masking import mask_customer
from desktop.ui.shell.worker import Worker, shared_worker

RANGES = (("The whole recording", None), ("The last 24 hours", 86400.0), ("The last hour", 3600.0),
          ("This connection only", "session"))
CONSENT_TEXT = {
    "granted": ("#2E9E5B", "consented to sharing with support: name, phone, e-mail and location are included"),
    "renew": ("#E07B00", "consent was given for an older privacy policy: personal data is masked until asked again"),
    "withdrawn": ("#E07B00", "consent was withdrawn: personal data is masked"),
    "none": ("#3A86E0", "no consent to sharing with support: personal data is masked"),
    "restricted": ("#E07B00", "the record is restricted: personal data is masked"),
}


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


class DiagnosticsPage(QWidget):
    """``DiagnosticsPage(bridge, recorder, records=None, worker=None, exports_dir=None)``.

    ``records`` is the app's RecordsService, or a callable returning it (or
    None when the store is not open); the page never opens a second one.
    ``worker`` (desktop/ui/shell/worker.py) writes the bundle off the GUI
    thread; ``exports_dir`` is where the save dialog starts.
    Signals: ``exported(str)`` with the bundle path; ``reviewRequested(str)``.
    """

    exported = Signal(str)
    reviewRequested = Signal(str)

    def __init__(self, bridge, recorder, records=None, parent: QWidget | None = None, *, worker: Worker | None = None,
                 exports_dir: Path | None = None, site=None) -> None:
        super().__init__(parent)
        self.site = site   # the SiteService: every device of the site goes in the bundle too
        self.setObjectName("DiagnosticsPage")
        self.bridge, self.recorder = bridge, recorder
        self._records = records
        self.worker = worker or shared_worker()
        self.exports_dir = exports_dir or paths.exports_dir()
        self._log: SessionLog | None = None
        self._busy = False
        self.last_result = None
        self._serial: str | None = None
        self._session_start_s: float | None = None
        bridge.linkOpened.connect(self._on_link_opened)
        bridge.identityReady.connect(self._on_identity)

        # -- recording ------------------------------------------------------
        rec_box = QGroupBox("Recording")
        form = QFormLayout(rec_box)
        self.state_label = QLabel()
        self.state_label.setAccessibleName("Recording state")
        self.extent_label = QLabel()
        self.usage = QProgressBar()
        self.usage.setAccessibleName("Space used by the recording")
        self.usage.setTextVisible(True)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(16, 100_000)
        self.size_spin.setSuffix(" MB")
        self.size_spin.setAccessibleName("Size limit in megabytes")
        self.age_spin = QSpinBox()
        self.age_spin.setRange(1, 3650)
        self.age_spin.setSuffix(" days")
        self.age_spin.setAccessibleName("Age limit in days")
        self.apply_button = QPushButton("Apply limits")
        self.apply_button.clicked.connect(self.apply_limits)
        limits = flow_row(labelled(QLabel("Keep at most"), self.size_spin), labelled(QLabel("and"), self.age_spin),
                          self.apply_button)   # wraps on a narrow window
        self.trace_box = QCheckBox("Also record the raw Modbus frames (bus trace)")
        self.trace_box.setToolTip("Every request and answer byte for byte, like a protocol analyser; grows the "
                                  "recording by a few MB an hour")
        self.trace_box.toggled.connect(self.recorder.set_bus_trace)
        self.folder_label = QLabel()
        self.folder_label.setWordWrap(True)
        form.addRow("State:", self.state_label)
        form.addRow("Holds:", self.extent_label)
        form.addRow("Space:", self.usage)
        form.addRow("Limits:", limits)
        form.addRow("", self.trace_box)
        form.addRow("Folder:", self.folder_label)

        # -- export ---------------------------------------------------------
        exp_box = QGroupBox("Export diagnostics for support")
        exp_layout = QVBoxLayout(exp_box)
        eform = QFormLayout()
        exp_layout.addLayout(eform)
        self.range_box = QComboBox()
        for text, value in RANGES:
            self.range_box.addItem(text, value)
        self.range_box.setAccessibleName("Time range to export")
        self.customer_box = QComboBox()
        self.customer_box.setAccessibleName("Customer record to include")
        self.customer_box.currentIndexChanged.connect(self._show_consent)
        self.consent_label = QLabel()
        self.consent_label.setWordWrap(True)
        self.consent_label.setAccessibleName("Personal data in the bundle")
        self.include_trace = QCheckBox("Bus trace")
        self.include_trace.setChecked(True)
        self.include_app_log = QCheckBox("PVDesk's own log")
        self.include_app_log.setChecked(True)
        self.include_upgrades = QCheckBox("Firmware upgrade logs")
        self.include_upgrades.setChecked(True)
        includes = flow_row(self.include_trace, self.include_app_log, self.include_upgrades)
        self.export_button = QPushButton("Export diagnostics…")
        self.export_button.setDefault(True)
        self.export_button.setToolTip("One file with telemetry, alarms, firmware, settings, the register image "
                                      "and logs")
        self.export_button.clicked.connect(self.export_dialog)
        self.review_button = QPushButton("Open in review")
        self.review_button.setEnabled(False)
        self.review_button.clicked.connect(lambda: self.reviewRequested.emit(str(self.last_result.path)))
        self.folder_button = QPushButton("Show folder")
        self.folder_button.setEnabled(False)
        self.folder_button.clicked.connect(lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(self.last_result.path.parent))))
        self.result_label = QLabel("The bundle holds the telemetry, the alarm and fault history, firmware versions, "
                                   "settings, a raw register image, upgrade logs and PVDesk's log, each with its "
                                   "SHA-256 in the manifest.")
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Export result")
        self.open_button = QPushButton("Open a bundle…")
        self.open_button.setToolTip("Review a bundle sent from a site: the same pages, read-only")
        self.open_button.clicked.connect(self._ask_open)
        actions = flow_row(self.export_button, self.review_button, self.folder_button, self.open_button)
        eform.addRow("Time range:", self.range_box)
        eform.addRow("Customer:", self.customer_box)
        eform.addRow("Personal data:", self.consent_label)
        eform.addRow("Include:", includes)
        eform.addRow("", actions)
        exp_layout.addWidget(self.result_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(rec_box)
        layout.addWidget(exp_box)
        layout.addStretch(1)

        self.size_spin.setValue(max(16, self.recorder.settings.max_bytes // (1024 * 1024)))
        self.age_spin.setValue(max(1, round(self.recorder.settings.max_age_s / 86400)))
        self.trace_box.blockSignals(True)
        self.trace_box.setChecked(self.recorder.settings.bus_trace)
        self.trace_box.blockSignals(False)
        self.folder_label.setText(paths.display_path(self.recorder.folder))
        self._timer = QTimer(self, interval=3000)
        self._timer.timeout.connect(self.refresh_status)
        self._timer.start()
        self._customers_loaded = False
        self.customer_box.addItem("No customer record", None)
        self._show_consent()
        self.refresh_status()

    def showEvent(self, event) -> None:  # Qt override
        # The records store (and its keyring) is opened when the page is first looked at, not at start-up.
        if not self._customers_loaded:
            self._customers_loaded = True
            QTimer.singleShot(0, self.reload_customers)
        super().showEvent(event)

    def _on_link_opened(self, _info: dict) -> None:
        self._session_start_s = time.time()
        self.refresh_status()

    def _on_identity(self, identity: dict) -> None:
        self._serial = serial_of(self.bridge.profile, identity)

    # -- records -------------------------------------------------------------
    def records(self):
        """The RecordsService, or None."""
        source = self._records
        try:
            return source() if callable(source) else source
        except Exception:  # no records store: bundles just carry no customer section
            return None

    def reload_customers(self) -> None:
        """List the customers of the records store (the page does this when first shown)."""
        self._customers_loaded = True
        self.customer_box.blockSignals(True)
        self.customer_box.clear()
        self.customer_box.addItem("No customer record", None)
        service = self.records()
        if service is not None:
            for summary in service.list_customers():
                self.customer_box.addItem(f"{summary.name} — {summary.site}" if summary.site else summary.name,
                                          summary.id)
        self.customer_box.blockSignals(False)
        self._show_consent()

    def _show_consent(self) -> None:
        rid = self.customer_box.currentData()
        service = self.records()
        if rid is None or service is None:
            status, colour, text = None, "#3A86E0", "no customer record in the bundle; device data only"
        else:
            restricted = service.is_restricted(rid)
            status = "restricted" if restricted else service.consent_status(rid, PURPOSE)
            colour, text = CONSENT_TEXT.get(status, CONSENT_TEXT["none"])
            if restricted:
                text += "<br>In the bundle: nothing of this customer (processing is restricted)"
            elif status != "granted":
                m = mask_customer(service.get_customer(rid).to_dict())
                shown = [m.get(k) for k in ("name", "phone", "email", "postal_address") if m.get(k)]
                site = next(iter(m.get("sites", [])), {})
                if site.get("latitude") is not None:
                    shown.append(f"{site['latitude']:.2f}, {site['longitude']:.2f}")
                text += "<br>In the bundle: " + " · ".join(escape(str(x)) for x in shown)
        self.consent_label.setText(f"<span style='color:{colour}'>●</span> {text}")
        self.consent_status = status

    # -- recording -------------------------------------------------------------
    def apply_limits(self) -> None:
        self.recorder.set_limits(max_bytes=self.size_spin.value() * 1024 * 1024,
                                 max_age_s=self.age_spin.value() * 86400.0)
        self.refresh_status()

    def refresh_status(self) -> None:
        st = self.recorder.status
        if st.get("error"):
            self.state_label.setText(f"<span style='color:#D0343A'>●</span> {st['error']}")
        elif st.get("recording"):
            connected = self.bridge.connected
            self.state_label.setText("<span style='color:#D0343A'>●</span> Recording every sample, alarm, "
                                     "firmware reading, write and link event" if connected else
                                     "<span style='color:#888'>●</span> Ready: recording starts when a device "
                                     "is connected")
        else:
            self.state_label.setText("Not recording")
        path = self.recorder.path
        used = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        limit = self.recorder.settings.max_bytes
        self.usage.setRange(0, 1000)
        self.usage.setValue(min(1000, int(1000 * used / max(1, limit))))
        self.usage.setFormat(f"{_size(used)} of {_size(limit)}")
        try:
            if self._log is None and path.exists():
                self._log = SessionLog(self.recorder.folder, readonly=True)
            o = self._log.overview() if self._log is not None else None
        except Exception:  # the file is being created; next tick
            o = None
        if o and o["first_s"]:
            fmt = "%d %b %Y %H:%M"
            self.extent_label.setText(f"{o['samples']:,} samples in {o['sessions']} connection(s), "
                                      f"{time.strftime(fmt, time.localtime(o['first_s']))} – "
                                      f"{time.strftime(fmt, time.localtime(o['last_s']))}"
                                      + (f"; {o['frames']:,} bus frames" if o["frames"] else ""))
        else:
            self.extent_label.setText("nothing recorded yet")

    # -- export ----------------------------------------------------------------
    def export_dialog(self) -> None:
        """Ask where to save, then export (File ▸ Export… calls this too)."""
        start = str(self.exports_dir / default_name(self._serial))
        path, _ = QFileDialog.getSaveFileName(self, "Export diagnostics", start, "PVDesk bundles (*.zip)")
        if path:
            self.export_to(path if path.endswith(".zip") else path + ".zip", live=self.bridge.connected)

    def export_to(self, path: str | Path, live: bool = True) -> None:
        """Export to ``path``: a fresh capture first when connected; the result arrives as ``exported``."""
        if self._busy:
            return
        self._busy = True
        self.export_button.setEnabled(False)
        self.result_label.setText("Reading the device's registers, fault log and settings…" if live else "Writing…")
        if not (live and self.bridge.connected):
            return self._capture_site(path, None)
        self.bridge.call_device(capture_live, lambda state: self._capture_site(path, state),
                                lambda _exc: self._capture_site(path, None))

    def _capture_site(self, path, live_state: dict | None) -> None:
        """Every open device of the site (I/O loop), then the bundle; a site without devices adds nothing."""
        if (site := self.site) is None or not site.snapshot():
            return self._write(path, live_state)
        self.result_label.setText(f"Reading the {len(site.snapshot())} devices of the site…")
        self.bridge.submit(lambda: capture_site(site), lambda states: self._write(path, live_state, states),
                           lambda _exc: self._write(path, live_state))

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open diagnostic bundle", str(self.exports_dir),
                                              "PVDesk bundles (*.zip);;All files (*)")
        if path:
            self.reviewRequested.emit(path)

    def _options(self) -> ExportOptions:
        value = self.range_box.currentData()
        since = None
        if value == "session":
            since = self._session_start_s or time.time() - 86400
        elif value:
            since = time.time() - float(value)
        return ExportOptions(since_s=since, include_trace=self.include_trace.isChecked(),
                             include_app_log=self.include_app_log.isChecked(),
                             include_upgrade_logs=self.include_upgrades.isChecked())

    def _write(self, path, live_state: dict | None, site_states: list[dict] | None = None) -> None:
        self.result_label.setText("Writing the bundle…")
        rid = self.customer_box.currentData()
        service = self.records()
        try:
            share = customer_share(service, rid) if rid and service is not None else None
        except Exception as exc:
            self._on_exported(None, exc)
            return
        options, settings = self._options(), dict(vars(self.recorder.settings))
        recorder = self.recorder

        def work():  # a worker thread
            recorder.flush(5.0)
            result = export_bundle(path, recording_dir=recorder.folder, options=options, live_state=live_state,
                                   customer=share, recorder_settings=settings, site=site_states)
            result.share = share
            return result

        self.worker.run(work, lambda result: self._on_exported(result, None),
                        lambda exc: self._on_exported(None, exc))

    def _on_exported(self, result, error) -> None:
        self._busy = False
        self.export_button.setEnabled(True)
        if error is not None:
            text = describe_error(error)
            self.result_label.setText(f"<span style='color:#D0343A'>Not exported:</span> {text}")
            return
        share = getattr(result, "share", None)
        if share is not None and share.record is not None:  # id, hash and recipient to the audit trail
            self.records().record_bundle_share(share.record_id, share.bundle_id, result.sha256(),
                                               "manufacturer-support", masked=share.masked)
        self.last_result = result
        m = result.manifest
        pd = "unmasked, with consent" if not m["personal_data"]["masked"] else "masked"
        self.result_label.setText(f"Saved <b>{result.path.name}</b> ({_size(result.size_bytes)}, "
                                  f"{m['includes']['telemetry_rows']:,} samples, personal data {pd}) in "
                                  f"{result.seconds:.1f} s." + "".join(f"<br>Note: {w}" for w in result.warnings))
        self.review_button.setEnabled(True)
        self.folder_button.setEnabled(True)
        self.exported.emit(str(result.path))

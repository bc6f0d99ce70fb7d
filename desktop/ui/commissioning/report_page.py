"""The wizard's last page: the commissioning report, kept in the customer record and exportable.

GUI thread (the PDF is laid out by Qt here; it takes a fraction of a second).
With a RecordsService the installer picks the customer and site, and the
report is stored in that record (encrypted there) and the device serial
added to the site; without one, the customer's name and site are typed in.
Only the customer's name and the site's name and size go into the report. The installed PV
capacity (kWp) is asked here, checked (a number within 0 … 100 000 kWp), kept in the wizard's state and
in the site's record, and printed in the report.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton

from protocols.errors import PVDeskError

from desktop.commission import report
from desktop.ui.commissioning.report_pdf import render_pdf
from desktop.ui.commissioning.widgets import COLOURS, show_result
from desktop.ui.commissioning.wizard import StepPage

CAPACITY_TIP = ("The installed PV capacity in kWp: the sum of the module ratings. "
                "It goes into the report and the site's record.")


class ReportPage(StepPage):
    step_id = "report"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSubTitle("A PDF for the customer: devices, every setting with its read-back, the CT check, "
                         "the live values, and lines to sign.")
        form = QFormLayout()
        self.customer = QComboBox(self)
        self.customer.setObjectName("reportCustomer")
        self.site = QComboBox(self)
        self.site.setObjectName("reportSite")
        self.customer_name = QLineEdit(self)
        self.customer_name.setObjectName("reportCustomerName")
        self.site_name = QLineEdit(self)
        self.site_name.setObjectName("reportSiteName")
        self.capacity = QLineEdit(self)
        self.capacity.setObjectName("reportCapacity")
        self.capacity.setPlaceholderText("e.g. 9.9 (the modules' total DC rating)")
        self.capacity.setToolTip(CAPACITY_TIP)
        self.installer = QLineEdit(self)
        self.installer.setObjectName("reportInstaller")
        self.company = QLineEdit(self)
        self.company.setObjectName("reportCompany")
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("reportNotes")
        self.notes.setMaximumHeight(70)
        form.addRow("Customer record:", self.customer)
        form.addRow("Site:", self.site)
        form.addRow("Customer name:", self.customer_name)
        form.addRow("Site name:", self.site_name)
        form.addRow("Installed PV capacity (kWp):", self.capacity)
        form.addRow("Installer:", self.installer)
        form.addRow("Company:", self.company)
        form.addRow("Notes (optional):", self.notes)
        self.layout_.addLayout(form)
        row = QHBoxLayout()
        self.make_button = QPushButton("Create the report")
        self.make_button.setObjectName("makeReport")
        self.export_button = QPushButton("Export PDF…")
        self.export_button.setObjectName("exportReport")
        self.export_button.setEnabled(False)
        row.addWidget(self.make_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.finish_layout()
        self.make_button.clicked.connect(self.make_report)
        self.export_button.clicked.connect(self._choose_export)
        self.customer.currentIndexChanged.connect(self._fill_sites)
        self.site.currentIndexChanged.connect(self._site_chosen)
        self.pdf: bytes | None = None
        self.data: report.ReportData | None = None
        self.doc_id: str | None = None

    def initializePage(self) -> None:
        self.installer.setText(self.installer.text() or self.wiz.ctx.installer)
        kept = self.wiz.runner.state.pv_capacity_kwp if self.wiz.runner is not None else None
        if not self.capacity.text() and kept is not None:
            self.capacity.setText(f"{kept:g}")
        self.company.setText(self.company.text() or self.wiz.ctx.company)
        records = self.wiz.records
        self.customer.blockSignals(True)
        self.customer.clear()
        self.customer.addItem("(none: type the names below)", None)
        if records is not None:
            for c in records.list_customers():
                if c.restricted:  # restricted processing: never enters a report
                    continue
                self.customer.addItem(f"{c.name} — {c.site}" if c.site else c.name, c.id)
        self.customer.blockSignals(False)
        self.customer.setEnabled(records is not None)
        self._fill_sites()
        show_result(self.status, "Fill in the names, then create the report.", "ok")

    def _fill_sites(self) -> None:
        self.site.blockSignals(True)
        self.site.clear()
        cid = self.customer.currentData()
        if cid and self.wiz.records is not None:
            c = self.wiz.records.get_customer(cid)
            self.customer_name.setText(c.name)
            for s in c.sites:
                self.site.addItem(s.name, (s.site_id, s.name, s.installed_capacity_kwp))
        self.site.blockSignals(False)
        self.site.setEnabled(self.site.count() > 0)
        self._site_chosen()

    def _site_chosen(self) -> None:
        data = self.site.currentData()
        if data:
            self.site_name.setText(data[1])
            if data[2] is not None and not self.capacity.text().strip():
                self.capacity.setText(f"{data[2]:g}")

    def make_report(self) -> None:
        state = self.wiz.runner.state
        site = self.site.currentData()
        try:
            capacity_kwp = report.parse_capacity_kwp(self.capacity.text())
        except report.BadCapacity as exc:   # nothing made, nothing kept: the field says what is wrong
            self.capacity.setStyleSheet(f"border: 2px solid {COLOURS['bad']};")
            self.capacity.setFocus()
            self.capacity.setToolTip(exc.one_line())
            show_result(self.status, f"No report made: {exc}.", "bad")
            return
        self.capacity.setStyleSheet("")
        self.capacity.setToolTip(CAPACITY_TIP)
        state.pv_capacity_kwp = capacity_kwp
        self.wiz.runner.save()
        self.data = report.from_wizard(state, customer_name=self.customer_name.text().strip(),
                                       site_name=self.site_name.text().strip(),
                                       site_capacity_kwp=capacity_kwp,
                                       installer=self.installer.text().strip(), company=self.company.text().strip(),
                                       notes=self.notes.toPlainText().strip())
        try:
            self.pdf = render_pdf(self.data)
        except Exception as exc:   # a layout failure must not lose the wizard's state
            show_result(self.status, f"The report could not be made: {exc}", "bad")
            return
        cid = self.customer.currentData()
        kept = ""
        if cid and site and self.wiz.records is not None:
            try:
                self.doc_id = report.keep_in_record(self.wiz.records, cid, site[0], self.pdf, self.data)
                kept = " and kept in the customer's record"
            except PVDeskError as exc:
                show_result(self.status, f"Report made, but not kept in the record: {exc.one_line()}", "warn")
                self.export_button.setEnabled(True)
                return
        state.mark("report", "done", {"report_id": self.data.report_id, "doc_id": self.doc_id})
        self.wiz.runner.save()
        self.export_button.setEnabled(True)
        show_result(self.status, f"Report {self.data.report_id} made{kept}. Export it as PDF for the customer.", "ok")
        self.completeChanged.emit()

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the report", f"{self.data.report_id}.pdf", "PDF (*.pdf)")
        if path:
            self.export_pdf(path)

    def export_pdf(self, path: str) -> None:
        from desktop.core.safe_files import UnsafeTarget, write_bytes
        try:
            write_bytes(path, self.pdf)  # a regular file only, owner-only: the report holds personal data
        except UnsafeTarget as exc:
            show_result(self.status, exc.one_line(), "bad")
            return
        except OSError as exc:
            show_result(self.status, f"Could not write {path}: {exc}", "bad")
            return
        show_result(self.status, f"Exported to {path}.", "ok")

    def isComplete(self) -> bool:
        return self.pdf is not None

    def skip(self) -> None:
        self.wiz.runner.skip("report")
        self.wiz.accept()

    def validatePage(self) -> bool:   # Finish: the report is made (isComplete) and kept
        return True

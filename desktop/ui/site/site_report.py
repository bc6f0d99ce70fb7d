"""One commissioning report for the site: every selected device (or all) with model, serial, firmware,
settings and checks, through the existing report (desktop/commission/report.py, report_html, report_pdf).

Runs on the GUI thread; each device is read on the device I/O loop through
the runner (desktop/commission/site_devices.describe), one after another, so
a shared bus is asked one request at a time. The PDF is laid out here (Qt's
PDF writer), saved where ``ask_path`` says (a hook tests answer), and kept in
the customer's record when the Site page's record row names a customer and
site (report.keep_in_record: encrypted there, serials added to the site).
Only the customer's name and the site's name and size go into the report.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.commission import report
from desktop.commission.site_devices import describe, site_checks
from desktop.core import safe_files
from desktop.core.errors import describe_error
from desktop.ui.commissioning.report_pdf import render_pdf


class SiteReport(QObject):
    """``make(keys, record)``; ``finished(str)`` says where the report went; ``data`` and ``pdf`` stay."""

    finished = Signal(str)

    def __init__(self, runner, site, context, parent: QWidget) -> None:
        super().__init__(parent)
        self.runner, self.site, self.ctx = runner, site, context
        self.ask_path = lambda suggested: QFileDialog.getSaveFileName(parent, "Save the site's commissioning report",
                                                                      suggested, "PDF (*.pdf)")[0]
        self.data: report.ReportData | None = None
        self.pdf: bytes | None = None
        self.path: Path | None = None

    def make(self, keys: list[str], record=None) -> None:
        """``record``: (records, customer id, site id) to name the customer and keep the report, or None."""
        rows = [d for d in self.site.snapshot() if d["key"] in keys] if keys else list(self.site.snapshot())
        if not rows:
            self.finished.emit("No report: the site has no device yet.")
            return
        site, installer = self.site, self.ctx.installer

        async def read_all():
            out = []
            for d in rows:
                member = site.members.get(d["key"])
                if member is None or member.device is None:
                    out.append({"key": d["key"], "link": d["link"], "unit": d["unit"], "model": d.get("title") or "?",
                                "serial": d.get("serial", ""), "role": d.get("role", ""), "state": d["state"],
                                "alarms": d.get("alarms", 0), "firmware": [], "device_settings": [],
                                "identity": [], "errors": [d.get("detail") or "not open"]})
                    continue
                out.append(await describe(member.device, key=d["key"], link=d["link"], state=d["state"],
                                          alarms=d.get("alarms", 0), role=d.get("role", ""), installer=installer))
            return site_checks(out)
        self.runner.submit(read_all, lambda devices: self._lay_out(devices, record),
                           lambda exc: self.finished.emit(f"No report: {describe_error(exc)}"))

    def _lay_out(self, devices: list[dict], record) -> None:
        customer_name = site_name = ""
        capacity = None
        if record is not None:
            records, rid, sid = record
            customer = records.get_customer(rid)
            customer_name, s = customer.name, customer.site(sid)
            site_name, capacity = s.name, s.installed_capacity_kwp
        self.data = report.from_site(devices, customer_name=customer_name, site_name=site_name,
                                     site_capacity_kwp=capacity, installer=self.ctx.installer,
                                     company=getattr(self.ctx, "company", ""))
        try:
            self.pdf = render_pdf(self.data)
        except Exception as exc:  # a layout failure is reported, the site goes on
            self.finished.emit(f"The report could not be laid out: {exc}")
            return
        kept = ""
        if record is not None:
            report.keep_in_record(record[0], record[1], record[2], self.pdf, self.data)
            kept = " and kept in the customer's record"
        path = self.ask_path(f"{self.data.report_id}.pdf")
        if path:
            try:
                safe_files.write_bytes(path, self.pdf)   # atomic; never onto a device or through a symlink
            except OSError as exc:
                self.finished.emit(f"Report made{kept}, but not saved to {path}: {exc}")
                return
            self.path = Path(path)
        failed = sum(1 for d in devices for c in d.get("checks", []) if not c["ok"])
        self.finished.emit(f"Site report {self.data.report_id}: {len(devices)} device(s), "
                           f"{failed} failed check(s){kept}" + (f", saved to {path}." if path else "."))


__all__ = ["SiteReport"]

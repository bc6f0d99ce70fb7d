"""The commissioning report's content: ``ReportData`` from the wizard's state (one device) or from the
devices of a site (``from_site``: every device with its model, serial, firmware, settings and checks),
kept in the customer record.

Plain Python, any thread, no Qt. The A4 PDF is laid out by Qt's own PDF
writer in the Qt shell (desktop/ui/commissioning/report_pdf.py:
``render_pdf(data)``) from the HTML of report_html.

Minimum data: the customer's name and the site's name and size are in the
report (it is the customer's own document); no address, phone, e-mail or
location. ``keep_in_record`` stores the PDF in the customer's record through
RecordsService (encrypted there, kind "commissioning_report").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from protocols.errors import PVDeskError

from .wizard import STEPS, WizardState

MAX_CAPACITY_KWP = 100_000.0   # the records' own limit (desktop/records/model.py)


class BadCapacity(PVDeskError):
    """The installed PV capacity given is not a plausible number of kWp."""

    hint = "give the modules' total DC capacity in kWp, e.g. 9.9 (the sum of the module ratings)"


def parse_capacity_kwp(text: str) -> float:
    """The installed PV capacity typed in the wizard, kWp: '9.9' or '9,9'; refused with the reason otherwise."""
    raw = (text or "").strip().lower().removesuffix("kwp").strip()
    if not raw:
        raise BadCapacity("the installed PV capacity is missing")
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise BadCapacity(f"the installed PV capacity {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or not 0 < value <= MAX_CAPACITY_KWP:
        raise BadCapacity(f"the installed PV capacity {value:g} kWp is outside 0 … {MAX_CAPACITY_KWP:g} kWp")
    return round(value, 3)


@dataclass
class ReportData:
    """Everything the report shows, already as text where it is shown as text."""

    customer_name: str = ""
    site_name: str = ""
    site_capacity_kwp: float | None = None
    installer: str = ""
    company: str = ""
    created_s: float = field(default_factory=time.time)
    devices: list[dict] = field(default_factory=list)    # {model, serial, profile, identity[], firmware[]}
    settings: list[dict] = field(default_factory=list)   # WriteResult dicts (label, old/new/readback_text, result)
    ct: dict | None = None                                # CtResult.as_dict()
    clock: dict | None = None                             # ClockReading.as_dict(), at the final check
    clock_set: dict | None = None                         # the clock step: zone, drift "before" and "after"
    live: list[dict] = field(default_factory=list)       # {label, text}
    alarms: list[dict] = field(default_factory=list)
    final_settings: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # titles of skipped steps
    notes: str = ""
    site: bool = False    # the report of a whole site: devices carry link, unit, role, settings and checks

    @property
    def serial(self) -> str:
        return self.devices[0]["serial"] if self.devices else ""

    @property
    def report_id(self) -> str:
        what = f"SITE-{self.serial or 'devices'}" if self.site else (self.serial or "device")
        return f"CR-{what}-{time.strftime('%Y%m%d-%H%M', time.localtime(self.created_s))}"

    @property
    def date_text(self) -> str:
        return time.strftime("%d %B %Y, %H:%M", time.localtime(self.created_s))


def from_wizard(state: WizardState, *, customer_name: str = "", site_name: str = "",
                site_capacity_kwp: float | None = None, installer: str = "", company: str = "",
                notes: str = "") -> ReportData:
    """The report of a wizard run: device, every setting written with its read-back, CT, live check."""
    ident = state.result("identify")
    devices = []
    if ident:
        devices.append({"model": ident.get("model", ""), "serial": ident.get("serial", state.serial),
                        "profile": ident.get("profile", state.profile),
                        "identity": [{"label": v["label"], "text": v["text"]}
                                     for v in ident.get("identity", {}).values()],
                        "firmware": ident.get("firmware", [])})
    else:
        devices.append({"model": state.profile, "serial": state.serial, "profile": state.profile,
                        "identity": [], "firmware": []})
    final = state.result("final")
    clock_step = state.result("clock")
    return ReportData(customer_name=customer_name, site_name=site_name,
                      site_capacity_kwp=site_capacity_kwp if site_capacity_kwp is not None else state.pv_capacity_kwp,
                      installer=installer or state.installer, company=company, devices=devices,
                      settings=state.applied_settings(), ct=state.ct_result or None,
                      clock=final.get("clock") or clock_step.get("after") or clock_step or None,
                      clock_set=clock_step if clock_step.get("before") else None,
                      live=final.get("live", []), alarms=final.get("alarms", []),
                      final_settings=final.get("settings", []),
                      skipped=[s.title for s in STEPS if state.status(s.id) == "skipped"], notes=notes)


def from_site(devices: list[dict], *, customer_name: str = "", site_name: str = "",
              site_capacity_kwp: float | None = None, installer: str = "", company: str = "",
              notes: str = "") -> ReportData:
    """The report of a site: ``devices`` as desktop.commission.site_devices.describe made them, with
    their checks (site_devices.site_checks), in the order given."""
    if not devices:
        raise ValueError("a site report needs at least one device: add the devices on the Site page")
    return ReportData(customer_name=customer_name, site_name=site_name, site_capacity_kwp=site_capacity_kwp,
                      installer=installer, company=company, devices=list(devices), notes=notes, site=True)


def keep_in_record(records, customer_id: str, site_id: str, pdf: bytes, data: ReportData) -> str:
    """Store the PDF in the customer's record (encrypted by RecordsService); add the serial to the site and
    keep the commissioned PV capacity as the site's installed capacity."""
    doc_id = records.attach_document(customer_id, site_id, "commissioning_report", pdf,
                                     filename=f"{data.report_id}.pdf")
    serials = [dv["serial"] for dv in data.devices if dv.get("serial")]
    site = records.get_customer(customer_id).site(site_id)
    changes: dict = {}
    missing = [s for s in serials if s not in site.device_serials]
    if missing:
        changes["device_serials"] = site.device_serials + missing
    if data.site_capacity_kwp is not None and site.installed_capacity_kwp != data.site_capacity_kwp:
        changes["installed_capacity_kwp"] = data.site_capacity_kwp
    if changes:
        records.update_site(customer_id, site_id, changes)
    return doc_id

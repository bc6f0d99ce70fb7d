"""The wizard's state machine (skip, resume, damaged state) and the commissioning report: a PDF whose
text (read back with pypdf) holds the serials, the settings and the CT result, kept in the customer record."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from protocols.profiles import loader

from desktop.commission import report
from desktop.commission.params import ParamSession
from desktop.commission.storage import WriteHistory
from desktop.commission.wizard import STEP_IDS, WizardRunner, WizardState, WizardStore, grid_code_countries
from desktop.ui.commissioning.report_pdf import render_pdf


def test_state_marks_skips_resumes_and_survives_a_damaged_file(tmp_path):
    store = WizardStore(tmp_path)
    st = WizardState("PVD8K001A0042", "pvdesk-hybrid", "inst-7")
    assert st.current == "identify" and st.status("grid") == "pending"
    st.mark("identify", "done", {"serial": "PVD8K001A0042"})
    st.mark("grid", "skipped")
    assert st.current == "clock" and st.status("grid") == "skipped" and not st.finished
    st.applied.append({"name": "ct_ratio", "new": 120, "ok": True})
    st.applied.append({"name": "ct_ratio", "new": 150, "ok": True})
    store.save(st)
    back = store.load("PVD8K001A0042")
    assert back.current == "clock" and back.result("identify") == {"serial": "PVD8K001A0042"}
    assert [a["new"] for a in back.applied_settings()] == [150]
    with pytest.raises(ValueError):
        back.mark("nonsense", "done")
    store.path("PVD8K001A0042").write_text("{half a file")
    assert store.load("PVD8K001A0042") is None
    assert (tmp_path / "PVD8K001A0042.damaged.json").exists()   # kept aside for support, not deleted
    assert store.load("../../etc/passwd") is None and store.path("../../etc/passwd").parent == tmp_path
    countries = grid_code_countries(loader.load("pvdesk-hybrid").point("grid_code"))
    assert countries["DE"] == [(1, "DE VDE-AR-N 4105")] and (9, "EN 50549-1 generic") in countries["Other"]
    assert all(code != 0 for codes in countries.values() for code, _ in codes)


def _run_wizard(sim, run, open_device, tmp_path):
    async def go():
        dev, s = await open_device(sim)
        ps = ParamSession(dev, "inst-042", WriteHistory(tmp_path / "hist"))
        w = WizardRunner(ps, WizardStore(tmp_path / "wiz"))
        await w.open()
        await w.identify()
        await ps.login("1234")
        await w.apply("grid", {"grid_code": 3})
        w.skip("clock")
        await w.apply("export", {"export_limit_enabled": 1, "export_limit_w": 3800})
        await w.apply("battery", {"battery_min_soc_pct": 15, "battery_max_soc_pct": 95})
        await w.apply("meter", {"meter_type": 2, "ct_ratio": 120})
        await w.ct_check(duration_s=0.8, period_s=0.15)
        await w.final_check()
        await s.close()
        return w.state
    return run(go())


def test_report_pdf_holds_serials_settings_and_ct_result(exporting, run, open_device, tmp_path):
    state = _run_wizard(exporting, run, open_device, tmp_path)
    assert state.current == "report" and state.status("clock") == "skipped"
    data = report.from_wizard(state, customer_name="Margarethe Quellenbach", site_name="Wohnhaus",
                              site_capacity_kwp=9.86, company="Sonnenschein Solartechnik")
    out = tmp_path / "report.pdf"
    pdf = render_pdf(data, out)
    assert out.read_bytes() == pdf and pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    for needle in ("Commissioning report", "PVD8K001A0042", "B10-01-7781", "M1-01-0113", "1.04.02",
                   "Margarethe Quellenbach", "Wohnhaus", "9.86 kWp", "inst-042", "Grid code", "GB G98/G99 (3)",
                   "3800 W", "CT ratio", "120", "PVDesk M1 meter (RS-485) (2)", "CT direction check", "Passed",
                   "Live values at handover", "Steps skipped: Date, time and time zone", "signature"):
        assert needle in flat, needle
    assert flat.count("Verified") >= 7 and "mismatch" not in flat.lower()
    assert "Page 1 of" in flat
    # no personal data beyond the customer's name and the site's
    for absent in ("Lindenweg", "@", "+49"):
        assert absent not in flat


def test_report_shows_a_failed_ct_check_and_a_mismatch(exporting, run, open_device, tmp_path):
    sim = exporting
    sim.set_ct_reversed(True)
    sim.call(sim.device(1).readback_skew.__setitem__, "ct_ratio", 5)
    state = _run_wizard(sim, run, open_device, tmp_path)
    assert state.status("ct") == "pending" and state.ct_result["status"] == "reversed"
    assert state.status("meter") == "pending"      # a step with a failed write is not done
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        render_pdf(report.from_wizard(state, customer_name="A. Kunde")))).pages).split())
    assert "Failed: CT reversed" in text and "Turn the clamp round" in text
    assert "Read-back mismatch" in text and "wrote 120, device holds 125" in text


def test_report_is_kept_in_the_customer_record(exporting, run, open_device, tmp_path):
    from desktop.records.service import RecordsService
    state = _run_wizard(exporting, run, open_device, tmp_path)
    records = RecordsService(tmp_path / "records", "inst-042", passphrase="correct horse battery", scrypt_n=2 ** 12)
    try:
        cid = records.add_customer({"name": "Margarethe Quellenbach", "sites": [{"name": "Wohnhaus"}]})
        site = records.get_customer(cid).sites[0]
        data = report.from_wizard(state, customer_name="Margarethe Quellenbach", site_name=site.name)
        pdf = render_pdf(data)
        doc_id = report.keep_in_record(records, cid, site.site_id, pdf, data)
        assert records.get_document(cid, doc_id) == pdf
        site = records.get_customer(cid).sites[0]
        assert site.device_serials == ["PVD8K001A0042"]
        meta = site.documents[0]
        assert meta["kind"] == "commissioning_report" and meta["filename"] == f"{data.report_id}.pdf"
    finally:
        records.close()
    assert set(STEP_IDS) >= {"identify", "grid", "clock", "export", "battery", "meter", "ct", "final", "report"}


def test_capacity_is_checked_before_the_report():
    assert report.parse_capacity_kwp("9.86") == 9.86
    assert report.parse_capacity_kwp(" 9,9 kWp ") == 9.9
    for bad, why in (("", "missing"), ("viel", "is not a number"), ("0", "outside 0"), ("nan", "outside 0"),
                     ("100001", "outside 0")):
        with pytest.raises(report.BadCapacity, match=why):
            report.parse_capacity_kwp(bad)


def test_clock_drift_before_and_after_and_the_capacity_reach_report_and_record(exporting, run, open_device,
                                                                               tmp_path):
    from desktop.records.service import RecordsService
    sim = exporting
    dev1 = sim.device(1)

    def three_hours_ahead():
        dev1.clock_offset_s = time.time() - dev1.clock() + 3 * 3600 + 20
        dev1.update_now()
    sim.call(three_hours_ahead)

    async def go():
        dev, s = await open_device(sim)
        w = WizardRunner(ParamSession(dev, "inst-042", WriteHistory(tmp_path / "hist")), WizardStore(tmp_path / "w"))
        await w.open()
        await w.identify()
        results, reading = await w.clock("Australia/Perth")   # no daylight saving: always UTC+08:00
        await s.close()
        return w.state, results, reading
    state, results, reading = run(go())
    assert all(r.ok for r in results) and dev1.value_of("timezone_offset_min") == 480
    step_result = state.result("clock")
    assert step_result["before"]["drift_s"] == pytest.approx(3 * 3600 + 20, abs=3)
    assert abs(step_result["after"]["drift_s"]) <= 2 and step_result["zone"] == "Australia/Perth"
    state.pv_capacity_kwp = 12.4
    data = report.from_wizard(state, customer_name="Margarethe Quellenbach", site_name="Wohnhaus")
    assert data.site_capacity_kwp == 12.4
    flat = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(data))).pages).split())
    for needle in ("Installed PV capacity 12.4 kWp", "Time zone written Australia/Perth (UTC+08:00)",
                   "Before setting 3 h ahead of the laptop", "After setting in step with the laptop"):
        assert needle in flat, needle
    records = RecordsService(tmp_path / "records", "inst-042", passphrase="correct horse battery", scrypt_n=2 ** 12)
    try:
        cid = records.add_customer({"name": "Margarethe Quellenbach",
                                    "sites": [{"name": "Wohnhaus", "installed_capacity_kwp": 9.0}]})
        site = records.get_customer(cid).sites[0]
        report.keep_in_record(records, cid, site.site_id, render_pdf(data), data)
        assert records.get_customer(cid).sites[0].installed_capacity_kwp == 12.4   # the commissioned figure
    finally:
        records.close()

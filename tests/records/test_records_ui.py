"""CustomersPage offscreen with pytest-qt: list, search, form, consent, sync status, rights."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

from PySide6.QtWidgets import QLabel

from desktop.ui.records.consent_dialog import ConsentDialog
from desktop.ui.records.customers_page import CustomersPage

PEOPLE = [
    ("Anneliese Brückner", "+49 351 4470213", "a.brueckner@posteo.de", "Elbgasse 4, 01067 Dresden",
     "Carport", 51.0504, 13.7373, 7.4),
    ("Jonas Oberhuber", "+43 662 880144", "", "Kapuzinerberg 9, 5020 Salzburg", "Hof Oberhuber", 47.8, 13.05, 14.2),
    ("Familie Kowalczyk", "+49 231 9188820", "kowalczyk@web.de", "", "Einfamilienhaus", None, None, 9.9),
    ("Stadtwerke Lindau Betriebshof", "", "technik@sw-lindau.example", "Bregenzer Str. 60, 88131 Lindau",
     "Hallendach Nord", 47.55, 9.69, 99.6),
    ("Pieter van Dijk", "+31 20 5550198", "pieter@vandijk.example", "Prinsengracht 2, 1015 Amsterdam",
     "Woonboot", 52.37, 4.89, 4.2),
    ("Heike Sommerfeld", "+49 40 3324410", "", "", "Reihenhaus", None, None, 6.0),
]


def _fill(svc):
    ids = []
    for i, (name, phone, email, addr, site, lat, lon, kwp) in enumerate(PEOPLE):
        ids.append(svc.add_customer({"name": name, "phone": phone, "email": email, "postal_address": addr,
                                     "sites": [{"name": site, "latitude": lat, "longitude": lon,
                                                "installed_capacity_kwp": kwp,
                                                "device_serials": [f"HYB10K-24{i:02d}-00{i}"]}]}))
    return ids


@pytest.fixture
def page(qtbot, make_service):
    svc = make_service()
    ids = _fill(svc)
    w = CustomersPage(svc)
    qtbot.addWidget(w)
    w.resize(1280, 780)
    w.show()
    return w, svc, ids


def _accept_consent(method_index=0, installer=None):
    def run(dlg: ConsentDialog) -> int:
        assert not dlg.grant_button.isEnabled()
        if installer is not None:   # another installer of the company obtained it on site
            dlg.installer.setText(installer)
        dlg.method.setCurrentIndex(method_index)
        dlg.agreed.setChecked(True)
        dlg.grant_button.click()
        return dlg.result()
    return run


def test_list_search_and_optional_markers(page, qtbot):
    w, svc, ids = page
    assert w.model.rowCount() == len(PEOPLE)
    assert w.count_label.text() == "6 customers"
    w.search.setText("dresden")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)
    assert w.model.rows[0].name == "Anneliese Brückner"
    w.search.setText("")
    qtbot.waitUntil(lambda: w.model.rowCount() == 6, timeout=2000)
    labels = [lab.text() for lab in w.form.findChildren(QLabel)]
    for field in ("Phone", "E-mail", "Postal address", "Notes", "Installed capacity (kWp)"):
        assert any(t.startswith(field) and "(optional)" in t for t in labels), field
    assert any(t.startswith("Name") and "(optional)" not in t for t in labels)


def test_add_and_correct_a_customer(page, qtbot):
    w, svc, _ = page
    w.new_customer()
    w.form.edits["customer.name"].setText("Neue Kundin")
    w.form.edits["customer.email"].setText("kein-at-zeichen")
    w.save()
    assert "e-mail" in w.form.error.text() and w.form.error.isVisible() is False or "e-mail" in w.form.error.text()
    w.form.edits["customer.email"].setText("neu@example.de")
    w.form.edits["site.name"].setText("Garage")
    w.form.edits["site.location"].setText("48.1, 11.5")
    w.save()
    rid = w.current_id
    assert rid and svc.get_customer(rid).sites[0].latitude == pytest.approx(48.1)
    w.form.edits["customer.phone"].setText("+49 89 123456")
    w.save()
    assert svc.get_customer(rid).phone == "+49 89 123456"
    assert w.count_label.text() == "7 customers"


def test_consent_then_sync_status_column(page, qtbot, moto_endpoint, bucket):
    w, svc, ids = page
    svc.configure_sync(moto_endpoint, bucket)
    svc.create_sync_key()
    w.select(ids[0])
    w.run_dialog = _accept_consent(1, installer="Jana Vogt")
    w.edit_consent("cloud_sync")
    assert svc.consent_status(ids[0], "cloud_sync") == "granted"
    assert svc.get_customer(ids[0]).consents[-1]["method"] == "paper"
    assert svc.get_customer(ids[0]).consents[-1]["installer"] == "Jana Vogt"   # as typed in the dialog
    row = [r.id for r in w.model.rows].index(ids[0])
    assert w.model.index(row, 4).data() == "Waiting to sync"
    with qtbot.waitSignal(w.syncFinished, timeout=10000) as sig:
        w.sync_button.click()
    assert sig.args[0].endswith("1 uploaded, 0 downloaded, 0 removed, 0 conflict(s)")
    row = [r.id for r in w.model.rows].index(ids[0])
    assert w.model.index(row, 4).data() == "Synced"
    other = [r.id for r in w.model.rows].index(ids[1])
    assert w.model.index(other, 4).data() == "On this laptop only"
    # withdrawal in the dialog: the cloud copy goes at once, on a worker thread
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="pvdesk/v1/records/")["KeyCount"] == 1

    def withdraw(dlg):
        dlg.withdraw_button.click()
        return dlg.result()
    w.run_dialog = withdraw
    with qtbot.waitSignal(w.syncFinished, timeout=10000):
        w.edit_consent("cloud_sync")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="pvdesk/v1/records/")["KeyCount"] == 0
    assert svc.consent_status(ids[0], "cloud_sync") == "withdrawn"
    assert "Withdrawn" in w.consent_labels["cloud_sync"].text()


def test_consent_dialog_states_what_where_and_policy(qtbot):
    dlg = ConsentDialog("cloud_sync", "none", None, "2026-01", "inst-1")
    qtbot.addWidget(dlg)
    text = " ".join(lab.text() for lab in dlg.findChildren(QLabel))
    for needle in ("What is shared", "With whom", "Where", "Version 2026-01", "withdraw"):
        assert needle in text
    assert dlg.withdraw_button is None and not dlg.grant_button.isEnabled()


def test_rights_actions(page, qtbot, tmp_path):
    w, svc, ids = page
    w.select(ids[1])
    target = tmp_path / "out.json"
    w.ask_save_path = lambda suggested: str(target)
    w.export_current()
    assert json.loads(target.read_text())["customer"]["name"] == "Jonas Oberhuber"
    w.ask_confirm = lambda title, text: True
    w.toggle_restriction()
    assert svc.records[ids[1]].restricted and w.restrict_button.text() == "Lift restriction"
    assert w.form.edits["customer.name"].isReadOnly()
    w.toggle_restriction()
    assert not svc.records[ids[1]].restricted
    asked = []
    w.ask_typed_confirm = lambda title, text, expected: asked.append(expected) or False
    w.delete_current()
    assert ids[1] in svc.records and asked == ["Jonas Oberhuber"]
    w.ask_typed_confirm = lambda title, text, expected: "cannot be restored" in text
    w.delete_current()
    assert ids[1] not in svc.records and w.model.rowCount() == 5


def test_screenshot(page, qtbot, tmp_path):
    w, svc, ids = page
    svc.grant_consent(ids[0], "cloud_sync", "signed_on_screen")
    svc.grant_consent(ids[0], "support_sharing", "paper")
    site = svc.get_customer(ids[0]).sites[0].site_id
    svc.attach_document(ids[0], site, "commissioning_report", b"%PDF" + b"0" * 40000, "report.pdf")
    svc.restrict(ids[5])
    w.refresh()
    w.select(ids[0])
    qtbot.wait(50)
    out = Path(os.environ.get("PVDESK_SCREENSHOT_DIR", tmp_path)) / "customers.png"
    assert w.grab().save(str(out))
    assert out.stat().st_size > 10000


def test_retention_review_purges_after_confirmation(qtbot, make_service):
    now = [1_700_000_000.0]
    svc = make_service(clock=lambda: now[0])
    svc.set_retention_days(365)
    old = svc.add_customer({"name": "Alte Kundin"})
    now[0] += 200 * 86400
    young = svc.add_customer({"name": "Neue Kundin"})
    now[0] += 200 * 86400
    w = CustomersPage(svc)
    qtbot.addWidget(w)
    w.show()
    assert w.review_button.isVisible() and w.review_button.text() == "Review expired (1)…"
    asked = []
    w.ask_confirm = lambda title, text: asked.append(text) or True
    w.review_button.click()
    assert "Alte Kundin" in asked[0] and "Neue Kundin" not in asked[0] and "365 days" in asked[0]
    assert list(svc.records) == [young] and old not in svc.records and not w.review_button.isVisible()


def test_conflict_banner_shows_both_versions_and_resolves(qtbot, make_service, moto_endpoint, bucket):
    a = make_service("laptop-a", "inst-a")
    code_a = a.create_sync_key()
    a.configure_sync(moto_endpoint, bucket)
    b = make_service("laptop-b", "inst-b")
    b.configure_sync(moto_endpoint, bucket)
    b.import_sync_key(code_a)
    rid = a.add_customer({"name": "Konflikt Kunde", "notes": "original"})
    a.grant_consent(rid, "cloud_sync", "paper")
    a.sync()
    b.sync()
    a.update_customer(rid, {"notes": "edited on A"})
    a.sync()
    b.update_customer(rid, {"notes": "edited on B"})
    assert b.sync().conflicts == [rid]
    w = CustomersPage(b)
    qtbot.addWidget(w)
    w.show()
    w.select(rid)
    assert w.banner.isVisible()
    text = w.banner_text.text()
    assert "Notes" in text and "edited on B" in text and "edited on A" in text
    if os.environ.get("PVDESK_SCREENSHOT_DIR"):
        w.resize(1280, 780)
        w.grab().save(str(Path(os.environ["PVDESK_SCREENSHOT_DIR"]) / "customers-conflict.png"))
    w.keep_remote.click()
    assert not w.banner.isVisible()
    assert b.get_customer(rid).notes == "edited on A" and b.sync_status(rid) == "synced"


def test_history_lists_what_was_done_to_the_record(page, qtbot):
    w, svc, ids = page
    w.select(ids[2])
    svc.update_customer(ids[2], {"notes": "Zaun neu"})
    seen = {}

    def capture(dlg):
        from PySide6.QtWidgets import QTableWidget
        t = dlg.findChild(QTableWidget, "history_table")
        seen["rows"] = [[t.item(r, c).text() for c in range(4)] for r in range(t.rowCount())]
        return 0
    w.run_dialog = capture
    w.history_button.click()
    actions = [r[1] for r in seen["rows"]]
    assert actions[0] == "update" and "create" in actions and "access" in actions
    assert seen["rows"][0][2] == "inst-1" and seen["rows"][0][3] == "fields: notes"
    assert not any("Zaun" in cell for row in seen["rows"] for cell in row)

"""The Customers page shows what the store found wrong, stops at an audit break until it is
acknowledged, saves the erasure receipt (JSON and PDF, owner-only) and keeps the requests register."""
from __future__ import annotations

import json
import sqlite3

from records_helpers import sample

from desktop.records.service import RecordsService
from desktop.ui.records.customers_page import CustomersPage
from desktop.ui.records.requests_dialog import RequestsDialog


def test_a_damaged_record_and_an_audit_break_are_shown_and_writes_wait(qtbot, make_service, tmp_path):
    svc = make_service("ui")
    bad, good = svc.add_customer(sample()), svc.add_customer(sample(3))
    svc.close()
    db = sqlite3.connect(tmp_path / "ui" / "records.db")
    blob, = db.execute("SELECT blob FROM records WHERE id=?", (bad,)).fetchone()
    db.execute("UPDATE records SET blob=? WHERE id=?", (blob[:-2] + b"xx", bad))
    last, = db.execute("SELECT MAX(seq) FROM audit").fetchone()
    db.execute("DELETE FROM audit WHERE seq=?", (last,))
    db.commit()
    db.close()
    svc = RecordsService(tmp_path / "ui", "inst-1")
    w = CustomersPage(svc)
    qtbot.addWidget(w)
    w.show()
    text = w.alert.text.text()
    assert w.alert.isVisible() and bad in text and "integrity check" in text and "audit trail" in text
    assert w.alert.ack_button.isVisible()
    w.select(good)
    w.ask_typed_confirm = lambda title, text, expected: True   # the name typed (tests/gui/test_confirm_dialogs.py)
    w.delete_current()
    assert good in svc.records and "stopped" in w.form.error.text()
    w.alert.ack_button.click()
    assert not w.alert.ack_button.isVisible() and bad in w.alert.text.text()  # the damaged record stays listed
    w.select(good)
    w.delete_current()
    assert good not in svc.records
    svc.close()


def test_erasure_receipt_is_saved_as_json_and_pdf(qtbot, make_service, tmp_path):
    svc = make_service("rc")
    rid = svc.add_customer(sample())
    svc.set_controller(organisation="Sonnenschein Solar GmbH", dpo_contact="datenschutz@sonnenschein.example",
                       policy_version="2026-03", policy_text="Our privacy policy, version 2026-03.")
    w = CustomersPage(svc)
    qtbot.addWidget(w)
    w.show()
    w.select(rid)
    asked = []
    w.ask_typed_confirm = lambda title, text, expected: asked.append(text) or True
    w.delete_current()
    assert "cannot be restored" in asked[0] and "keyring" in asked[0]
    assert w.receipt_button.isVisible()
    target = tmp_path / "receipt.json"
    w.ask_receipt_path = lambda suggested: str(target)
    w.receipt_button.click()
    doc = json.loads(target.read_text())
    assert doc["record_id"] == rid and doc["local"]["data_key"] == "destroyed"
    assert doc["controller"]["organisation"] == "Sonnenschein Solar GmbH"
    assert doc["controller"]["policy_version"] == "2026-03" and len(doc["controller"]["policy_sha256"]) == 64
    pdf = target.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    for f in (target, target.with_suffix(".pdf")):
        assert f.stat().st_mode & 0o777 == 0o600
    assert b"Quellenbach" not in pdf and "Quellenbach" not in target.read_text()


def test_requests_register_in_the_window(qtbot, make_service, tmp_path):
    now = [1_800_000_000.0]
    svc = make_service("rq", clock=lambda: now[0])
    rid = svc.add_customer(sample())
    dlg = RequestsDialog(svc, rid)
    qtbot.addWidget(dlg)
    dlg.kind.setCurrentText("access")
    dlg.open_button.click()
    assert "identity" in dlg.error.text()  # the identity check must be noted
    dlg.identity.setText("ID card seen by inst-1")
    dlg.open_button.click()
    assert dlg.table.rowCount() == 1 and "30 days left" in dlg.table.item(0, 5).text()
    now[0] += 31 * 86400
    dlg.refresh()
    assert dlg.table.item(0, 5).text().startswith("overdue")
    out = tmp_path / "register.json"
    dlg.ask_path = lambda suggested: str(out)
    dlg.export()
    doc = json.loads(out.read_text())
    assert doc["requests"][0]["kind"] == "access" and doc["requests"][0]["status"] == "overdue"
    assert doc["response_days"] == 30 and out.stat().st_mode & 0o777 == 0o600
    dlg.table.selectRow(0)
    dlg.close_button.click()
    assert svc.requests()[0]["status"] == "closed"

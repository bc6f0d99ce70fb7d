"""Where consent is recorded, the installer's name is editable (the configured one by default), required,
and what the record keeps as who obtained the consent."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit

from desktop.records.errors import ValidationError
from desktop.ui.records.consent_dialog import ConsentDialog

pytestmark = pytest.mark.gui


def test_the_name_is_the_configured_installer_until_changed_and_never_empty(qtbot):
    dlg = ConsentDialog("support_sharing", "none", None, "2026-01", "inst-042")
    qtbot.addWidget(dlg)
    field = dlg.findChild(QLineEdit, "consentInstaller")
    assert field is not None and field.text() == "inst-042" and dlg.installer_name == "inst-042"
    dlg.agreed.setChecked(True)
    assert dlg.grant_button.isEnabled()
    field.clear()
    qtbot.keyClicks(field, "  Jana Berger ")
    assert dlg.installer_name == "Jana Berger" and dlg.grant_button.isEnabled()
    field.setText("   ")                          # no name: nothing can be recorded
    assert not dlg.grant_button.isEnabled()
    dlg.grant_button.click()
    assert dlg.decision is None and dlg.result() == 0
    field.setText("Jana Berger")
    dlg.grant_button.click()
    assert dlg.decision == "grant" and dlg.installer_name == "Jana Berger"


def test_the_record_keeps_the_name_given(tmp_path):
    from desktop.records.service import RecordsService
    records = RecordsService(tmp_path / "records", "inst-042", passphrase="correct horse battery", scrypt_n=2 ** 12)
    try:
        rid = records.add_customer({"name": "Margarethe Quellenbach", "sites": [{"name": "Wohnhaus"}]})
        records.grant_consent(rid, "support_sharing", "paper", installer=" Jana Berger ")
        assert records.consent_entry(rid, "support_sharing")["installer"] == "Jana Berger"
        records.grant_consent(rid, "cloud_sync", "paper")          # not given: the configured installer
        assert records.consent_entry(rid, "cloud_sync")["installer"] == "inst-042"
        with pytest.raises(ValidationError, match="must be named"):
            records.grant_consent(rid, "cloud_sync", "paper", installer="  ")
        assert records.consent_entry(rid, "cloud_sync")["installer"] == "inst-042"   # nothing half-written
    finally:
        records.close()

"""Dangerous actions default to the harmless answer: typed-name erasure, a new passphrase typed twice."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_erasure_needs_the_name_typed_and_enter_alone_cancels(qtbot):
    from desktop.ui.shell.confirm_dialogs import TypeToConfirmDialog
    dlg = TypeToConfirmDialog(None, "Delete customer", "Its key is destroyed.", "Jonas  Oberhuber", "Delete for good")
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.action_button.isEnabled()
    qtbot.keyClick(dlg.entry, Qt.Key.Key_Return)      # Enter presses the default, Cancel
    assert dlg.result() == dlg.DialogCode.Rejected and not dlg.isVisible()
    dlg.show()
    qtbot.keyClicks(dlg.entry, "jonas oberhube")
    assert not dlg.action_button.isEnabled()
    dlg.accept()                                      # accept() itself re-checks
    assert dlg.isVisible()
    qtbot.keyClicks(dlg.entry, "r")
    assert dlg.action_button.isEnabled() and dlg.matches()   # case and spacing do not matter
    qtbot.mouseClick(dlg.action_button, Qt.MouseButton.LeftButton)
    assert dlg.result() == dlg.DialogCode.Accepted


def test_new_passphrase_must_be_typed_twice_alike_and_long_enough(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop.ui.shell.confirm_dialogs import NewPassphraseDialog, passphrase_strength
    dlg = NewPassphraseDialog()
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dlg.first, "short")
    assert not ok.isEnabled() and "too short" in dlg.hint.text()
    dlg.first.setText("correct horse battery")
    dlg.second.setText("correct horse batery")
    assert not ok.isEnabled() and "differ" in dlg.hint.text()
    dlg.second.setText("correct horse battery")
    assert ok.isEnabled() and dlg.problem() is None and "Strength:" in dlg.hint.text()
    assert passphrase_strength("aaaaaaaa").startswith("weak") and passphrase_strength("Tr0ub4dor&3-horse") == "strong"

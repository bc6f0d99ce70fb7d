"""The Customers tab of the main window: the records store opened from the keyring, or with a passphrase.

Runs on the GUI thread, when the tab is first shown (the composition root
wraps it in a LazyPage). The store is opened through the app's one
``RecordsAccess`` (desktop/app.py), so every page shares the same service.
Without a usable keyring -- a headless Linux, a locked wallet -- or for a
store kept under a passphrase, the tab is a notice that says so and offers
"Open with a passphrase…" instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.core.errors import describe_error
from desktop.records.errors import KeyringUnavailable, PassphraseRequired, RecordsError
from desktop.ui.records.customers_page import CustomersPage
from desktop.ui.shell.lazy_page import LazyPage, NoticePage


def make_customers_page(records, holder: LazyPage | None = None, worker=None) -> QWidget:
    """The Customers page on ``records.open()``, or a page that says what to do when it cannot open.

    Without a usable keyring (or for a store kept under a passphrase) the
    notice offers to open the records with a passphrase instead.
    """
    try:
        service = records.open()
    except (KeyringUnavailable, PassphraseRequired) as exc:
        heading = ("Customer records need a keyring" if isinstance(exc, KeyringUnavailable)
                   else "Customer records are locked")
        notice = NoticePage(heading, str(exc), action_text="Open with a passphrase…")
        notice.actionTriggered.connect(lambda: _unlock_with_passphrase(notice, holder, records, worker))
        return notice
    except RecordsError as exc:
        return NoticePage("Customer records could not be opened", describe_error(exc))
    return CustomersPage(service, worker=worker)


def _unlock_with_passphrase(notice: NoticePage, holder: LazyPage | None, records, worker) -> None:
    """Ask for the passphrase (at least 8 characters) and open the records with it."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    from desktop.records.store import DB_NAME
    from desktop.ui.shell import confirm_dialogs
    if not (Path(records.folder) / DB_NAME).exists():  # a new store: typed twice, or one typo locks it for good
        passphrase = confirm_dialogs.ask_new_passphrase(notice)
        if passphrase is None:
            return
    else:
        passphrase, ok = QInputDialog.getText(notice, "Customer records", "Passphrase of the customer records:",
                                              QLineEdit.EchoMode.Password)
        if not ok:
            return
    try:
        service = records.open(passphrase=passphrase)
    except (RecordsError, ValueError) as exc:
        notice.set_text(describe_error(exc))
        return
    if holder is not None:
        holder.set_page(CustomersPage(service, worker=worker))

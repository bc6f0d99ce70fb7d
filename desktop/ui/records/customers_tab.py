"""The Customers tab of the main window: the records store opened from the keyring, or with a passphrase.

Runs on the GUI thread, when the tab is first shown (main_window wraps it in a
LazyPage). Without a usable keyring -- a headless Linux, a locked wallet --
or for a store kept under a passphrase, the tab is a notice that says so and
offers "Open with a passphrase…" instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.ui.shell.lazy_page import LazyPage, NoticePage


def _records_dir() -> Path | None:
    data_dir = os.environ.get("PVDESK_DATA_DIR")
    return Path(data_dir) / "records" if data_dir else None


def make_customers_page(holder: LazyPage | None = None) -> QWidget:
    """The Customers page on the records store, or a page that says what to do when it cannot open.

    Without a usable keyring (or for a store kept under a passphrase) the
    notice offers to open the records with a passphrase instead.
    """
    from desktop.records.errors import KeyringUnavailable, PassphraseRequired, RecordsError  # noqa: PLC0415
    from desktop.records.service import RecordsService  # noqa: PLC0415
    from desktop.ui.records.customers_page import CustomersPage  # noqa: PLC0415

    try:
        service = RecordsService(_records_dir())
    except (KeyringUnavailable, PassphraseRequired) as exc:
        heading = ("Customer records need a keyring" if isinstance(exc, KeyringUnavailable)
                   else "Customer records are locked")
        notice = NoticePage(heading, str(exc), action_text="Open with a passphrase…")
        notice.actionTriggered.connect(lambda: _unlock_with_passphrase(notice, holder))
        return notice
    except RecordsError as exc:
        return NoticePage("Customer records could not be opened", str(exc))
    return CustomersPage(service)


def _unlock_with_passphrase(notice: NoticePage, holder: LazyPage | None) -> None:
    """Ask for the passphrase (at least 8 characters) and open the records with it."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit  # noqa: PLC0415

    from desktop.records.errors import RecordsError  # noqa: PLC0415
    from desktop.records.service import RecordsService  # noqa: PLC0415
    from desktop.ui.records.customers_page import CustomersPage  # noqa: PLC0415
    passphrase, ok = QInputDialog.getText(notice, "Customer records",
                                          "Passphrase of the customer records (at least 8 characters; a new "
                                          "store is created with it if none exists):", QLineEdit.EchoMode.Password)
    if not ok:
        return
    try:
        service = RecordsService(_records_dir(), passphrase=passphrase)
    except (RecordsError, ValueError) as exc:
        notice.set_text(str(exc))
        return
    if holder is not None:
        holder.set_page(CustomersPage(service))

"""Wire commissioning into the main window: the Parameters page and its guided set-up.

Runs on the GUI thread, once, after the window's first paint (see
desktop/app.py EXTRA_PAGES). The installer id and company shown in reports
and the write history come from the app's settings (Settings > installer/id
and installer/company), never from the operating system's user name.
"""

from __future__ import annotations


def install_commissioning(window, service):
    """Add the "Parameters" page (with its "Guided set-up…" wizard); returns the page."""
    from PySide6.QtCore import QSettings  # noqa: PLC0415

    from desktop.commission.context import CommissionContext  # noqa: PLC0415

    from desktop.ui.commissioning.parameters_page import ParametersPage  # noqa: PLC0415
    settings = QSettings()
    context = CommissionContext(installer=str(settings.value("installer/id", "installer")),
                                company=str(settings.value("installer/company", "")))

    def records():
        if "Customers" in getattr(window, "pages", {}):
            return getattr(window.page("Customers"), "service", None)
        return None
    page = ParametersPage(window.bridge, context, records=records)
    window.add_page("Parameters", page, "Settings of the device, the guided set-up and settings files")
    return page

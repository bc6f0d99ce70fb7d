"""Fixtures for the GUI tests: the real main window (offscreen), built by the app's composition root.

The window runs on the test's thread (the Qt GUI thread); the device service
runs its own I/O thread, exactly as in the app (``desktop.app.compose``). The simulator is the shared
``sim`` fixture (units 1 and 2, loopback TCP and a pseudo-terminal). Settings
go to an INI file in the test's temporary folder, never the user's.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

FAST_PERIOD_S = 0.2
SLOW_PERIOD_S = 1.0


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings
    s = QSettings(str(tmp_path / "pvdesk-test.ini"), QSettings.Format.IniFormat)
    yield s
    s.sync()


@pytest.fixture
def make_window(qtbot, settings):
    """Factory: (window, bridge, service) -- the main window shown at 1400x900 on a fresh service."""
    from desktop.app import compose
    from desktop.ui.shell.application import settle_memory

    made = []

    def make(fast_period_s: float = FAST_PERIOD_S, slow_period_s: float = SLOW_PERIOD_S, **kw):
        kw.setdefault("record", False)  # the recorder has its own tests (tests/diag)
        app = compose(kw.pop("settings", settings), fast_period_s=fast_period_s, slow_period_s=slow_period_s,
                      defer=kw.pop("defer_plots", False), **kw)
        window, bridge, service = app.window, app.bridge, app.service
        made.append((window, app))
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        settle_memory()  # as the app does once its window is built
        return window, bridge, service

    yield make
    for window, app in made:
        window.close()
        app.close()
    from PySide6.QtWidgets import QApplication
    left_open = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for w in left_open:  # a window left on screen takes the next test's mouse events (offscreen, like a desktop)
        w.close()
    import gc
    gc.unfreeze()  # let the next test's garbage (and this one's) be collected


@pytest.fixture
def window(make_window):
    """The main window on a fresh service (not connected)."""
    return make_window()[0]

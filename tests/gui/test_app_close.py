"""Quitting the app closes the site's own links before the I/O loop stops (none is left open to a device)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.device.connect import Target

pytestmark = pytest.mark.gui


def test_closing_the_app_closes_the_site_links(qtbot, tmp_path):
    from desktop.app import compose
    app = compose(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), record=False, watch_ports=False)
    with Simulator(units=(1, 2), start_s=demo_start_time()) as sim:
        host, port = sim.tcp_address
        site = app.window.site
        site.add_units(Target(spec=LinkSpec(kind="tcp", host=host, port=port)), [1, 2]).result(15)
        qtbot.waitUntil(lambda: len(site.members) == 2, timeout=15_000)
        assert len(site._sessions) == 1            # two units, one shared link
        app.window.close()
        app.close()
        assert site.members == {} and site._sessions == {}   # pollers stopped, the shared link closed

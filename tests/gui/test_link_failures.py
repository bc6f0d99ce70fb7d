"""Links that fail: a dropped link shows "reconnecting" and recovers by itself; old values grey out, never pass as live."""

from __future__ import annotations

import time

import pytest
from gui_helpers import connect_tcp

pytestmark = pytest.mark.gui


def test_link_drop_shows_reconnecting_then_recovers(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    states = []
    window.bridge.stateChanged.connect(lambda state, detail: states.append(state))
    tiles = window.dashboard.tiles
    sim.drop_link(2.5)

    qtbot.waitUntil(lambda: window.status.state == "reconnecting", timeout=5000)
    assert "Reconnecting" in window.status.state_label.text()
    # the error is told beside the amber state, never over it, and no stale latency is shown meanwhile
    window.bridge.errorRaised.emit("poll failed: the connection was closed")
    assert window.status.state_label.isVisible() and window.status.message_label.isVisible()
    assert window.status.message_label.full_text() == "poll failed: the connection was closed"
    assert window.status.latency_label.text() == "Latency —"
    # no fresh value for three poll periods: every live tile greys out
    qtbot.waitUntil(lambda: all(tiles[k].is_stale() for k in ("pv", "inverter", "load", "grid", "battery")),
                    timeout=3000)
    assert "stale" in tiles["pv"].accessibleDescription()
    assert window.status.age_s() is not None and window.status.age_s() >= 0.5

    qtbot.waitUntil(lambda: window.status.state == "connected" and not tiles["pv"].is_stale(), timeout=15_000)
    assert states[0] == "reconnecting" and states[-1] == "connected"
    # the state comes a signal before the sample's statistics (same cycle): the age follows within it
    qtbot.waitUntil(lambda: window.status.age_label.text() == "Last sample just now", timeout=2000)
    assert int(window.status.errors_label.text().split()[-1]) >= 1
    assert window.status.message_label.full_text() == ""   # recovered: the old error is gone


def test_timeouts_grey_the_tiles_and_the_age_keeps_ticking(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    sim.mute(3.0)
    t0 = time.monotonic()
    tile = window.dashboard.tiles["pv"]
    qtbot.waitUntil(tile.is_stale, timeout=3000)
    assert time.monotonic() - t0 >= 3 * window.dashboard.fast_period_s * 0.9
    qtbot.waitUntil(lambda: window.status.age_label.text() in ("Last sample 2 s ago", "Last sample 3 s ago"),
                    timeout=4000)
    qtbot.waitUntil(lambda: not tile.is_stale(), timeout=15_000)
    assert window.status.state == "connected"


def test_disconnect_greys_everything_at_once(qtbot, window, sim):
    connect_tcp(qtbot, window, sim)
    window.disconnect_action.trigger()
    qtbot.waitUntil(lambda: window.status.state == "disconnected", timeout=5000)
    assert all(t.is_stale() for t in window.dashboard.tiles.values())
    qtbot.wait(1200)  # the staleness timer ticks meanwhile: values younger than 3 periods stay grey too
    assert all(t.is_stale() for t in window.dashboard.tiles.values())
    assert window.windowTitle() == "PVDesk"
    assert not window.disconnect_action.isEnabled()


def test_connect_clicked_twice_quickly_leaves_one_link(make_window, sim):
    """A second Connect while the first is still reading identity waits for it, then replaces it."""
    import asyncio

    from protocols.links.factory import LinkSpec

    from desktop.device.connect import Target
    _window, _bridge, service = make_window()
    host, port = sim.tcp_address
    service.connect(Target(spec=LinkSpec(kind="tcp", host=host, port=port), profile="goodwe-et"))
    service.connect(Target(spec=LinkSpec(kind="tcp", host=host, port=port), unit=2)).result(10)

    async def running():
        pollers = [t for t in asyncio.all_tasks() if "Poller.run" in repr(t.get_coro()) and not t.done()]
        return len(pollers), service.device.unit, service.device.profile.name, service.device.session.link.connected
    assert service.submit(running).result(5) == (1, 2, "pvdesk-hybrid", True)

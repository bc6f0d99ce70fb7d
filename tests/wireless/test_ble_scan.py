"""Scanning for Bluetooth inverters, resolving names, and what the user is told when Bluetooth cannot work."""

from __future__ import annotations

import time

import pytest
from wireless_helpers import ble_link

from protocols.errors import BluetoothAdapterMissing, BluetoothAdapterOff, BluetoothPermissionDenied, DeviceNotFound, LinkError
from protocols.links import ble
from protocols.links.factory import LinkSpec, make_link
from protocols.session import Session

pytestmark = pytest.mark.timeout(20)


def test_scan_lists_recognised_devices_with_signal_bars(wsim, radio, profile, arun):
    radio.inject.rssi_dbm = -75
    found = arun(ble.scan(0.3, [profile], backend=radio.backend))
    assert [(d.name, d.address, d.rssi, d.signal_bars, d.profile) for d in found] == \
        [("PVD-SIM-0001", radio.address, -75, 2, "pvdesk-hybrid")]   # the headphones nearby are not listed


def test_scan_recognises_by_service_uuid_when_the_name_differs(wsim, radio, arun):
    radio.name = "Inverter 7"       # renamed by the installer; the service UUID still tells
    found = arun(ble.scan(0.3, backend=radio.backend))
    assert [d.name for d in found] == ["Inverter 7"]


@pytest.mark.parametrize("rssi,bars", [(-40, 4), (-60, 4), (-65, 3), (-79, 2), (-85, 1), (-95, 0), (None, 0)])
def test_signal_bars(rssi, bars):
    assert ble.signal_bars(rssi) == bars


def test_device_that_vanishes_while_scanning_is_left_out_and_scan_ends(wsim, radio, arun):
    radio.inject.vanish_after_s = 0.15
    t0 = time.monotonic()
    found = arun(ble.scan(1.2, backend=radio.backend))
    assert time.monotonic() - t0 < 2.0
    assert found == []

    async def connect_to_gone():
        await ble_link(radio, target="PVD-SIM-0001").connect(0.3)
    with pytest.raises(DeviceNotFound, match="PVD-SIM-0001") as err:
        arun(connect_to_gone())
    assert "in range" in err.value.hint


def test_connect_by_name_resolves_the_address_and_signal(wsim, radio, arun):
    async def go():
        link = ble_link(radio, target="PVD-SIM-0001")
        await link.connect(0.5)
        try:
            return link.address, link.quality.rssi_dbm, link.quality.signal_bars, str(link.info)
        finally:
            await link.close()
    assert arun(go()) == (radio.address, -62, 3, f"ble PVD-SIM-0001 ({radio.address})")


@pytest.mark.parametrize("state,error,words", [
    ("missing", BluetoothAdapterMissing, "BlueZ"),
    ("no-adapters", BluetoothAdapterMissing, "adapter"),
    ("off", BluetoothAdapterOff, "switch Bluetooth on"),
    ("denied", BluetoothPermissionDenied, "Privacy"),
])
def test_unusable_bluetooth_says_what_to_do(state, error, words, wsim, radio, arun):
    radio.inject.adapter = state
    with pytest.raises(error) as scanning:
        arun(ble.scan(0.2, backend=radio.backend))
    assert words in scanning.value.hint

    async def connect():
        await ble_link(radio).connect(0.5)
    with pytest.raises(error):
        arun(connect())


def test_this_machine_without_bluez_gets_a_clear_error(arun):
    """The real backend here: no radio, no BlueZ. Whatever bleak raises must become a LinkError with a hint."""
    async def connect():
        link = ble.BleLink("AA:BB:CC:DD:EE:FF", backend=(None, None))
        await link.connect(0.5)
        await link.close()
    for attempt in (ble.scan(0.2, backend=(None, None)), connect()):
        try:
            arun(attempt)
        except LinkError as exc:
            assert exc.hint and "Bluetooth" in exc.one_line()
        except Exception as exc:  # this is the failure being tested for
            pytest.fail(f"bleak's {type(exc).__name__} reached the user unmapped: {exc!r}")


def test_make_link_builds_ble_and_v5_links(wsim, radio, profile, arun, monkeypatch):
    monkeypatch.setattr(ble, "DEFAULT_BACKEND", radio.backend)
    host, port = wsim.v5_address
    specs = [LinkSpec(kind="ble", ble_address="PVD-SIM-0001"),
             LinkSpec(kind="v5", host=host, port=port, logger_serial=wsim.v5.logger_serial)]

    async def go():
        out = []
        for spec in specs:
            s = Session(make_link(spec))
            await s.open()
            try:
                out.append((s.link.info.kind, await s.read_registers(0, 4)))
            finally:
                await s.close()
        return out
    expected = wsim.call(wsim.device(1).read, "holding", 0, 4)
    assert arun(go()) == [("ble", expected), ("v5", expected)]
    with pytest.raises(ValueError, match="scan --ble"):
        make_link(LinkSpec(kind="ble"))
    with pytest.raises(ValueError, match="logger serial"):
        make_link(LinkSpec(kind="v5", host="10.0.0.5"))
    assert make_link(LinkSpec(kind="v5", host="10.0.0.5", logger_serial=17)).port == 8899

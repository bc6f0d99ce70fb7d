"""Firmware upgrade over Bluetooth LE and a V5 logger, with the link lost mid-upload: it resumes.

Uses the real upgrader (protocols/firmware) and the simulator's bootloader;
the package is signed with a throw-away key made here and trusted only by
this test. Skipped with a reason when protocols/firmware is not there.
"""

from __future__ import annotations

import hashlib

import pytest
from wireless_helpers import ble_link, session, v5_link

from protocols.device import Device
from protocols.firmware import upgrade as firmware

pytestmark = pytest.mark.timeout(40)

IMAGE_BYTES = 9_600   # 40 chunks of 240 bytes


def signed_package():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocols.firmware.package import build_package, read_package
    key = Ed25519PrivateKey.generate()
    image, block = bytearray(), b"wireless"
    while len(image) < IMAGE_BYTES:
        block = hashlib.sha256(block).digest()
        image += block
    data = build_package(bytes(image[:IMAGE_BYTES]), key, key_id="wireless-test", vendor="PVDesk",
                         models=["PVD-H8K"], component="control", version="1.05.00", hardware=[3],
                         min_version="1.00.00")
    return read_package(data), {"wireless-test": key.public_key()}


def fast_bootloader(sim):
    def go(bl):
        bl.reboot_s = 0.3
        bl.test_timeout_s = 3.0
    boot = getattr(sim.device(1), "bootloader", None)
    if boot is None:
        pytest.skip("the simulator has no bootloader installed yet (protocols/sim/bootloader.py)")
    sim.call(go, boot)
    return boot


OPTIONS = dict(link_wait_s=6.0, reboot_wait_s=6.0, health_s=0.3, health_reads=3, poll_s=0.05)


@pytest.mark.parametrize("kind", ["ble", "v5"])
def test_upgrade_resumes_after_the_link_is_lost_mid_upload(kind, wsim, profile, arun):
    boot = fast_bootloader(wsim)
    package, keys = signed_package()
    radio = wsim.ble_radio()
    link = ble_link(radio, mtu=23) if kind == "ble" else v5_link(wsim)

    def cut():
        if kind == "ble":
            radio.inject.disconnect_mid_frame = 1
        else:
            wsim.v5.inject.drop_connection = 1

    def progress(event):
        if not progress.fired and event.get("phase") == "upload" and event.get("bytes_done", 0) >= IMAGE_BYTES // 2:
            progress.fired = True
            cut()
    progress.fired = False

    async def go():
        s = session(link, timeout_s=0.5, retries=2)
        await s.open()
        try:
            device = Device(s, profile)
            result = await firmware.Upgrader(device, package, options=firmware.UpgradeOptions(**OPTIONS),
                                             progress=progress, keys=keys).run()
            return result, await device.firmware(), s.stats
        finally:
            await s.close()
    result, versions, stats = arun(go(), 35.0)
    assert progress.fired
    assert result.outcome == "upgraded", result.message
    assert versions[0]["version"] == "1.05.00"
    accepted = [(o, n) for o, n, status in boot.chunk_log if status == "ok"]
    # Resumed at the offset the device reported: every byte accepted once, in order.
    assert [o for o, _ in accepted] == list(range(0, IMAGE_BYTES, 240))
    assert sum(n for _, n in accepted) == IMAGE_BYTES
    assert stats.reconnects >= 1
    if kind == "ble":
        assert link.quality.disconnects >= 1 and radio.stats["max_write"] <= 20

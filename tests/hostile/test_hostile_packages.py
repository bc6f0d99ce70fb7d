"""Hostile firmware packages: every one refused with one line naming the check, and no byte written to the device."""
from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from hostile_cases import PACKAGE_CASES, big_manifest_bytes, clear, try_package

from tests.firmware.fw_helpers import open_device, package_bytes

pytestmark = pytest.mark.timeout(120)


def test_every_hostile_package_is_refused_clearly_before_any_write(hsim):
    async def go():
        device = await open_device(hsim)
        out = []
        for case, build in PACKAGE_CASES:
            out.append((case, await try_package(build(), device, hsim)))
        good = await try_package(package_bytes(), device, hsim)  # the control: a good package still installs
        await device.session.close()
        return out, good
    outcomes, good = asyncio.run(asyncio.wait_for(go(), 100))
    unclear = [(c.name, o.message) for c, o in outcomes if not clear(c, o)]
    assert unclear == []
    assert [(c.name, o.device_bytes) for c, o in outcomes if o.device_bytes] == []
    assert good.value == "upgraded" and good.device_bytes > 48_000, good.message


@pytest.mark.parametrize("case, build", PACKAGE_CASES, ids=[c.name for c, _ in PACKAGE_CASES])
def test_each_refusal_names_its_check(case, build):
    from protocols.firmware.check import check_package
    _, report = check_package(build())
    assert not report.ok
    message = report.errors[0].one_line()
    assert case.expect.lower() in message.lower() and "\n" not in message, message


def test_a_512_mb_manifest_is_refused_without_reading_it():
    from protocols.firmware.package import PackageDamaged, read_package
    data = big_manifest_bytes()
    assert len(data) < 1_000_000  # about 0.5 MB on disk
    tracemalloc.start()
    try:
        with pytest.raises(PackageDamaged, match="manifest size") as info:
            read_package(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.check == "manifest size"
    assert peak < 5_000_000, f"reading the package took {peak / 1e6:.0f} MB"


def test_a_manifest_that_lies_about_its_size_is_still_cut_off():
    """The zip directory says 100 bytes; the stream inflates to 512 MB: the read stops at the cap."""
    import io
    import struct
    import zipfile

    from protocols.firmware.package import (
        MAX_MANIFEST_BYTES,
        PackageDamaged,
        read_package,
    )
    data = bytearray(big_manifest_bytes(8 * 1024 * 1024))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("manifest.json")
    # patch the central directory's uncompressed size (a zip64 extra holds it: patch both places)
    cd = data.rfind(b"PK\x01\x02", 0, len(data))
    while cd > 0 and data[cd + 46: cd + 46 + 13] != b"manifest.json":
        cd = data.rfind(b"PK\x01\x02", 0, cd)
    struct.pack_into("<I", data, cd + 24, 100)
    extra = data.find(struct.pack("<Q", info.file_size), cd)
    if extra > 0:
        struct.pack_into("<Q", data, extra, 100)
    with pytest.raises(PackageDamaged) as err:
        read_package(bytes(data))
    assert err.value.check in ("manifest size", "package") and MAX_MANIFEST_BYTES < 8 * 1024 * 1024


def test_release_trust_refuses_the_repository_dev_key(tmp_path):
    from protocols.firmware.check import check_package
    from protocols.firmware.keys import keys_dir
    from protocols.firmware.trust import RELEASE, load_trust
    trust = load_trust(keys_dir(), mode=RELEASE)
    assert "pvdesk-dev" not in trust.keys
    _, report = check_package(package_bytes(), trust)
    assert not report.ok and "development key" in report.errors[0].one_line()

"""Every refusal happens before the first write to the device, and names the check that failed."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fw_helpers import FAST, make_package, open_device, package_bytes, run

from protocols.firmware.package import pack_members, read_package
from protocols.firmware.registers import State
from protocols.firmware.upgrade import Upgrader

pytestmark = pytest.mark.timeout(30)


def unsigned():
    good = make_package()
    return read_package(pack_members(good.manifest_bytes, None, good.image))


def wrong_key():
    return read_package(package_bytes(key=Ed25519PrivateKey.generate(), key_id="pvdesk-dev"))


def truncated():
    good = make_package()
    return read_package(pack_members(good.manifest_bytes, good.signature, good.image[:-1]))


def altered():
    good = make_package()
    return read_package(pack_members(good.manifest_bytes, good.signature, good.image[::-1]))


def altered_manifest():
    good = make_package()
    m = json.loads(good.manifest_bytes)
    m["hardware"] = [1, 2, 3, 4]
    return read_package(pack_members(json.dumps(m).encode(), good.signature, good.image))


CASES = [
    ("unsigned", unsigned, "signature"),
    ("wrong key", wrong_key, "signature"),
    ("altered manifest", altered_manifest, "signature"),
    ("truncated image", truncated, "image size"),
    ("hash mismatch", altered, "image hash"),
    ("wrong model", lambda: make_package(models=["PVD-H5K", "PVD-H10K"]), "model"),
    ("wrong hardware", lambda: make_package(hardware=[4]), "hardware"),
    ("wrong hardware of the DSP", lambda: make_package(component="dsp", version="2.12.0", hardware=[3]), "hardware"),
    ("version gate", lambda: make_package(min_version="1.04.03"), "version gate"),
    ("downgrade", lambda: make_package(version="1.04.01", min_version=None), "downgrade"),
    ("same version", lambda: make_package(version="1.04.02", min_version=None), "downgrade"),
    ("unknown component", lambda: make_package(component="fan"), "component"),
]


async def attempt(sim, pkg):
    device = await open_device(sim)
    result = await Upgrader(device, pkg, options=FAST).run()
    await device.session.close()
    return result


def assert_untouched(sim):
    dev = sim.device(1)
    bl = dev.bootloader
    assert bl.writes == 0 and bl.chunk_log == [] and bl.state == State.IDLE
    assert dev.write_log == []  # no setting was written either
    assert sim.call(dev.value_of, "fw_control_version") == "1.04.02"


@pytest.mark.parametrize("name, build, check", CASES, ids=[c[0] for c in CASES])
def test_bad_package_is_refused_before_the_first_write(sim, name, build, check):
    result = run(attempt(sim, build()))
    assert result.outcome == "refused", name
    failed = [c["check"] for c in result.checks if not c["ok"]]
    assert check in failed, (name, result.checks)
    assert "nothing was written" in result.message
    assert result.bytes_sent == 0 and not any(e["phase"] == "upload" for e in result.log)
    assert_untouched(sim)


def test_faulted_device_is_refused(sim):
    sim.inject_fault(101)
    result = run(attempt(sim, make_package()))
    assert result.outcome == "refused" and "device state: active fault 101 Grid overvoltage" in result.message
    assert_untouched(sim)


def test_low_battery_is_refused(sim):
    def drain():
        dev = sim.device(1)
        dev.plant.soc_pct = 12.0
        dev.update_now()
    sim.call(drain)
    result = run(attempt(sim, make_package()))
    assert result.outcome == "refused" and result.message.startswith("battery: state of charge 12 %")
    assert_untouched(sim)


def test_poor_link_is_refused(sim):
    sim.corrupt("silent", 4)  # the probe reads go unanswered
    result = run(attempt(sim, make_package()))
    assert result.outcome == "refused" and result.message.startswith("link quality:")
    assert_untouched(sim)

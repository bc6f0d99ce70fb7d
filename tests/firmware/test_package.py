"""Package format and the offline checks: each refusal names its check."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fw_helpers import image_bytes, make_package, package_bytes

from protocols.firmware.check import (
    CheckReport,
    DowngradeRefused,
    HashMismatch,
    ImageTruncated,
    SignatureInvalid,
    TargetFacts,
    VersionGate,
    WrongHardware,
    WrongModel,
    check_package,
    check_target,
)
from protocols.firmware.keys import keys_dir, trusted_keys
from protocols.firmware.package import PackageDamaged, pack_members, read_package

pytestmark = pytest.mark.timeout(20)

FACTS = TargetFacts(model="PVD-H8K", hardware=3, running_version="1.04.02",
                    components=("control", "dsp", "comm", "bms", "meter"))


def failed_checks(report: CheckReport) -> list[str]:
    return [r.check for r in report.results if not r.ok]


def test_pack_and_read_round_trip():
    image = image_bytes(1001)
    pkg = make_package(image, notes="fixes export limit")
    m = pkg.manifest
    assert pkg.image == image and m.image_size == 1001 and m.component == "control"
    assert m.models == ("PVD-H8K",) and m.hardware == (3,) and m.min_version == "1.00.00"
    assert m.key_id == "pvdesk-dev" and len(pkg.signature) == 64
    assert set(pkg.members) == {"manifest.json", "manifest.sig", "image.bin"}
    _, report = check_package(pkg)
    assert report.ok and [r.check for r in report.results] == ["package", "signature", "image size", "image hash"]


def test_source_tree_trusts_the_dev_key_and_no_private_key_ships():
    assert "pvdesk-dev" in trusted_keys()  # a development install (the source tree)
    shipped = [p.read_text() for p in keys_dir().rglob("*") if p.is_file()]
    assert shipped and not any("PRIVATE" in text for text in shipped)


def test_unsigned_package_is_refused():
    good = make_package()
    _, report = check_package(pack_members(good.manifest_bytes, None, good.image))
    assert failed_checks(report) == ["signature"]
    assert isinstance(report.errors[0], SignatureInvalid) and "not signed" in str(report.errors[0])


def test_package_signed_by_an_untrusted_key_is_refused():
    rogue = Ed25519PrivateKey.generate()
    _, report = check_package(package_bytes(key=rogue, key_id="someone"))
    assert failed_checks(report) == ["signature"] and "not a trusted key" in report.results[1].detail
    # The same rogue key claiming to be the trusted one fails the signature itself.
    _, report = check_package(package_bytes(key=rogue, key_id="pvdesk-dev"))
    assert failed_checks(report) == ["signature"] and "does not match" in report.results[1].detail


def test_altered_manifest_breaks_the_signature():
    good = make_package()
    manifest = json.loads(good.manifest_bytes)
    manifest["models"].append("PVD-H5K")
    _, report = check_package(pack_members(json.dumps(manifest).encode(), good.signature, good.image))
    assert failed_checks(report) == ["signature"]


def test_truncated_image_is_refused():
    good = make_package()
    _, report = check_package(pack_members(good.manifest_bytes, good.signature, good.image[:-500]))
    assert failed_checks(report) == ["image size", "image hash"]
    assert isinstance(report.errors[0], ImageTruncated)
    assert f"{len(good.image) - 500} bytes" in str(report.errors[0])


def test_altered_image_fails_the_hash():
    good = make_package()
    bad = bytearray(good.image)
    bad[1000] ^= 0xFF
    _, report = check_package(pack_members(good.manifest_bytes, good.signature, bytes(bad)))
    assert failed_checks(report) == ["image hash"] and isinstance(report.errors[0], HashMismatch)


def test_damaged_files_are_refused_with_what_is_wrong(tmp_path):
    data = package_bytes()
    (tmp_path / "cut.pvfw").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.pvfw").write_text("hello")
    for name in ("cut.pvfw", "text.pvfw", "missing.pvfw"):
        pkg, report = check_package(tmp_path / name)
        assert pkg is None and failed_checks(report) == ["package"], name
    with pytest.raises(PackageDamaged, match="not a complete zip archive") as cut:
        read_package(tmp_path / "cut.pvfw")
    assert "download the package again" in cut.value.hint
    with pytest.raises(PackageDamaged, match="cannot read"):
        read_package(tmp_path / "missing.pvfw")


@pytest.mark.parametrize("manifest, said", [
    (b'{"format": 1, "image_size": ' + b"9" * 5000 + b"}", "has 5000 digits (at most 20)"),
    (b'{"format": 1,\n "version": "1.05.00",,\n}', "not valid JSON: Expecting property name enclosed in double "
                                                 "quotes at line 2, column 23"),
])
def test_a_manifest_json_refuses_is_named_with_where(manifest, said):
    """Python's int() limit and json's bare messages reach the user as what is wrong and where."""
    with pytest.raises(PackageDamaged) as refused:
        read_package(pack_members(manifest, None, image_bytes()))
    assert said in str(refused.value) and refused.value.check == "manifest"
    assert "Exceeds the limit" not in str(refused.value)


@pytest.mark.parametrize("fields, check, error", [
    (dict(models=["PVD-H5K"]), "model", WrongModel),
    (dict(hardware=[1, 2]), "hardware", WrongHardware),
    (dict(min_version="1.04.05"), "version gate", VersionGate),
    (dict(version="1.03.00", min_version=None), "downgrade", DowngradeRefused),
    (dict(version="1.04.02", min_version=None), "downgrade", DowngradeRefused),
])
def test_target_checks_name_the_failed_check(fields, check, error):
    report = check_target(make_package(**fields), FACTS)
    assert failed_checks(report) == [check]
    assert isinstance(report.errors[0], error) and report.errors[0].check == check
    with pytest.raises(error):
        report.raise_first()


def test_downgrade_passes_only_with_the_flag():
    pkg = make_package(version="1.03.00", min_version=None)
    assert not check_target(pkg, FACTS).ok
    report = check_target(pkg, FACTS, allow_downgrade=True)
    assert report.ok and "downgrade allowed" in report.results[-1].detail


def test_versions_compare_numerically():
    pkg = make_package(version="1.10.0", min_version="1.4")
    assert check_target(pkg, TargetFacts("PVD-H8K", 3, "1.9.9", FACTS.components)).ok
    with pytest.raises(PackageDamaged, match="not a version"):
        make_package(version="latest")

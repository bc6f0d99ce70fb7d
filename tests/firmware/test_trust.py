"""Which keys an install trusts: release vs development, revocation, rotation, and the build's key staging."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fw_helpers import TEST_KEY, package_bytes

from protocols.firmware.check import check_package
from protocols.firmware.keys import (
    fingerprint,
    generate_key_pair,
    keys_dir,
    load_private_key,
)
from protocols.firmware.trust import DEVELOPMENT, RELEASE, install_mode, load_trust

from installer import release_keys

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]

DEV_FP = fingerprint(load_private_key(TEST_KEY).public_key())


def keys_folder(tmp_path: Path, *, release: dict | None = None, rotation=(), revoked=(), revoked_packages=(),
                with_dev: bool = True) -> Path:
    """A folder laid out like resources/keys, with the shipped trust.json's development key list."""
    base = tmp_path / "keys"
    (base / "release").mkdir(parents=True)
    if with_dev:
        shutil.copytree(keys_dir() / "dev", base / "dev")
    policy = json.loads((keys_dir() / "trust.json").read_text())
    policy["rotation"] = list(rotation)
    (base / "trust.json").write_text(json.dumps(policy))
    (base / "revoked.json").write_text(json.dumps({"format": "pvdesk-firmware-revoked/1", "keys": list(revoked),
                                                   "packages": list(revoked_packages)}))
    for key_id, key in (release or {}).items():
        generate_key_pair(tmp_path / f"{key_id}.pem", base / "release" / f"{key_id}.pub")
        key.update(private=load_private_key(tmp_path / f"{key_id}.pem"))
    return base


def test_the_shipped_trust_names_the_dev_key_and_revokes_nothing_yet():
    policy = json.loads((keys_dir() / "trust.json").read_text())
    assert [k["fingerprint"] for k in policy["development_keys"]] == [DEV_FP]
    assert not (keys_dir() / "release").exists() or not list((keys_dir() / "release").glob("*.pub"))
    assert not (keys_dir() / "build.json").exists(), "a build stamp must never be committed"


def test_source_tree_is_a_development_install_and_says_so(monkeypatch):
    monkeypatch.delenv("PVDESK_FIRMWARE_TRUST", raising=False)
    trust = load_trust()
    assert install_mode() == DEVELOPMENT and trust.keys["pvdesk-dev"].origin == DEVELOPMENT
    _, report = check_package(package_bytes())
    assert report.ok and "DEVELOPMENT key" in report.results[1].detail
    assert "DEVELOPMENT install" in trust.describe()


def test_release_install_refuses_the_dev_key_even_copied_among_the_release_keys(tmp_path):
    rel: dict = {}
    base = keys_folder(tmp_path, release={"vendor-2027": rel})
    shutil.copy(keys_dir() / "dev" / "pvdesk-dev.pub", base / "release" / "pvdesk-dev.pub")
    trust = load_trust(base, mode=RELEASE)
    assert sorted(trust.keys) == ["vendor-2027"] and "pvdesk-dev: a development key in a release install" in trust.ignored
    _, report = check_package(package_bytes(), trust)
    assert [r.check for r in report.results if not r.ok] == ["signature"]
    assert "development key, which a release install never trusts" in report.errors[0].one_line()
    _, report = check_package(package_bytes(key=rel["private"], key_id="vendor-2027"), trust)
    assert report.ok and "release key" in report.results[1].detail


def test_a_revoked_key_and_a_revoked_package_are_refused_in_every_mode(tmp_path):
    rel: dict = {}
    base = keys_folder(tmp_path, release={"leaked": rel})
    fp = fingerprint(rel["private"].public_key())
    bad_image = b"\x5a" * 999
    base2 = keys_folder(tmp_path / "b", release={}, revoked=[{"fingerprint": fp, "key_id": "leaked",
                                                               "revoked_on": "2027-03-01", "reason": "laptop stolen"}],
                        revoked_packages=[{"image_sha256": __import__("hashlib").sha256(bad_image).hexdigest(),
                                           "reason": "bricks meters on hardware 2"}])
    shutil.copy(base / "release" / "leaked.pub", base2 / "release" / "leaked.pub")
    for mode in (RELEASE, DEVELOPMENT):
        trust = load_trust(base2, mode=mode)
        assert "leaked" not in trust.keys and "leaked: revoked" in trust.ignored
        _, report = check_package(package_bytes(bad_image), trust)  # dev-signed: fine in development mode only
        assert "revocation" in [r.check for r in report.results if not r.ok]
        assert "bricks meters" in " ".join(r.detail for r in report.results)


def test_rotation_a_retired_key_still_verifies_old_packages_but_not_new_ones(tmp_path):
    old: dict = {}
    base = keys_folder(tmp_path, release={"vendor-2026": old})
    fp = fingerprint(old["private"].public_key())
    policy = json.loads((base / "trust.json").read_text())
    policy["rotation"] = [{"key_id": "vendor-2026", "fingerprint": fp, "retired_on": "2000-01-01"}]
    (base / "trust.json").write_text(json.dumps(policy))
    trust = load_trust(base, mode=RELEASE)
    assert trust.keys["vendor-2026"].retired_on == "2000-01-01"
    _, report = check_package(package_bytes(key=old["private"], key_id="vendor-2026"), trust)  # made today
    assert not report.ok and "retired on 2000-01-01" in report.errors[0].one_line()


def test_frozen_app_without_a_build_stamp_is_a_release_install(tmp_path, monkeypatch):
    base = keys_folder(tmp_path)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert install_mode(base) == RELEASE and "pvdesk-dev" not in load_trust(base).keys
    (base / "build.json").write_text("{not json")
    assert install_mode(base) == RELEASE  # a damaged stamp never widens trust
    (base / "build.json").write_text(json.dumps({"build": "development"}))
    assert install_mode(base) == DEVELOPMENT
    monkeypatch.setenv("PVDESK_FIRMWARE_TRUST", "release")  # the variable can only make trust stricter
    assert install_mode(base) == RELEASE


def test_cli_check_in_release_mode_refuses_the_dev_signed_package(tmp_path):
    pkg = tmp_path / "dev.pvfw"
    pkg.write_bytes(package_bytes())
    env = {**__import__("os").environ, "PVDESK_FIRMWARE_TRUST": "release"}
    r = subprocess.run([sys.executable, "-m", "desktop.cli", "firmware", "check", str(pkg)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "release install" in r.stdout and "FAIL  signature" in r.stdout


# ------------------------------------------------------------- the build's key staging (installer/release_keys.py)
def test_build_refuses_no_keys_the_dev_key_and_revoked_keys(tmp_path):
    with pytest.raises(SystemExit, match="needs the release public keys"):
        release_keys.choose(None, dev=False)
    with pytest.raises(SystemExit, match="development key"):
        release_keys.choose(str(keys_dir() / "dev"), dev=False)
    outside = tmp_path / "release"
    outside.mkdir()
    generate_key_pair(tmp_path / "r.pem", outside / "vendor-1.pub")
    kind, chosen = release_keys.choose(str(outside), dev=False)
    assert kind == RELEASE and [k for k, _, _ in chosen] == ["vendor-1"]
    (outside / "bad.pub").write_text("not a key")
    with pytest.raises(SystemExit, match="bad.pub"):
        release_keys.choose(str(outside), dev=False)


def test_staged_release_keys_hold_no_dev_key_and_a_dev_build_says_so(tmp_path):
    outside = tmp_path / "release"
    outside.mkdir()
    generate_key_pair(tmp_path / "r.pem", outside / "vendor-1.pub")
    staged = release_keys.stage(tmp_path / "stage", str(outside), dev=False)
    assert sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()) == \
        ["build.json", "release/vendor-1.pub", "revoked.json", "trust.json"]
    trust = load_trust(staged)
    assert trust.mode == RELEASE and sorted(trust.keys) == ["vendor-1"]
    dev = release_keys.stage(tmp_path / "dev-stage", None, dev=True)
    trust = load_trust(dev)
    assert trust.mode == DEVELOPMENT and "pvdesk-dev" in trust.keys and "DEVELOPMENT" in trust.describe()


def test_rogue_key_under_the_dev_id_is_refused_in_development_mode():
    _, report = check_package(package_bytes(key=Ed25519PrivateKey.generate(), key_id="pvdesk-dev"))
    assert not report.ok and "does not match" in report.errors[0].one_line()

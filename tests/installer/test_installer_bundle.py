"""The built Linux bundle, run the way a user runs it: no display, an empty HOME, no Python around.

Slow: builds dist/PVDesk with installer/build_linux.sh unless a current build
exists (see conftest.py). Each check runs the frozen executable as a
subprocess; the bundle folder must be byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import queue
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import uuid

import pytest
from installer_helpers import BUNDLE_TIMEOUT_S, EXE, ROOT, TEST_RELEASE_ID, clean_env, make_test_release_key, snapshot, tarball, version

from installer import bundle_policy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(BUNDLE_TIMEOUT_S),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle is built on Linux"),
]

SIZE_BUDGET_MB = 310  # measured 282 MB (PySide6 96, pyarrow 81, numpy 42); see docs/installers.md


def _diff(before: dict, after: dict) -> list[str]:
    return sorted(set(before) ^ set(after)) + sorted(k for k in set(before) & set(after) if before[k] != after[k])


def test_version_and_self_test_run_without_display_and_write_nothing_beside_the_program(bundle, run_app, user_home):
    before = snapshot(bundle)

    result = run_app("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"PVDesk {version()}"

    result = run_app("--self-test", timeout_s=90)
    passes = [line for line in result.stdout.splitlines() if line.strip().startswith("PASS")]
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(passes) == 3, result.stdout
    assert "FAIL" not in result.stdout and "self-test passed" in result.stdout

    assert _diff(before, snapshot(bundle)) == [], "running the app wrote into its own folder"
    assert list((user_home / "cwd").iterdir()) == [], "running the app wrote into the current folder"
    # the log went where platformdirs puts per-user logs on Linux
    assert (user_home / ".local" / "state" / "PVDesk" / "log" / "pvdesk.log").is_file()


def test_bundle_holds_what_the_app_needs_and_nothing_it_does_not(bundle):
    from PyInstaller.archive.readers import CArchiveReader

    modules = set(CArchiveReader(str(EXE)).open_embedded_archive("PYZ.pyz").toc)
    tops = {name.split(".")[0] for name in modules}
    assert {"desktop", "protocols", "widgets", "resources", "sunspec2", "pyarrow", "boto3", "bleak",
            "dbus_fast", "keyring", "secretstorage", "pysolarmanv5", "pymodbus", "pyqtgraph"} <= tops
    assert not tops & {"tkinter", "pytest", "_pytest", "hypothesis", "moto", "keyrings", "PyInstaller",
                       "setuptools", "pytestqt", "pypdf"}
    assert {"desktop.cli.records", "desktop.cli.diag", "desktop.cli.firmware", "desktop.ui.shell.main_window",
            "keyring.backends.SecretService"} <= modules

    internal = bundle / "_internal"
    files = {str(p.relative_to(internal)) for p in internal.rglob("*") if p.is_file() or p.is_symlink()}
    for needed in ("resources/profiles/pvdesk-hybrid.toml", "resources/keys/release/pvdesk-test-release.pub",
                   "resources/keys/trust.json", "resources/keys/revoked.json", "resources/keys/build.json",
                   "resources/icons/pvdesk.svg", "sunspec2/models/json/model_1.json",
                   "botocore/data/s3/2006-03-01/service-2.json.gz", "botocore/data/endpoints.json",
                   "PySide6/Qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/plugins/platforms/libqxcb.so",
                   "PySide6/Qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/plugins/iconengines/libqsvgicon.so"):
        assert needed in files, needed
    unwanted = [f for f in files if re.search(
        r"tkinter|libtk|libtcl|QtNetwork|QtQml|QtQuick|Qt6Network|Qt6Qml|Qt6Quick|QtWebEngine|libarrow_flight"
        r"|libarrow_s3|libgtk|/translations/.*\.qm$|botocore/data/(ec2|dynamodb|iam)/", f)]
    assert unwanted == []
    keys = [f for f in files if f.startswith("resources/keys/")]
    assert not [f for f in keys if f.startswith("resources/keys/dev/")], "a release bundle ships the development key"
    assert not [f for f in keys if b"PRIVATE" in (internal / f).read_bytes()], "a private key in the bundle"
    plugins = [f for f in files if f.startswith("PySide6/Qt/plugins/")]
    assert all(bundle_policy.keep_binary(f) for f in plugins), plugins
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert dangling == []

    size_mb = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    assert size_mb < SIZE_BUDGET_MB, f"the bundle grew to {size_mb:.0f} MB (budget {SIZE_BUDGET_MB} MB)"


def test_frozen_app_finds_sunspec_models_arrow_and_bluetooth(bundle, run_app, user_home):
    # SunSpec: pysunspec2 reads its JSON model definitions from inside the bundle
    sim = subprocess.Popen([str(EXE), "sim", "--sunspec", "--port", "0", "--no-control", "--duration", "30"],
                           cwd=user_home / "cwd", env=clean_env(user_home), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in sim.stdout], daemon=True).start()
        port, deadline = None, time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            try:
                m = re.search(r"Modbus TCP\s*:\s*127\.0\.0\.1:(\d+)", lines.get(timeout=1))
            except queue.Empty:
                continue
            port = m.group(1) if m else None
        assert port, "the frozen simulator did not say where it listens"
        result = run_app("read", "--tcp", f"127.0.0.1:{port}")
        assert result.returncode == 0, result.stderr
        assert "SunSpec device" in result.stdout and "PVD-S8K-3P" in result.stdout
    finally:
        sim.terminate()
        sim.wait(timeout=10)

    # pyarrow: a diagnostics recording exported as a bundle (Parquet), summarised and turned into CSV
    assert run_app("diag", "record", "--demo", "--duration", "3").returncode == 0
    out = user_home / "out"
    result = run_app("diag", "export", "-o", str(out / "diag.zip"))
    assert result.returncode == 0, result.stderr
    result = run_app("diag", "csv", str(out / "diag.zip"), "-o", str(out / "diag.csv"))
    assert result.returncode == 0, result.stderr
    rows = (out / "diag.csv").read_text().splitlines()
    assert rows[0].startswith('"time","session"') and len(rows) >= 3
    assert (user_home / ".local" / "share" / "PVDesk" / "recordings" / "session.db").is_file()

    # bleak and its BlueZ backend (dbus-fast) load; no radio here, so the answer is the clear error
    result = run_app("info", "--ble", "PVD-NOWHERE", "--timeout", "2")
    assert result.returncode == 2
    assert "Bluetooth" in result.stderr and "Traceback" not in result.stderr


def test_sync_reaches_an_s3_endpoint_with_the_trimmed_botocore(bundle, run_app, user_home):
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        name = f"pvdesk-frozen-{uuid.uuid4().hex[:10]}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=name)
        env = {"PVDESK_RECORDS_PASSPHRASE": "a long test passphrase",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        common = ("sync", "--data-dir", str(user_home / "records"), "--endpoint", endpoint, "--bucket", name)
        result = run_app(*common, "--create-key", **env)
        assert result.returncode == 0, result.stderr
        result = run_app(*common, **env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 conflict(s)" in result.stdout
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
        # no customer yet: only the sync's own bookkeeping (key check, signed audit checkpoints, the laptop
        # registry), never a record or a record key
        assert "pvdesk/v1/keycheck" in keys
        assert not [k for k in keys if "/records/" in k or "/keys/" in k], keys
    finally:
        server.stop()


def test_a_missing_keyring_is_explained_and_nothing_is_stored(bundle, run_app, user_home):
    result = run_app("records", "list")
    assert result.returncode == 2
    assert "No usable keyring" in result.stderr and "passphrase" in result.stderr
    assert "Traceback" not in result.stderr
    records = user_home / ".local" / "share" / "PVDesk" / "records"
    assert not records.exists() or not any(records.iterdir())


@pytest.mark.skipif(not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
                    reason="no dbus-run-session/gnome-keyring-daemon here to serve the Secret Service")
def test_the_bundled_secret_service_backend_keeps_the_records_key(bundle, user_home):
    script = (
        'export XDG_RUNTIME_DIR="$HOME/run"; mkdir -m 700 -p "$XDG_RUNTIME_DIR"; '
        'printf "test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; '
        f'exec "{EXE}" records list'
    )
    result = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], cwd=user_home / "cwd",
                            env=clean_env(user_home, PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "0 customer(s)" in result.stdout + result.stderr  # dbus-run-session may hand stdout to stderr
    assert any((user_home / ".local" / "share" / "PVDesk" / "records").iterdir())


@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="xvfb-run is not installed")
def test_window_opens_and_shows_live_values_on_a_virtual_display(bundle, user_home):
    before = snapshot(bundle)
    result = subprocess.run(["xvfb-run", "-a", str(EXE), "--demo"], cwd=user_home / "cwd",
                            env=clean_env(user_home, PVDESK_STARTUP_PROBE="sample"),
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    m = re.search(r"startup-probe sample_after_s=([\d.]+) .*pv_power_w=(\d+)", result.stdout)
    assert m and float(m.group(2)) > 0, result.stdout + result.stderr
    assert _diff(before, snapshot(bundle)) == []
    assert (user_home / ".config" / "PVDesk" / "PVDesk.conf").is_file()  # QSettings, per user


def test_tarball_installs_for_the_user_and_uninstalls(bundle, tmp_path):
    home = tmp_path / "installer-home"
    home.mkdir()
    with tarfile.open(tarball()) as tf:
        tf.extractall(tmp_path / "unpacked", filter="tar")
    top = tmp_path / "unpacked" / tarball().name.removesuffix(".tar.gz")
    assert {"install.sh", "pvdesk.desktop", "pvdesk.svg", "pvdesk.png", "README.txt", "PVDesk"} <= \
        {p.name for p in top.iterdir()}

    env = clean_env(home, PATH=f"{home / '.local' / 'bin'}:/usr/bin:/bin")
    result = subprocess.run(["sh", str(top / "install.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    app = home / ".local" / "opt" / "PVDesk" / "pvdesk"
    entry = (home / ".local" / "share" / "applications" / "pvdesk.desktop").read_text()
    assert f'Exec="{app}"' in entry and f"TryExec={app}" in entry
    assert (home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "pvdesk.svg").is_file()
    result = subprocess.run(["pvdesk", "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"PVDesk {version()}"

    result = subprocess.run(["sh", str(app.parent / "install.sh"), "--uninstall"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not app.parent.exists() and not (home / ".local" / "bin" / "pvdesk").is_symlink()
    assert not (home / ".local" / "share" / "applications" / "pvdesk.desktop").exists()


def test_appdir_for_an_appimage_runs_the_bundle(bundle, user_home):
    appdir = bundle.parent / "PVDesk.AppDir"
    try:
        result = subprocess.run(["bash", str(ROOT / "installer" / "linux" / "make_appimage.sh")], cwd=ROOT,
                                env=clean_env(user_home, PATH="/usr/bin:/bin"), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert {"AppRun", "pvdesk.desktop", "pvdesk.png", ".DirIcon", "PVDesk"} <= {p.name for p in appdir.iterdir()}
        result = subprocess.run([str(appdir / "AppRun"), "--version"], env=clean_env(user_home),
                                capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == f"PVDesk {version()}"
    finally:
        shutil.rmtree(appdir, ignore_errors=True)


def test_release_bundle_refuses_the_repository_dev_key_and_accepts_its_release_key(bundle, run_app, user_home):
    import os

    from protocols.firmware.keys import load_private_key
    from protocols.firmware.package import build_package

    dev_key = load_private_key(ROOT / "tests" / "firmware" / "data" / "TEST-ONLY-pvdesk-dev-signing-key.pem")
    release_key = load_private_key(make_test_release_key()[0])
    fields = dict(vendor="PVDesk", models=["PVD-H8K"], component="control", version="1.05.00")
    image = os.urandom(4096)  # the red-team's package of random bytes
    dev_pkg, rel_pkg = user_home / "dev-signed.pvfw", user_home / "release-signed.pvfw"
    dev_pkg.write_bytes(build_package(image, dev_key, key_id="pvdesk-dev", **fields))
    rel_pkg.write_bytes(build_package(image, release_key, key_id=TEST_RELEASE_ID, **fields))

    result = run_app("firmware", "check", str(dev_pkg))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  signature" in result.stdout and "development key" in result.stdout
    assert "release install" in result.stdout and "DEVELOPMENT" not in result.stdout
    assert "refused:" in result.stdout and "Traceback" not in result.stderr
    # the same package cannot be passed off under the release key's id
    forged = user_home / "forged.pvfw"
    forged.write_bytes(build_package(image, dev_key, key_id=TEST_RELEASE_ID, **fields))
    result = run_app("firmware", "check", str(forged))
    assert result.returncode == 1 and "does not match" in result.stdout

    result = run_app("firmware", "check", str(rel_pkg))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"valid Ed25519 signature by trusted key {TEST_RELEASE_ID} (release key" in result.stdout

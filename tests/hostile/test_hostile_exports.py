"""Exports go only to regular files: a symlink, a folder, a pipe or a device is refused and left as it was;
what is written is owner-only (0600)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_cases import clear, export_targets, owner_only, try_export

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A short synthesised recording and its bundle (diag_helpers, as the diagnostics tests use)."""
    from protocols.sim.simulator import demo_start_time

    from desktop.diag.bundle import export_bundle
    from tests.diag.diag_helpers import synthesize
    base = tmp_path_factory.mktemp("hostile-rec")
    s = synthesize(base / "rec", demo_start_time(8.0) - 86400, hours=0.3, step_s=10)
    export_bundle(base / "day.zip", recording_dir=s.folder, app_logs=base / "none", upgrade_logs=base / "none")
    return s.folder, base / "day.zip"


def exporters(recording, tmp_path, capsys) -> dict:
    from desktop.cli import main
    from desktop.commission import settings_file
    from desktop.diag.bundle import export_bundle
    from desktop.ui.device.faults_model import write_csv
    folder, bundle = recording
    image = tmp_path / "control.bin"
    image.write_bytes(b"\x01" * 2000)
    key = Path(__file__).resolve().parents[1] / "firmware" / "data" / "TEST-ONLY-pvdesk-dev-signing-key.pem"

    def cli(*args):
        def run(target):
            capsys.readouterr()
            if main([*args, "-o", str(target)]) != 0:
                raise OSError(capsys.readouterr().err.strip())  # what the user sees, judged as it is
        return run
    doc = {"format": "pvdesk-settings/1", "profile": "pvdesk-hybrid", "model": {"model_name": "PVD-H8K"},
           "serial": "X", "settings": {}}
    return {
        "settings file": lambda target: settings_file.save(doc, target),
        "fault list CSV": lambda target: write_csv(str(target), []),
        "diagnostics bundle": lambda target: export_bundle(target, recording_dir=folder, app_logs=folder / "none",
                                                            upgrade_logs=folder / "none"),
        "telemetry CSV": cli("diag", "csv", str(bundle)),
        "firmware package": cli("firmware", "pack", str(image), "--key", str(key), "--model", "PVD-H8K",
                                "--component", "control", "--version", "1.05.00"),
    }


def test_every_export_refuses_unsafe_targets_and_writes_owner_only(recording, tmp_path, capsys, diag_env):
    for name, write in exporters(recording, tmp_path, capsys).items():
        for case, target, untouched in export_targets(tmp_path / name.replace(" ", "-")):
            outcome = try_export(write, target)
            capsys.readouterr()
            assert outcome.refused, (name, case.name)
            # the library's exception, or the one line the CLI printed: either names what the target is
            assert clear(case, outcome), (name, case.name, outcome.message)
            assert untouched(), (name, case.name)
        fresh = tmp_path / name.replace(" ", "-") / "new-file.out"
        assert not try_export(write, fresh).refused and owner_only(fresh), name
        existing = tmp_path / name.replace(" ", "-") / "old.out"
        existing.write_text("old")
        os.chmod(existing, 0o644)
        assert not try_export(write, existing).refused and owner_only(existing) and existing.read_bytes() != b"old"


@pytest.fixture
def diag_env(tmp_path, monkeypatch):
    """The diagnostics commands' folders (as tests/diag/conftest.py sets them): never the user's."""
    for var, name in (("PVDESK_RECORDINGS_DIR", "recordings"), ("PVDESK_CACHE_DIR", "cache"),
                      ("PVDESK_UPGRADE_LOG_DIR", "upgrades"), ("PVDESK_LOG_DIR", "logs")):
        monkeypatch.setenv(var, str(tmp_path / name))


def test_the_cli_says_why_in_one_line(recording, tmp_path, capsys):
    from desktop.cli import main
    _, bundle = recording
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    assert main(["diag", "csv", str(bundle), "-o", str(link)]) != 0
    err = capsys.readouterr().err
    assert "is a symbolic link" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "elsewhere.csv").exists()

"""desktop/core/paths.py: which folder each writer gets, from the environment of the moment."""
from __future__ import annotations

from pathlib import Path

from desktop.core import paths


def _clear(monkeypatch, home: Path) -> None:
    for name in ("PVDESK_DATA_DIR", "PVDESK_LOG_DIR", "PVDESK_RECORDINGS_DIR", "PVDESK_CACHE_DIR",
                 "PVDESK_UPGRADE_LOG_DIR", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def test_pvdesk_data_dir_holds_every_folder(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PVDESK_DATA_DIR", str(tmp_path / "portable"))
    p = paths.AppPaths.from_environment()
    root = tmp_path / "portable"
    assert (p.data, p.records, p.commissioning, p.recordings, p.firmware_logs, p.logs, p.cache, p.exports,
            p.settings_file) == (root, root / "records", root / "commissioning", root / "recordings",
                                 root / "firmware-logs", root / "logs", root / "cache" / "bundles",
                                 root / "exports", root / "settings.ini")
    assert paths.firmware_log_file("SN 1", "control", "1.2.3").parent == root / "firmware-logs" / "SN 1"


def test_each_folder_variable_moves_only_its_folder(monkeypatch, tmp_path):
    _clear(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PVDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PVDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("PVDESK_RECORDINGS_DIR", str(tmp_path / "rec"))
    assert paths.log_dir() == tmp_path / "logs"
    assert paths.recordings_dir() == tmp_path / "rec"
    assert paths.recordings_dir(tmp_path / "given") == tmp_path / "given"   # an argument wins
    assert paths.records_dir() == tmp_path / "data" / "records"


def test_without_overrides_the_platform_folders_under_home(monkeypatch, tmp_path):
    home = tmp_path / "home"
    _clear(monkeypatch, home)
    p = paths.AppPaths.from_environment()
    for folder in (p.data, p.records, p.recordings, p.firmware_logs, p.logs, p.cache):
        assert folder.is_relative_to(home) and "PVDesk" in folder.parts, folder
    assert p.settings_file is None and p.exports == home   # Qt keeps its settings; dialogs start at home

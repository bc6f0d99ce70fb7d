"""A stable display path: with PVDESK_DISPLAY_DATA_DIR the window shows the data folder as that name (the
screenshot scripts use ~/PVDesk, so no shipped picture shows a temporary folder); without it, the real path."""

from __future__ import annotations

import os

import pytest

from desktop.core.paths import data_dir, display_path

pytestmark = pytest.mark.gui


def test_paths_under_the_data_folder_are_shown_under_the_display_name(monkeypatch, tmp_path):
    real = data_dir()
    assert display_path(real / "recordings") == str(real / "recordings")       # not set: as it is
    monkeypatch.setenv("PVDESK_DISPLAY_DATA_DIR", "~/PVDesk")
    assert display_path(real / "recordings") == os.path.join("~/PVDesk", "recordings")
    assert display_path(real / "firmware-logs" / "PVD8K001A0042" / "x.jsonl") == os.path.join(
        "~/PVDesk", "firmware-logs", "PVD8K001A0042", "x.jsonl")
    assert display_path(real) == "~/PVDesk"
    assert display_path(tmp_path / "elsewhere.zip") == str(tmp_path / "elsewhere.zip")   # outside: unchanged


def test_the_diagnostics_page_shows_the_display_path(make_window, monkeypatch):
    monkeypatch.setenv("PVDESK_DISPLAY_DATA_DIR", "~/PVDesk")
    monkeypatch.delenv("PVDESK_RECORDINGS_DIR", raising=False)
    window, _bridge, _service = make_window(record=True)
    page = window.page("Diagnostics")
    assert page.folder_label.text() == os.path.join("~/PVDesk", "recordings")
    assert "pvdesk-home" not in page.folder_label.text() and "/tmp" not in page.folder_label.text()

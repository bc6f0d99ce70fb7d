"""A bundle carrying terminal escapes and HTML: `diag summary` prints them as visible escapes, the review
window shows them as plain text."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.timeout(120)

ESCAPES = "\x1b[2J\x1b[H\x1b]0;pwned\x07\u202e"
HTML = "<b>bold</b><img src='file:///etc/passwd'><a href='http://x'>click</a>"


@pytest.fixture(scope="module")
def hostile_bundle(tmp_path_factory):
    from protocols.sim.simulator import demo_start_time

    from desktop.diag.bundle import export_bundle
    from desktop.diag.sessionlog import SessionLog
    from tests.diag.diag_helpers import synthesize
    base = tmp_path_factory.mktemp("hostile-bundle")
    s = synthesize(base / "rec", demo_start_time(8.0) - 86400, hours=0.3, step_s=10)
    log = SessionLog(s.folder)
    t = s.start_s + 60
    identity = {"model_name": f"PVD-H8K{ESCAPES}{HTML}", "serial_number": f"S{ESCAPES}"}
    alarm = {"code": 101, "text": f"Grid {ESCAPES}{HTML}", "severity": "error", "source": "alarm_word_1"}
    log.add_events([(1, t, "identity", json.dumps(identity)),
                    (1, t + 1, "error", json.dumps(f"boom {ESCAPES}{HTML}")),
                    (1, t + 2, "alarms", json.dumps({"active": [alarm], "raised": [alarm], "cleared": []}))])
    log.commit()
    log.close()
    out = base / "hostile.zip"
    export_bundle(out, recording_dir=s.folder, app_logs=base / "none", upgrade_logs=base / "none")
    return out


def test_diag_summary_never_sends_control_characters_to_the_terminal(hostile_bundle, capsys, tmp_path, monkeypatch):
    from desktop.cli import main
    monkeypatch.setenv("PVDESK_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["diag", "summary", str(hostile_bundle)]) == 0
    out = capsys.readouterr().out
    assert not [c for c in out if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]
    assert "\\x1b[2J" in out and "\\x07" in out and "\\u202e" in out  # shown, visibly, for what it is
    assert "boom" in out and "Grid" in out and "PVD-H8K" in out


def test_review_window_shows_bundle_html_as_plain_text(hostile_bundle, qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from desktop.diag.open import open_bundle
    from desktop.diag.review import ReviewData
    from desktop.ui.diagnostics.review_window import ReviewWindow
    monkeypatch.setenv("PVDESK_CACHE_DIR", str(tmp_path / "cache"))
    bundle = open_bundle(hostile_bundle)
    try:
        window = ReviewWindow(ReviewData(bundle))
        qtbot.addWidget(window)
        qtbot.wait(50)  # the bridge's answers arrive on the next turn of the event loop
        fed = [lb for lb in window.findChildren(QLabel) if "<b>bold</b>" in lb.text()]
        assert fed, "the bundle's identity reached no label"
        assert all(lb.textFormat() == Qt.TextFormat.PlainText for lb in fed)
        rich = [lb for lb in window.findChildren(QLabel) if lb.textFormat() != Qt.TextFormat.PlainText]
        assert all("<img" not in lb.text() and "<b>bold" not in lb.text() for lb in rich)
        window.close()
    finally:
        bundle.close()

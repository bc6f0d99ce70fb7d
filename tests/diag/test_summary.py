"""What stands out: alarms, link losses, implausible values and parameter changes, found where they happened."""

from __future__ import annotations

import json

from desktop.cli import main
from desktop.diag.open import open_bundle
from desktop.diag.summary import summarize_bundle


def test_summary_finds_each_event_at_its_time(synth):
    with open_bundle(synth.bundle) as bundle:
        findings = summarize_bundle(bundle)
    by_kind = {}
    for f in findings:
        by_kind.setdefault(f.kind, []).append(f)
    assert set(by_kind) == {"alarm", "link", "error", "parameter", "range"}, [f.title for f in findings]
    (alarm,) = by_kind["alarm"]
    assert alarm.title == "Alarm 101: Grid overvoltage" and alarm.severity == "error"
    assert abs(alarm.t_s - synth.alarm_s) <= 10 and abs(alarm.end_s - synth.alarm_clear_s) <= 10
    (link,) = by_kind["link"]
    assert link.t_s == synth.link_lost_s and link.title == "Link lost for 4 min 0 s"
    written, outside = sorted(by_kind["parameter"], key=lambda f: f.t_s)
    assert written.point == "export_limit_w" and written.severity == "info" and written.t_s == synth.write_s
    assert outside.point == "battery_min_soc_pct" and "10 → 20" in outside.title
    assert "not written by PVDesk" in outside.detail and abs(outside.t_s - synth.outside_change_s) <= 10
    (hot,) = by_kind["range"]
    assert hot.point == "battery_temperature_c" and "-20..60" in hot.title and "extreme 71" in hot.detail
    assert [f.t_s for f in findings] == sorted(f.t_s for f in findings)


def test_summary_command(synth, capsys):
    assert main(["diag", "summary", str(synth.bundle)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("PVD-H8K serial PVD8K001A0042,") and "personal data masked" in out[0]
    assert any("Alarm 101: Grid overvoltage" in line and "cleared after" in line for line in out)
    assert any("Link lost for 4 min 0 s" in line for line in out)
    assert main(["diag", "summary", "--json", str(synth.bundle)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["manifest"]["device"]["serial"] == "PVD8K001A0042"
    assert {f["kind"] for f in doc["findings"]} == {"alarm", "link", "error", "parameter", "range"}

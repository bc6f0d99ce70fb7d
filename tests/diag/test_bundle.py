"""Export: the manifest hashes every member, the telemetry reproduces the session, CSV, logs, clear refusals."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import zipfile

import numpy as np
import pyarrow as pa
import pytest

from protocols import codecs

from desktop.cli import main
from desktop.diag import layout
from desktop.diag.bundle import ExportError, ExportOptions, export_bundle
from desktop.diag.open import open_bundle


def test_manifest_lists_and_hashes_every_member(live, live_bundle):
    with zipfile.ZipFile(live_bundle) as zf:
        manifest = json.loads(zf.read(layout.MANIFEST))
        names = set(zf.namelist()) - {layout.MANIFEST}
        assert names == set(manifest["members"])
        for name, entry in manifest["members"].items():
            data = zf.read(name)
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"], name
    assert {layout.TELEMETRY, layout.EVENTS, layout.ALARMS, layout.FIRMWARE, layout.IDENTITY, layout.SETTINGS,
            layout.REGISTERS, layout.PROFILE, layout.TRACE} <= names
    assert manifest["format"] == layout.FORMAT and manifest["app"]["version"]
    assert manifest["device"]["serial"] == "PVD8K001A0042"
    assert manifest["device"]["identity"]["model_name"] == "PVD-H8K"
    assert manifest["time_range"]["start_s"] == live.samples[0].timestamp_s
    assert manifest["time_range"]["end_s"] == live.samples[-1].timestamp_s
    assert manifest["includes"]["telemetry_rows"] == len(live.samples)
    assert manifest["includes"]["bus_trace_frames"] > 0 and manifest["includes"]["register_image"]
    assert manifest["personal_data"] == {"masked": True, "consent": None, "customer_id": None}


def test_telemetry_reproduces_the_recorded_values(live, live_bundle):
    with open_bundle(live_bundle) as bundle:
        table = bundle.telemetry()
        assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
        assert table.schema.field("pv_power_w").metadata[b"unit"] == b"W"
        times = table.column("time").cast(pa.int64()).to_numpy()
        assert table.num_rows == len(live.samples)
        for row, sample in enumerate(live.samples):
            assert times[row] == round(sample.timestamp_s * 1e6)
            for name in ("pv_power_w", "battery_soc_pct", "grid_power_w", "ac_frequency_hz", "pv_energy_total_kwh",
                         "ambient_temperature_c", "export_limit_w"):
                cell = table.column(name)[row].as_py()
                if name not in sample.values:
                    assert cell is None, (name, row)  # a slow point not read in this cycle
                elif sample.values[name] is codecs.NOT_IMPLEMENTED:
                    assert math.isnan(cell), name
                else:
                    assert cell == float(sample.values[name]), (name, row)
        alarms = bundle.json(layout.ALARMS)
        assert [a["code"] for a in alarms["timeline"][0]["raised"]] == [101]
        assert alarms["active_at_end"] == [] and len(alarms["device_fault_history"]) >= 4
        settings = bundle.json(layout.SETTINGS)
        assert settings["writes"][0]["name"] == "export_limit_w" and settings["device_settings"]["export_limit_w"] == 3500
        firmware = bundle.json(layout.FIRMWARE)
        assert {c["component"] for c in firmware["latest"]} >= {"control", "dsp", "bms"}
        assert bundle.profile().name == "pvdesk-hybrid"


def test_csv_export_matches_the_telemetry(live, live_bundle, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["diag", "csv", str(live_bundle), "-o", str(out)]) == 0
    assert f"({len(live.samples)} rows)" in capsys.readouterr().out
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(live.samples)
    for row, sample in zip(rows, live.samples):
        assert float(row["pv_power_w"]) == sample.values["pv_power_w"]
        assert row["time"].startswith(__import__("time").strftime("%Y-%m-%d", __import__("time").gmtime(sample.timestamp_s)))
    trace = tmp_path / "trace.csv"
    assert main(["diag", "csv", "--trace", str(live_bundle), "-o", str(trace)]) == 0
    lines = trace.read_text().splitlines()
    assert lines[0] == "time,direction,bytes,frame_hex,analyser" and len(lines) > 50
    assert any(",tx," in line and "read input" in line for line in lines)


def test_upgrade_logs_and_app_log_are_included(live, tmp_path, diag_dirs):
    diag_dirs["upgrades"].mkdir(parents=True)
    upgrade = diag_dirs["upgrades"] / "unit001-1.jsonl"
    upgrade.write_text('{"t": 1, "event": "start", "component": "control"}\n{"t": 2, "event": "end"}\n')
    for serial in ("PVD8K001A0042", "OTHER0000001"):  # the firmware page keeps one folder per device
        (diag_dirs["upgrades"] / serial).mkdir()
        (diag_dirs["upgrades"] / serial / "20260101-100000-dsp-2.12.0.jsonl").write_text(f'{{"serial": "{serial}"}}\n')
    diag_dirs["logs"].mkdir(parents=True)
    (diag_dirs["logs"] / "pvdesk.log").write_text("2026-01-01 INFO desktop: connected to unit 1\n")
    result = export_bundle(tmp_path / "b.zip", recording_dir=live.folder)
    with open_bundle(result.path) as bundle:
        assert bundle.member_path("upgrade_logs/unit001-1.jsonl").read_bytes() == upgrade.read_bytes()
        own = bundle.member_path("upgrade_logs/PVD8K001A0042_20260101-100000-dsp-2.12.0.jsonl").read_bytes()
        assert b"PVD8K001A0042" in own
        assert b"connected to unit 1" in bundle.member_path("app_log/pvdesk.log").read_bytes()
    assert sorted(result.manifest["includes"]["logs"]) == [  # never another device's upgrade log
        "app_log/pvdesk.log", "upgrade_logs/PVD8K001A0042_20260101-100000-dsp-2.12.0.jsonl",
        "upgrade_logs/unit001-1.jsonl"]


def test_export_of_a_time_range_holds_only_that_range(live, tmp_path):
    middle = live.samples[len(live.samples) // 2].timestamp_s
    result = export_bundle(tmp_path / "late.zip", recording_dir=live.folder,
                           options=ExportOptions(since_s=middle, include_trace=False))
    with open_bundle(result.path) as bundle:
        t = bundle.telemetry().column("time").cast(pa.int64()).to_numpy() / 1e6
        assert not bundle.has(layout.TRACE)
    expected = [s.timestamp_s for s in live.samples if s.timestamp_s >= middle]
    assert np.allclose(t, expected, atol=1e-6, rtol=0)


def test_export_says_what_is_missing(tmp_path):
    with pytest.raises(ExportError, match="connect to a device first"):
        export_bundle(tmp_path / "x.zip", recording_dir=tmp_path / "empty")
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.part").exists()
    assert main(["diag", "export", "--recording-dir", str(tmp_path / "empty"), "-o", str(tmp_path / "y.zip")]) == 2

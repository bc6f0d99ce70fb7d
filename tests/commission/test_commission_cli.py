"""`pvdesk params list|get|set` and `pvdesk settings save|apply FILE` against the simulator over TCP."""

from __future__ import annotations

import json

from desktop.cli import main


def _conn(sim, unit=1):
    host, port = sim.tcp_address
    return ["--tcp", f"{host}:{port}", "--unit", str(unit)]


def test_params_list_get_set(sim, capsys, monkeypatch):
    assert main(["params", "list", *_conn(sim), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by = {p["name"]: p for p in listed["parameters"]}
    assert by["export_limit_w"]["value"] == 10000 and by["export_limit_w"]["allowed"] == "0 … 10000 W"
    assert by["grid_code"]["protected"] and by["grid_code"]["choices"]["3"] == "GB G98/G99"
    assert main(["params", "get", *_conn(sim), "battery_charge_limit_a"]) == 0
    assert capsys.readouterr().out.strip() == "50.0 A"

    assert main(["params", "set", *_conn(sim), "battery_min_soc_pct", "60"]) == 2
    assert "60 % is outside 5..50 %" in capsys.readouterr().err
    assert main(["params", "set", *_conn(sim), "export_limit_w", "3000"]) == 2    # no terminal, no --yes
    assert "needs a confirmation" in capsys.readouterr().err and sim.device(1).value_of("export_limit_w") == 10000
    assert main(["params", "set", *_conn(sim), "--yes", "--installer", "inst-9", "export_limit_w", "3000"]) == 0
    assert capsys.readouterr().out.strip() == "Export limit: 10000 W -> 3000 W (read back 3000 W)"
    monkeypatch.delenv("PVDESK_INSTALLER_CODE", raising=False)
    assert main(["params", "set", *_conn(sim), "--yes", "grid_code", "GB G98/G99"]) == 2
    assert "protected by the installer login" in capsys.readouterr().err
    monkeypatch.setenv("PVDESK_INSTALLER_CODE", "9999")
    assert main(["params", "set", *_conn(sim), "--yes", "grid_code", "GB G98/G99"]) == 2
    assert "did not accept the installer code" in capsys.readouterr().err
    monkeypatch.setenv("PVDESK_INSTALLER_CODE", "1234")
    assert main(["params", "set", *_conn(sim), "--yes", "grid_code", "GB G98/G99"]) == 0
    assert sim.device(1).value_of("grid_code") == 3
    sim.call(sim.device(1).refuse_writes.__setitem__, "work_mode", 3)
    assert main(["params", "set", *_conn(sim), "work_mode", "Backup"]) == 1
    assert "NOT SET" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["params", "history", *_conn(sim), "--json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    assert hist["serial"] == "PVD8K001A0042"
    assert [(e["point"], e["old"], e["new"], e["result"], e["installer"]) for e in hist["entries"]] == [
        ("export_limit_w", 10000, 3000, "ok", "inst-9"), ("grid_code", 1, 3, "ok", hist["entries"][1]["installer"]),
        ("work_mode", 0, 2, "refused", hist["entries"][2]["installer"])]


def test_settings_save_and_apply_between_two_units(sim, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PVDESK_INSTALLER_CODE", "1234")
    path = tmp_path / "u1.json"
    assert main(["params", "set", *_conn(sim), "--yes", "ct_ratio", "400"]) == 0
    assert main(["params", "set", *_conn(sim), "--yes", "export_limit_w", "6100"]) == 0
    capsys.readouterr()
    assert main(["settings", "save", *_conn(sim), str(path)]) == 0
    assert "Saved 14 settings" in capsys.readouterr().out
    assert main(["settings", "apply", *_conn(sim, 2), "--dry-run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "~ CT ratio" in out and "100 -> 400" in out and "10000 W -> 6100 W [confirm]" in out
    assert sim.device(2).value_of("ct_ratio") == 100
    assert main(["settings", "apply", *_conn(sim, 2), "--yes", str(path)]) == 0
    assert "All 2 applied." in capsys.readouterr().out
    assert sim.device(2).value_of("ct_ratio") == 400 and sim.device(2).value_of("export_limit_w") == 6100
    doc = json.loads(path.read_text())
    doc["model"]["model_code"] = 1234
    path.write_text(json.dumps(doc))
    assert main(["settings", "apply", *_conn(sim, 2), "--yes", str(path)]) == 2
    assert "made for another model" in capsys.readouterr().err

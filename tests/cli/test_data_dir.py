"""PVDESK_DATA_DIR moves every file PVDesk writes: a whole session writes nothing anywhere else.

The session is the one an installer runs from the command line: record the
demo inverter, upgrade its firmware, change a setting (commissioning), export
the diagnostics bundle; then the window opens and closes. HOME points at an empty folder and the XDG variables
are unset, so any writer that asked the platform for a folder would leave a
file under HOME. Before desktop/core/paths.py, the recordings and the
firmware logs (and the log, without PVDESK_LOG_DIR) did exactly that.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_KEY = ROOT / "tests" / "firmware" / "data" / "TEST-ONLY-pvdesk-dev-signing-key.pem"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_session_with_pvdesk_data_dir_writes_only_there(tmp_path):
    home, data, work = tmp_path / "home", tmp_path / "data", tmp_path / "work"
    for folder in (home, work):
        folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVDESK_", "XDG_"))}
    env.update(HOME=str(home), PVDESK_DATA_DIR=str(data), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")

    def pvdesk(*args: str, timeout_s: float = 90, **more_env: str) -> str:
        done = subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=work, env={**env, **more_env},
                              text=True, capture_output=True, timeout=timeout_s)
        assert done.returncode == 0, f"pvdesk {' '.join(args)}: {done.stderr}"
        return done.stdout

    (work / "control.bin").write_bytes(bytes(range(256)) * 20)
    pvdesk("firmware", "pack", "control.bin", "--key", str(TEST_KEY), "--model", "PVD-H8K", "--component", "control",
           "--version", "1.06.00", "--min-version", "1.00.00", "--hardware", "3", "-o", "control-1.06.00.pvfw")
    pvdesk("diag", "record", "--demo", "--duration", "3", "--period", "0.5")
    upgraded = pvdesk("firmware", "upgrade", "control-1.06.00.pvfw", "--demo")
    assert "1 of 1 devices upgraded" in upgraded
    pvdesk("params", "set", "--demo", "--yes", "--installer", "inst-7", "export_limit_w", "3000")
    pvdesk("diag", "export", "-o", "bundle.zip")
    assert "startup-probe shown_after_s=" in pvdesk(PVDESK_STARTUP_PROBE="1")  # the window, opened and closed

    assert _files(home) == []  # nothing under the home folder: no platform folder was asked for
    assert _files(work) == ["bundle.zip", "control-1.06.00.pvfw", "control.bin"]  # only what the user named
    written = _files(data)
    assert "recordings/session.db" in written
    assert "logs/pvdesk.log" in written
    assert "settings.ini" in written   # the window's settings (Qt would use ~/.config/PVDesk otherwise)
    assert any(f.startswith("firmware-logs/") and f.endswith("/unit001-0.jsonl") for f in written), written
    assert any(f.startswith("commissioning/history/") and f.endswith(".jsonl") for f in written), written
    history = next(data.glob("commissioning/history/*.jsonl")).read_text(encoding="utf-8")
    assert '"point": "export_limit_w"' in history and "inst-7" in history

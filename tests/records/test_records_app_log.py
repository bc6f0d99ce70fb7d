"""Through the real `pvdesk` entry point: the app's log file (at debug level) holds no personal data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from records_helpers import assert_no_plaintext, sample

REPO = Path(__file__).resolve().parents[2]


def test_pvdesk_records_commands_keep_personal_data_out_of_the_log(make_service, tmp_path, moto_endpoint,
                                                                   bucket):
    svc = make_service("app")
    rid = svc.add_customer(sample())
    svc.grant_consent(rid, "cloud_sync", "paper")
    svc.configure_sync(moto_endpoint, bucket)
    svc.create_sync_key()
    svc.close()
    logs = tmp_path / "logs"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PVDESK_LOG_DIR": str(logs),
           "PVDESK_DATA_DIR": str(tmp_path / "unused"), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing"}

    def pvdesk(*argv):
        return subprocess.run([sys.executable, "-m", "desktop.cli", "--debug", *argv], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=40)

    d = ["--data-dir", str(tmp_path / "app")]
    out = pvdesk("records", "show", rid, *d)
    assert out.returncode == 0, out.stderr[-1500:]
    assert json.loads(out.stdout)["name"] == "Margarethe Quellenbach"
    sync = pvdesk("sync", *d)
    assert sync.returncode == 0 and "1 uploaded" in sync.stdout, sync.stderr[-1500:]
    text = b"".join(p.read_bytes() for p in logs.glob("*.log*"))
    assert b"records store open" in text, sorted(p.name for p in logs.glob("*"))  # the log was written
    assert_no_plaintext(text, sample(), "app log")
    assert_no_plaintext(sync.stderr.encode(), sample(), "debug console output")

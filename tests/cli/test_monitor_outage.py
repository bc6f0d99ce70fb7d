"""`pvdesk monitor --csv` rides through an outage: keeps polling with backoff, writes gap rows, resumes.

Pins the bug "`pvdesk monitor --csv` stops for good at the first outage longer
than a few seconds": the simulator's link is dropped for 4 s (connections
closed and refused) while a real `pvdesk monitor` process records.
"""

import csv
import os
import subprocess
import sys
import time


def _rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_monitor_csv_rides_through_a_four_second_outage(sim, tmp_path):
    path = str(tmp_path / "log.csv")
    host, port = sim.tcp_address
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "monitor", "--tcp", f"{host}:{port}",
                             "--interval", "0.3", "--timeout", "0.3", "--count", "10", "--csv", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(_rows(path)) < 4 and time.monotonic() < deadline:   # header + 3 samples
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        sim.drop_link(4.0)
        dropped_at = time.time()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    rows = _rows(path)
    header, body = rows[0], rows[1:]
    assert header[0] == "time_utc" and header[-1] == "status"
    ok = [r for r in body if r[-1] == "ok"]
    gaps = [r for r in body if r[-1].startswith("no data")]
    assert len(ok) == 10, "every sample asked for was recorded in the end"
    assert gaps, "the outage left no gap row"
    assert all(v == "" for r in gaps for v in r[1:-1]), "a gap row carries no values"
    first_gap = body.index(gaps[0])
    assert all(r[-1] == "ok" for r in body[:first_gap]) and body[-1][-1] == "ok"   # resumed after the gap
    assert any(float(v) > 0 for v in body[-1][1:3])                               # real values again
    assert "resumed" in out
    assert time.time() - dropped_at >= 3.5        # it waited out the outage instead of giving up

"""Diagnostics bundle: time and peak memory to export and to open 7 days at 1 Hz with 60 points.

Target: open in under 2 s and under 500 MB.

The recording (604,800 samples x 60 points, about 36 million values) is
written with the session log's own API (the format the recorder writes);
then the bundle is made by the real export code (``export_bundle``: session
log -> Parquet -> zip with hashed manifest) and opened by the real open code
(``open_bundle``: every check and every SHA-256, unpacked into the cache,
then the whole telemetry table loaded). Each phase runs in a fresh process,
so its peak is its own; time and RSS come from a plain run, Python's peak
from a second run under tracemalloc (which slows Python down). Memory is
reported three ways:

  py_peak     tracemalloc's peak: memory allocated by Python objects only
  arrow_peak  pyarrow's memory pool peak (Arrow buffers, which tracemalloc does not see)
  rss_peak    the process's peak resident set size (VmHWM from /proc on Linux, ru_maxrss elsewhere):
              everything, incl. the interpreter and its imports -- the number the target means

The signals are realistic in shape (a day curve, noise, steps, counters,
values with 0.1 resolution), so compression and time are not flattered by
constant columns. Runs in a temporary folder it removes afterwards.

    .venv/bin/python benchmarks/diag.py [--days 7] [--points 60] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    """Peak resident set size of this process: VmHWM on Linux (reset by exec), else ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024


def synthesize(folder: Path, days: int, points: int) -> int:
    import numpy as np

    from desktop.diag.sessionlog import SessionLog
    names = [f"point_{i:02d}_w" for i in range(points)]
    doc = {"profile": {"name": "bench", "title": "Benchmark device", "vendor": "PVDesk"},
           "points": [{"name": n, "address": 2 * i, "type": "s32", "function": "input", "unit": "W",
                       "range": [-20000, 20000], "scale": 0.1} for i, n in enumerate(names)]}
    log = SessionLog(folder)
    start = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    sid = log.begin_session(start, {"label": "benchmark"}, doc, names, 1, "bench")
    log.set_serial(sid, "BENCH0001")
    rng = np.random.default_rng(7)
    present = np.packbits(np.ones(points, dtype=bool)).tobytes()
    phase = rng.uniform(0, 2 * np.pi, points)
    amp = rng.uniform(100, 8000, points)
    for day in range(days):
        t = start + day * 86400 + np.arange(86400, dtype=np.float64)
        day_curve = np.clip(np.sin((t % 86400) / 86400 * 2 * np.pi - np.pi / 2), 0, None)
        m = amp * day_curve[:, None] * (0.8 + 0.2 * np.sin(t[:, None] / 900 + phase))
        m += rng.normal(0, 15, (86400, points))
        m[:, ::7] = np.floor(t[:, None] / 3600) % 5 * 100  # steps
        m[:, 3::11] = (t[:, None] - start) * 0.01  # counters
        m = np.round(m, 1)
        rows = [(float(t[i]), m[i].tobytes(), present, None) for i in range(86400)]
        log.add_samples(sid, rows)
        log.commit()
    log.end_session(sid, start + days * 86400)
    log.commit()
    log.close()
    return days * 86400


def phase_export(work: Path, trace: bool) -> dict:
    import tracemalloc

    import pyarrow as pa

    from desktop.diag.bundle import ExportOptions, export_bundle
    base = _rss_mb()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = export_bundle(work / "week.zip", recording_dir=work / "rec",
                           options=ExportOptions(include_app_log=False, include_upgrade_logs=False),
                           app_logs=work / "none", upgrade_logs=work / "none")
    seconds = time.perf_counter() - t0
    py_peak = tracemalloc.get_traced_memory()[1]
    return {"seconds": seconds, "py_peak_mb": py_peak / 2**20, "arrow_peak_mb": pa.default_memory_pool().max_memory() / 2**20,
            "rss_peak_mb": _rss_mb(), "rss_before_mb": base, "bytes": result.size_bytes,
            "rows": result.manifest["includes"]["telemetry_rows"]}


def phase_open(work: Path, trace: bool) -> dict:
    import tracemalloc

    import pyarrow as pa

    from desktop.diag.open import open_bundle
    base = _rss_mb()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    bundle = open_bundle(work / "week.zip", cache=work / "cache")
    t_checked = time.perf_counter() - t0
    table = bundle.telemetry()
    seconds = time.perf_counter() - t0
    py_peak = tracemalloc.get_traced_memory()[1]
    values = table.num_rows * (table.num_columns - 2)
    out = {"seconds": seconds, "checked_s": t_checked, "py_peak_mb": py_peak / 2**20,
           "arrow_peak_mb": pa.default_memory_pool().max_memory() / 2**20, "rss_peak_mb": _rss_mb(),
           "rss_before_mb": base, "values": values, "rows": table.num_rows}
    bundle.close()
    return out


def _child(phase: str, work: Path, days: int = 7, points: int = 60, trace: bool = False) -> dict:
    """Run one phase in a fresh process (its own peak memory); returns its JSON line."""
    out = subprocess.run([sys.executable, __file__, "--phase", phase, "--days", str(days), "--points", str(points),
                          *(["--trace-python"] if trace else []), str(work)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measured(phase: str, work: Path) -> dict:
    """Time and RSS from a plain run; Python's peak from a second run under tracemalloc (which slows Python)."""
    result = _child(phase, work)
    result["py_peak_mb"] = _child(phase, work, trace=True)["py_peak_mb"]
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--points", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--phase", choices=["synth", "export", "open"], help=argparse.SUPPRESS)
    ap.add_argument("--trace-python", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("work", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "synth":
        print(json.dumps({"rows": synthesize(args.work / "rec", args.days, args.points)}))
        return 0
    if args.phase:
        result = (phase_export if args.phase == "export" else phase_open)(args.work, args.trace_python)
        print(json.dumps(result))
        return 0
    work = Path(tempfile.mkdtemp(prefix="pvdesk-bench-diag-"))
    os.environ["PVDESK_LOG_DIR"] = str(work / "logs")
    try:
        t0 = time.perf_counter()
        rows = _child("synth", work, args.days, args.points)["rows"]
        rec_mb = (work / "rec" / "session.db").stat().st_size / 2**20
        print(f"recording: {rows:,} samples x {args.points} points = {rows * args.points / 1e6:.1f} M values, "
              f"session log {rec_mb:.0f} MB (synthesised in {time.perf_counter() - t0:.1f} s, not measured)")
        e = _measured("export", work)
        print(f"export: {e['seconds']:.2f} s   bundle {e['bytes'] / 2**20:.0f} MB ({e['rows']:,} rows)   "
              f"py_peak {e['py_peak_mb']:.0f} MB   arrow_peak {e['arrow_peak_mb']:.0f} MB   "
              f"rss_peak {e['rss_peak_mb']:.0f} MB (after imports {e['rss_before_mb']:.0f} MB)")
        o = _measured("open", work)
        ok = o["seconds"] < 2.0 and o["rss_peak_mb"] < 500
        print(f"open:   {o['seconds']:.2f} s (checks and hashes {o['checked_s']:.2f} s, then the table)   "
              f"{o['values'] / 1e6:.1f} M values   py_peak {o['py_peak_mb']:.0f} MB   "
              f"arrow_peak {o['arrow_peak_mb']:.0f} MB   rss_peak {o['rss_peak_mb']:.0f} MB "
              f"(after imports {o['rss_before_mb']:.0f} MB)")
        print(f"target: open < 2 s and < 500 MB: {'met' if ok else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The hostile-input counts of issue 19: tried / refused / refused with a clear message / device bytes written.

Runs every case of tests/hostile/hostile_cases.py the way a user meets it,
against the real simulator (Modbus TCP on loopback, its unit 1 counting every
register byte written to it):

- packages: read_package, then the real Upgrader (what `firmware upgrade` does);
- writes: ParamSession.write of what was typed;
- settings files: settings_file.load + apply;
- export targets: a settings file, a fault list CSV and a firmware package
  written onto a symlink, a folder, a named pipe, a character device, a
  dangling symlink;
- bundles: a bundle carrying terminal escapes and HTML through `diag summary`.

"Clear" means one line that names the check or the setting (and no Python
exception name or codec jargon). The baseline, measured in the same run, is
the control cases that must go through: a good package, typed values with
units ("5 kW" is 5000 W), a good settings file; their device bytes show the
counter counts.

Run:  .venv/bin/python benchmarks/hostile.py
Exit status 0 when every hostile case is refused clearly with 0 device bytes and every control passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests" / "hostile", ROOT / "tests" / "firmware", ROOT / "tests" / "diag"):
    sys.path.insert(0, str(extra))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
warnings.simplefilter("ignore", UserWarning)  # zipfile's "Duplicate name" while building the duplicate cases

import hostile_cases as H
from fw_helpers import open_device, package_bytes, start_sim


class Tally:
    def __init__(self, kind: str) -> None:
        self.kind, self.tried, self.refused, self.clear, self.device_bytes, self.misses = kind, 0, 0, 0, 0, []

    def add(self, case, outcome) -> None:
        self.tried += 1
        self.refused += outcome.refused
        ok = H.clear(case, outcome)
        self.clear += ok
        self.device_bytes += outcome.device_bytes
        if not ok or outcome.device_bytes:
            self.misses.append(f"{case.name}: {outcome.message[:120]}")


async def run_device_cases(sim, tmp: Path):
    from desktop.commission import settings_file
    from desktop.commission.params import ParamSession
    from desktop.commission.storage import WriteHistory
    device = await open_device(sim)
    tallies = {k: Tally(k) for k in ("package", "write", "settings")}
    for case, build in H.PACKAGE_CASES:
        tallies["package"].add(case, await H.try_package(build(), device, sim))
    session = ParamSession(device, "bench", WriteHistory(tmp / "history"))
    for case, name, value in H.WRITE_CASES:
        tallies["write"].add(case, await H.try_write(session, sim, name, value))
    doc = await settings_file.capture(device, "bench")
    doc["settings"]["export_limit_w"]["value"] = 4321
    for i, (case, change) in enumerate(H.SETTINGS_CASES):
        bad = json.loads(json.dumps(doc))
        change(bad)
        tallies["settings"].add(case, await H.try_settings(bad, tmp / f"s{i}.json", session, sim))
    # the baseline: what must go through, with the same counter
    controls = []
    good = await H.try_package(package_bytes(), device, sim)
    controls.append(("good package upgraded", good.value == "upgraded", good.device_bytes))
    for case, name, typed, want in H.MEANT_CASES:
        o = await H.try_write(session, sim, name, typed)
        held = (await device.read_names([name]))[name]
        controls.append((f"{typed!r} -> {want} {case.name.split(' on ')[0]}", not o.refused and math.isclose(held, want),
                         o.device_bytes))
    fresh = json.loads(json.dumps(doc))
    fresh["settings"]["export_limit_w"]["value"] = 2500
    o = await H.try_settings(fresh, tmp / "good.json", session, sim)
    controls.append(("good settings file applied", not o.refused, o.device_bytes))
    await device.session.close()
    return tallies, controls


def run_exports(tmp: Path) -> Tally:
    from desktop.cli import main
    from desktop.commission import settings_file
    from desktop.ui.device.faults_model import write_csv
    tmp.mkdir(parents=True, exist_ok=True)
    image = tmp / "control.bin"
    image.write_bytes(b"\x01" * 2000)
    doc = {"format": "pvdesk-settings/1", "profile": "pvdesk-hybrid", "model": {"model_name": "PVD-H8K"},
           "serial": "X", "settings": {}}

    def pack(target):
        with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
            code = main(["firmware", "pack", str(image), "--key", str(H.TEST_KEY), "--model", "PVD-H8K",
                         "--component", "control", "--version", "1.05.00", "-o", str(target)])
        if code:
            raise RuntimeError(err.getvalue().strip().removeprefix("pvdesk: "))
    writers = {"settings file": lambda t: settings_file.save(doc, t), "fault CSV": lambda t: write_csv(str(t), []),
               "firmware package": pack}
    tally = Tally("export")
    for name, write in writers.items():
        for case, target, untouched in H.export_targets(tmp / name.replace(" ", "-")):
            outcome = H.try_export(write, target)
            if outcome.message.startswith("RuntimeError: "):  # the CLI's own one line
                outcome.message = outcome.message.removeprefix("RuntimeError: ")
            outcome.device_bytes = 0 if untouched() else 1  # "bytes written" here: the target was changed
            tally.add(case, outcome)
    return tally


def run_bundle(tmp: Path) -> Tally:
    """The hostile bundle of tests/hostile/test_hostile_bundles.py through `diag summary`."""
    import test_hostile_bundles as B
    from diag_helpers import synthesize

    from protocols.sim.simulator import demo_start_time

    from desktop.cli import main
    from desktop.diag.bundle import export_bundle
    from desktop.diag.sessionlog import SessionLog
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["PVDESK_CACHE_DIR"] = str(tmp / "cache")
    s = synthesize(tmp / "rec", demo_start_time(8.0) - 86400, hours=0.3, step_s=10)
    log = SessionLog(s.folder)
    t = s.start_s + 60
    texts = {"identity": {"model_name": f"PVD{B.ESCAPES}", "serial_number": f"S{B.ESCAPES}"},
             "error": f"boom {B.ESCAPES}",
             "alarms": {"active": [], "raised": [{"code": 101, "text": f"Grid {B.ESCAPES}", "severity": "error"}],
                        "cleared": []}}
    log.add_events([(1, t + i, kind, json.dumps(v)) for i, (kind, v) in enumerate(texts.items())])
    log.commit()
    log.close()
    out = tmp / "hostile.zip"
    export_bundle(out, recording_dir=s.folder, app_logs=tmp / "none", upgrade_logs=tmp / "none")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["diag", "summary", str(out)])
    printed = buf.getvalue()
    tally = Tally("bundle")
    raw = any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in printed)
    for field, shown in (("identity", "PVD\\x1b[2J"), ("error", "boom \\x1b[2J"), ("alarms", "Grid \\x1b[2J")):
        case = H.Case("bundle", f"escapes in the {field}", "\\x1b")
        ok = not raw and shown in printed
        tally.add(case, H.Outcome(ok, f"{shown} shown as text" if ok else f"{field}: raw or missing in the output"))
    return tally


def main() -> int:
    t0 = time.perf_counter()
    sim = start_sim()
    H.count_device_writes(sim)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.setdefault("PVDESK_DATA_DIR", str(Path(tmp) / "data"))
            tallies, controls = asyncio.run(run_device_cases(sim, Path(tmp)))
            tallies["export"] = run_exports(Path(tmp) / "exports")
            tallies["bundle"] = run_bundle(Path(tmp) / "bundle")
    finally:
        sim.stop()
    print(f"hostile inputs (issue 19), {time.perf_counter() - t0:.1f} s")
    print(f"  {'kind':<10} {'tried':>5} {'refused':>8} {'clear':>6} {'device bytes written':>21}")
    total = Tally("total")
    for t in tallies.values():
        print(f"  {t.kind:<10} {t.tried:>5} {t.refused:>8} {t.clear:>6} {t.device_bytes:>21}")
        for k in ("tried", "refused", "clear", "device_bytes"):
            setattr(total, k, getattr(total, k) + getattr(t, k))
        total.misses += t.misses
    print(f"  {'all':<10} {total.tried:>5} {total.refused:>8} {total.clear:>6} {total.device_bytes:>21}")
    print("  (bundle: 'refused' = escaped on the terminal; export: device bytes = targets changed)")
    print("baseline in the same run: controls that must go through")
    for text, ok, nbytes in controls:
        print(f"  {'ok  ' if ok else 'FAIL'} {text:<44} {nbytes:>8} device bytes")
    for miss in total.misses:
        print(f"  miss: {miss}")
    good = (not total.misses and total.refused == total.tried and total.clear == total.tried
            and all(ok for _, ok, _ in controls))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

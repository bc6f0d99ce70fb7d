"""Make docs/screenshots/review.png and docs/screenshots/diagnostics.png (offscreen Qt).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.diag.make_screenshots [review] [diagnostics]   (from the root)

The review shows a synthesised day of the simulated inverter (an alarm, a
link loss, a write, a change made elsewhere, a hot battery reading); the
Diagnostics page sits in the main window, connected to the demo inverter,
with a customer record whose consent is missing (so the bundle is masked).
Everything lives in a temporary folder, which the window shows as ~/PVDesk
(PVDESK_DISPLAY_DATA_DIR), so no picture shows a temporary path.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]


def settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    only = set(sys.argv[1:]) or {"review", "diagnostics"}
    work = Path(tempfile.mkdtemp(prefix="pvdesk-shots-"))
    data_dir = work / "data"   # every folder under it: the window shows it as ~/PVDesk, never the temporary path
    for name, sub in (("PVDESK_RECORDINGS_DIR", "recordings"), ("PVDESK_CACHE_DIR", "cache"),
                      ("PVDESK_LOG_DIR", "logs"), ("PVDESK_UPGRADE_LOG_DIR", "firmware-logs")):
        os.environ[name] = str(data_dir / sub)
    os.environ["PVDESK_DATA_DIR"] = str(data_dir)
    os.environ["PVDESK_DISPLAY_DATA_DIR"] = "~/PVDesk"
    from protocols.sim.simulator import demo_start_time

    from desktop.diag.bundle import export_bundle
    from desktop.ui.shell.application import make_application
    from tests.diag.diag_helpers import synthesize

    app = make_application()
    out = ROOT / "docs" / "screenshots"
    day = synthesize(data_dir / "recordings", demo_start_time(5.0) - 86400, hours=14, step_s=5, keep_samples=False)
    bundle = work / "pvdesk-diagnostics-PVD8K001A0042.zip"
    export_bundle(bundle, recording_dir=data_dir / "recordings")

    if "review" in only:
        render_review(app, bundle, day, out)
    if "diagnostics" in only:
        render_diagnostics(app, work, data_dir, out)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {', '.join(str(out / f'{n}.png') for n in sorted(only))}")
    return 0


def render_review(app, bundle, day, out) -> None:
    from desktop.ui.diagnostics.review_window import ReviewWindow, load_review
    data, error = load_review(bundle)
    assert error is None, error
    review = ReviewWindow(data)
    review.resize(1440, 1000)
    review.show()
    review.tabs.setCurrentWidget(review.dashboard)
    review.show_time(day.alarm_s + 2 * 3600, 6 * 3600)
    settle(app, 1.0)
    review.grab().save(str(out / "review.png"))
    review.close()


def render_diagnostics(app, work, data_dir, out) -> None:
    from PySide6.QtCore import QSettings

    from desktop.app import compose
    from desktop.device.connect import Target
    from desktop.records.service import RecordsService
    records = RecordsService(data_dir / "records", "inst-042", passphrase="screenshot only", scrypt_n=2**12)
    rid = records.add_customer({"name": "John Smith", "phone": "+49 30 1234567", "email": "john.smith@example.com",
                                "postal_address": "Hauptstr. 5, 10115 Berlin",
                                "sites": [{"name": "Home", "latitude": 52.520008, "longitude": 13.404954}]})
    composed = compose(QSettings(str(work / "ui.ini"), QSettings.Format.IniFormat), watch_ports=False)
    composed.records.service = records  # opened above with a passphrase
    window, service, page = composed.window, composed.service, composed.pages["Diagnostics"]
    page.trace_box.setChecked(True)
    window.resize(1440, 900)
    window.show()
    window.show_page("Diagnostics")
    service.connect(Target(demo=True)).result(20)
    settle(app, 4.0)
    page.reload_customers()
    page.customer_box.setCurrentIndex(page.customer_box.findData(rid))
    done = []
    page.exported.connect(done.append)
    page.export_to(work / "pvdesk-diagnostics-PVD8K001A0042-site.zip")
    end = time.monotonic() + 20
    while not done and time.monotonic() < end:
        settle(app, 0.1)
    page.refresh_status()
    settle(app, 0.5)
    window.grab().save(str(out / "diagnostics.png"))
    page.recorder.stop()
    service.shutdown()
    records.close()


if __name__ == "__main__":
    sys.exit(main())

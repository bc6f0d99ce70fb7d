"""The Firmware page, offscreen, against the simulator through a real I/O thread and Qt signals."""
from __future__ import annotations

import asyncio
import itertools
import os
import threading
from pathlib import Path

import pytest
from fw_helpers import FAST, IMAGE_BYTES, open_device, package_bytes
from PySide6.QtCore import QObject, Signal, Slot

pytestmark = [pytest.mark.gui, pytest.mark.timeout(40)]
# docs/screenshots/firmware.png is refreshed with PVDESK_SCREENSHOT_DIR=docs/screenshots.


class ThreadRunner(QObject):
    """The page's Runner: an asyncio loop in its own thread, results back as Qt signals."""

    _result = Signal(int, bool, object)
    _progress = Signal(int, object)

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.device = None
        self._ids = itertools.count(1)
        self._callbacks: dict = {}
        self._closed = False
        self._result.connect(self._deliver)
        self._progress.connect(self._deliver_progress)

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def submit(self, coro_factory, on_done, on_error, on_progress=None, exclusive=False):
        task_id = next(self._ids)
        self._callbacks[task_id] = (on_done, on_error, on_progress)

        async def go():
            assert threading.current_thread() is self.thread
            try:
                coro = coro_factory(lambda info: self._progress.emit(task_id, info)) if on_progress \
                    else coro_factory()
                self._result.emit(task_id, True, await coro)
            except Exception as exc:
                self._result.emit(task_id, False, exc)
        asyncio.run_coroutine_threadsafe(go(), self.loop)
        return task_id

    def call_device(self, fn, on_done=None, on_error=None):
        async def go():
            if self.device is None:
                raise RuntimeError("not connected")
            return await fn(self.device)
        return self.submit(go, on_done, on_error)

    @Slot(int, bool, object)
    def _deliver(self, task_id, ok, value):
        if self._closed:   # the test is over: its page may be deleted already (as the real Bridge detaches)
            return
        on_done, on_error, _ = self._callbacks.pop(task_id)
        (on_done if ok else on_error)(value)

    @Slot(int, object)
    def _deliver_progress(self, task_id, info):
        cb = self._callbacks.get(task_id, (None, None, None))[2]
        if cb:
            cb(info)

    def close(self):
        self._closed = True
        self.run(_cancel_the_rest())   # a read still running ends here, not when the loop is gone
        if self.device is not None:
            self.run(self.device.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def _cancel_the_rest() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def runner(sim):
    r = ThreadRunner()
    r.device = r.run(open_device(sim))
    yield r
    r.close()


def make_page(qtbot, runner, tmp_path):
    from desktop.ui.firmware.page import FirmwarePage
    page = FirmwarePage(runner, options=FAST, log_dir=tmp_path / "logs")
    page.confirmations = []
    page.confirm_upgrade = lambda text: page.confirmations.append(text) or True
    qtbot.addWidget(page)
    page.resize(1180, 760)
    qtbot.waitUntil(lambda: page.components.rowCount() == 5, timeout=5000)
    return page


def ready_page(qtbot, runner, tmp_path, **package):
    """A page with a valid package chosen and its checks passed (the upgrade button enabled)."""
    page = make_page(qtbot, runner, tmp_path)
    path = tmp_path / "fw.pvfw"
    path.write_bytes(package_bytes(**package))
    page.set_package(str(path))
    qtbot.waitUntil(page.upgrade_button.isEnabled, timeout=5000)
    return page


def cell(table, row, col):
    return table.item(row, col).text()


def test_versions_and_a_refused_package(qtbot, runner, tmp_path):
    page = make_page(qtbot, runner, tmp_path)
    assert [cell(page.components, r, 0) for r in range(5)] == [
        "Control board", "DSP", "Communication module", "Battery BMS", "Grid meter"]
    assert cell(page.components, 0, 1) == "1.04.02" and cell(page.components, 0, 2) == "3"
    assert cell(page.components, 0, 3) == "PVD8K001A0042" and "PVD-H8K" in page.device_label.text()
    bad = tmp_path / "h5k.pvfw"
    bad.write_bytes(package_bytes(models=["PVD-H5K"]))
    page.set_package(str(bad))
    qtbot.waitUntil(lambda: page.checks.rowCount() == 9, timeout=5000)
    results = {cell(page.checks, r, 0): cell(page.checks, r, 1) for r in range(9)}
    assert results["model"] == "✘ FAIL" and results["signature"] == "✔ pass"
    assert not page.upgrade_button.isEnabled()


def test_upgrade_with_progress_cancel_rules_log_and_screenshot(qtbot, runner, sim, tmp_path, monkeypatch):
    # the logs live in the data folder, shown as the screenshot scripts show it (no temporary path on screen)
    monkeypatch.setenv("PVDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PVDESK_DISPLAY_DATA_DIR", "~/PVDesk")
    page = make_page(qtbot, runner, tmp_path)
    page.show()
    path = tmp_path / "control-1.05.00.pvfw"
    path.write_bytes(package_bytes(notes="Faster MPPT scan; export limit ramp"))
    page.set_package(str(path))
    qtbot.waitUntil(page.upgrade_button.isEnabled, timeout=5000)
    assert all(cell(page.checks, r, 1) == "✔ pass" for r in range(page.checks.rowCount()))
    seen = []
    original = page._on_progress

    def spy(e):
        original(e)
        if e.get("type") == "progress":
            seen.append((e["phase"], page.cancel_button.isEnabled()))
    page._on_progress = spy
    sim.set_delay(0.004)  # slow enough to watch the bar move
    page.upgrade_button.click()
    assert not page.upgrade_button.isEnabled() and not page.choose_button.isEnabled()
    qtbot.waitUntil(lambda: page.progress.value() >= 550, timeout=10000)
    assert "KiB/s" in page.rate_label.text() and page.eta_label.text().endswith("s")
    assert page.cancel_button.isEnabled()
    assert page.log_path_label.text().startswith("Log file: ~/PVDesk/logs/") and str(tmp_path) not in \
        page.log_path_label.text()
    shot = Path(os.environ.get("PVDESK_SCREENSHOT_DIR", tmp_path)) / "firmware.png"
    assert page.grab().save(str(shot)) and shot.stat().st_size > 20_000
    sim.set_delay(0.0)
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=20000)
    assert page.last_result.outcome == "upgraded", page.last_result.message
    assert "Upgraded" in page.result_label.text()
    qtbot.waitUntil(lambda: cell(page.components, 0, 1) == "1.05.00", timeout=5000)
    # Cancel was offered while uploading and never after the activation.
    assert any(phase == "upload" and enabled for phase, enabled in seen)
    assert not any(enabled for phase, enabled in seen if phase in ("activate", "reboot", "health", "confirm"))
    text = page.log_view.toPlainText()
    for event in ("checks", "backup", "uploaded", "verified", "back", "healthy", "confirmed", "settings", "end"):
        assert f" {event} " in text or text.rstrip().endswith(event), event
    logs = list((tmp_path / "logs").glob("*.jsonl"))
    assert len(logs) == 1 and page.log_path_label.text() == f"Log file: ~/PVDesk/logs/{logs[0].name}"


def test_cancel_leaves_the_old_image(qtbot, runner, sim, tmp_path):
    page = ready_page(qtbot, runner, tmp_path)
    sim.set_delay(0.004)
    page.upgrade_button.click()
    qtbot.waitUntil(lambda: page.progress.value() >= 200, timeout=10000)
    page.cancel_button.click()
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=10000)
    sim.set_delay(0.0)
    assert page.last_result.outcome == "cancelled"
    assert "Cancelled" in page.result_label.text()
    assert page.last_result.bytes_sent < IMAGE_BYTES
    assert sim.call(sim.device(1).value_of, "fw_control_version") == "1.04.02"
    assert sim.device(1).bootloader.activations == 0


def test_downgrade_asks_and_a_no_writes_nothing(qtbot, runner, sim, tmp_path):
    page = make_page(qtbot, runner, tmp_path)
    path = tmp_path / "old.pvfw"
    path.write_bytes(package_bytes(version="1.03.00", min_version=None))
    page.set_package(str(path))
    qtbot.waitUntil(lambda: page.checks.rowCount() == 9, timeout=5000)
    assert not page.upgrade_button.isEnabled()
    page.downgrade_box.setChecked(True)
    qtbot.waitUntil(page.upgrade_button.isEnabled, timeout=5000)
    asked = []
    page.confirm_downgrade = lambda text: asked.append(text) or False
    page.upgrade_button.click()
    assert asked == ["control: 1.04.02 -> 1.03.00"] and not page.running
    assert sim.device(1).bootloader.writes == 0


def test_upgrade_asks_first_naming_serial_versions_and_outage_and_a_no_writes_nothing(qtbot, runner, sim, tmp_path):
    page = ready_page(qtbot, runner, tmp_path)
    page.confirm_upgrade = lambda text: page.confirmations.append(text) or False
    page.upgrade_button.click()
    [question] = page.confirmations
    assert "PVD8K001A0042" in question and "from 1.04.02 to 1.05.00" in question
    assert "stops feeding in" in question and "minute" in question
    assert not page.running and sim.device(1).bootloader.writes == 0


def test_upgrade_question_defaults_to_no(qtbot):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.ui.shell.confirm_dialogs import confirm_upgrade, upgrade_minutes
    assert upgrade_minutes(0) == 2 and upgrade_minutes(240 * 1000) == 7   # 1000 chunks x 0.3 s + 90 s
    seen = {}

    def press_enter():
        box = QApplication.activeModalWidget()
        seen["default"] = box.defaultButton().text() if isinstance(box, QMessageBox) else None
        box.done(box.standardButton(box.defaultButton()) if isinstance(box, QMessageBox) else 0)
    from PySide6.QtCore import QTimer
    QTimer.singleShot(100, press_enter)
    assert confirm_upgrade(None, "Upgrade?") is False
    assert seen["default"] == "&No" or seen["default"] == "No"


def test_downgrade_question_defaults_to_no(qtbot):
    """Enter on the downgrade question installs nothing (it was a plain QMessageBox.question before)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.ui.shell.confirm_dialogs import confirm_downgrade
    seen = {}

    def press_enter():
        box = QApplication.activeModalWidget()
        seen["default"] = box.defaultButton().text() if isinstance(box, QMessageBox) else None
        seen["text"] = box.text() if isinstance(box, QMessageBox) else ""
        box.done(box.standardButton(box.defaultButton()) if isinstance(box, QMessageBox) else 0)
    QTimer.singleShot(100, press_enter)
    assert confirm_downgrade(None, "inverter: 1.2.0 -> 1.1.0") is False
    assert seen["default"] in ("&No", "No") and "1.2.0 -> 1.1.0" in seen["text"]


def test_link_lost_during_the_upload_says_so_at_once_with_the_offset_and_no_time_left(qtbot, runner, sim, tmp_path):
    page = ready_page(qtbot, runner, tmp_path)
    sim.set_delay(0.004)
    page.upgrade_button.click()
    qtbot.waitUntil(lambda: page.progress.value() >= 300, timeout=10000)
    shown = page.progress.value()
    sim.drop_link(2.0)
    qtbot.waitUntil(lambda: page.phase_label.text().startswith("Link lost"), timeout=5000)
    text = page.phase_label.text()
    assert "waiting to resume from offset" in text
    offset = int(text.split("offset ")[1].split()[0])
    assert 0 < offset < IMAGE_BYTES
    assert page.eta_label.text() == "–" and page.rate_label.text() == "–"
    assert page.progress.value() >= shown           # the bar keeps what was sent, it does not jump to 0
    sim.set_delay(0.0)
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=30000)
    assert page.last_result.outcome == "upgraded", page.last_result.message


def test_a_new_link_clears_the_previous_devices_upgrade(qtbot, runner, sim, tmp_path):
    page = ready_page(qtbot, runner, tmp_path)
    page.upgrade_button.click()
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=20000)
    assert "Upgraded" in page.result_label.text() and page.log_view.toPlainText()
    page._on_link_opened({"label": "another inverter"})     # what the bridge's linkOpened calls
    assert page.last_result is None and page.result_label.text() == "" and page.log_path_label.text() == ""
    assert page.progress.value() == 0 and page.log_view.toPlainText() == "" and page.eta_label.text() == "–"
def test_an_image_left_in_test_mode_is_offered_to_confirm_not_called_the_same_version(qtbot, runner, sim, tmp_path):
    from test_testmode import _leave_in_test_mode

    from protocols.firmware.registers import Result, State
    sim.call(setattr, sim.device(1).bootloader, "test_timeout_s", 20.0)
    runner.run(_leave_in_test_mode(sim))
    page = make_page(qtbot, runner, tmp_path)
    qtbot.waitUntil(lambda: page.pending is not None, timeout=5000)
    assert not page.pending_box.isHidden() and "control 1.05.00 runs in test mode" in page.pending_box.label.text()
    path = tmp_path / "control-1.05.00.pvfw"
    path.write_bytes(package_bytes())
    page.set_package(str(path))
    qtbot.waitUntil(lambda: page.report is not None, timeout=5000)
    failed = {r.check: r.detail for r in page.report.results if not r.ok}
    assert list(failed) == ["bootloader state"] and "same version" not in " ".join(failed.values())
    assert not page.upgrade_button.isEnabled()
    page.pending_box.confirm_button.click()
    qtbot.waitUntil(lambda: page.pending is None and not page.running, timeout=15000)
    assert "Confirmed" in page.result_label.text()
    bl = sim.device(1).bootloader
    assert sim.call(lambda: (bl.state, bl.last_result)) == (State.IDLE, Result.CONFIRMED)

"""`pvdesk --self-test`: prove an installation works, end to end, on this machine.

Runs on the main thread (the simulator in its own thread). Steps: start the
embedded simulator, connect over loopback TCP, read a snapshot and check it is
physically consistent, render a live plot offscreen, open and close an
encrypted records store in a temporary folder. Prints one line per step;
exit 0 when all pass, 1 (and what failed) otherwise. Needs no display.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import traceback

from desktop.core.errors import describe_error


def _snapshot() -> str:
    from protocols.device import Device
    from protocols.links.pymodbus_link import tcp_link
    from protocols.profiles import loader
    from protocols.session import Session
    from protocols.sim.simulator import Simulator, demo_start_time

    with Simulator(start_s=demo_start_time()) as sim:
        async def go():
            session = Session(tcp_link(*sim.tcp_address))
            await session.open()
            try:
                return await Device(session, loader.load("pvdesk-hybrid")).read()
            finally:
                await session.close()
        sample = asyncio.run(asyncio.wait_for(go(), 20))
    v = sample.values
    if v.get("model_name") != "PVD-H8K":
        raise AssertionError(f"unexpected model {v.get('model_name')!r}")
    balance = v["load_power_w"] - v["inverter_power_w"] - v["grid_power_w"]
    if abs(balance) > 0.05 * max(v["load_power_w"], 1):
        raise AssertionError(f"grid power does not balance load and inverter output ({balance} W)")
    return f"{len(v)} points in {sample.reads} reads, PV {v['pv_power_w']} W"


def _plot() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from widgets.ring_buffer import RingBuffer
    from widgets.time_plot import TimePlot

    app = QApplication.instance() or QApplication([])
    buf = RingBuffer(3600, ["pv_power_w"])
    t0 = time.time() - 3600
    for i in range(3600):
        buf.append(t0 + i, {"pv_power_w": 3000.0 + 1000.0 * ((i % 600) / 600.0)})
    plot = TimePlot("PV")
    plot.resize(640, 320)
    plot.set_source(buf, ["pv_power_w"], "W")
    plot.refresh()
    image = plot.grab().toImage()
    app.processEvents()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    plot.close()
    if image.isNull() or len(colours) < 3:
        raise AssertionError("the plot rendered blank")
    return f"{image.width()}x{image.height()} px, {len(colours)} colours sampled"


def _store() -> str:
    from desktop.records.service import RecordsService

    with tempfile.TemporaryDirectory(prefix="pvdesk-selftest-") as folder:
        svc = RecordsService(folder, installer="self-test", passphrase="self-test passphrase", scrypt_n=2**14)
        rid = svc.add_customer({"name": "Self Test", "phone": "+49 000 000000"})
        svc.close()
        svc = RecordsService(folder, installer="self-test", passphrase="self-test passphrase", scrypt_n=2**14)
        name = svc.get_customer(rid).name
        svc.delete(rid, remove_remote=False)
        svc.close()
        raw = b"".join(p.read_bytes() for p in __import__("pathlib").Path(folder).rglob("*") if p.is_file())
    if name != "Self Test":
        raise AssertionError("the record read back differs")
    if b"Self Test" in raw:
        raise AssertionError("plaintext found on disk")
    return "created, reopened, read back, deleted; no plaintext on disk"


STEPS = [("simulator, connect, snapshot", _snapshot), ("plot rendered offscreen", _plot),
         ("encrypted store", _store)]


def run_self_test() -> int:
    from desktop.version import __version__
    print(f"PVDesk {__version__} self-test ({sys.platform}, Python {sys.version.split()[0]})")
    failed = 0
    for name, step in STEPS:
        t0 = time.perf_counter()
        try:
            detail = step()
            print(f"  PASS  {name}: {detail} ({time.perf_counter() - t0:.2f} s)")
        except Exception as exc:  # report every step, then the verdict
            failed += 1
            print(f"  FAIL  {name}: {describe_error(exc)}")
            if os.environ.get("PVDESK_DEBUG"):
                traceback.print_exc()
    print("self-test passed" if not failed else f"self-test FAILED: {failed} of {len(STEPS)} steps")
    return 0 if not failed else 1

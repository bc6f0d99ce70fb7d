"""SunSpec controls (123, 704, 124) through the safe-write path: range, confirmation, scale factor, read-back, history.

Against real devices' captures replayed by the strict peer, which holds and
serves what is written: the power limit of a SMA (123, WMaxLimPct_SF = -2),
an OutBack DER (704, WMaxLimPct_SF = -1).
"""

from __future__ import annotations

import asyncio

import pytest

from protocols.detect import detect
from protocols.device import Device, WriteRefused
from protocols.links.pymodbus_link import tcp_link
from protocols.session import Session
from protocols.sim.image import load_image
from protocols.sim.replay import image_simulator
from protocols.sunspec import ChainCache

from desktop.commission.params import ConfirmationNeeded, ParamSession
from desktop.commission.storage import WriteHistory
from tests.corpus.golden_helpers import IMAGES


def _write(image_name: str, steps, tmp_path):
    image = load_image(IMAGES / image_name)
    sim = image_simulator(image).start()

    async def go():
        session = Session(tcp_link(*sim.tcp_address), timeout_s=2.0, retries=1)
        await session.open()
        try:
            device = Device(session, await detect(session, image.unit, sunspec_cache=ChainCache()), image.unit)
            params = ParamSession(device, installer="test", history=WriteHistory(tmp_path))
            return [await step(params) for step in steps]
        finally:
            await session.close()
    try:
        return asyncio.run(go()), sim.devices[image.unit]
    finally:
        sim.stop()


def test_power_limit_of_model_123_with_its_scale_factor(tmp_path):
    async def listed(params):
        return {p.name: p for p in await params.read_all()}

    async def unconfirmed(params):
        with pytest.raises(ConfirmationNeeded):
            await params.write("m123_wmaxlimpct", 55.55)
        return True

    async def out_of_range(params):
        with pytest.raises(WriteRefused, match="outside 0..100"):
            await params.write("m123_wmaxlimpct", 120, confirmed=True)
        return True

    async def limit(params):
        return await params.write("m123_wmaxlimpct", "55.55", confirmed=True)

    async def enable(params):
        return await params.write("m123_wmaxlim_ena", 1, confirmed=True)

    (info, _, _, res, ena), peer = _write("sma/sma-sb3.6-1av-41-fw4.00.75-day.json",
                                           [listed, unconfirmed, out_of_range, limit, enable], tmp_path)
    p = info["m123_wmaxlimpct"]
    assert p.unit == "%" and p.min == 0 and p.max == 100 and p.step == pytest.approx(0.01) and p.confirm
    assert "m123_outpfset" in info and "m123_conn" in info and info["m123_conn"].kind == "choice"
    assert res.ok and res.result == "ok" and res.readback == pytest.approx(55.55) and res.new == pytest.approx(55.55)
    assert ena.ok and ena.readback == 1
    address = next(a for a in range(40000, 41000) if peer.registers["holding"].get(a) == 5555)
    assert [v for _, what, v in peer.write_log][:1] == [[5555]] and address
    history = list((tmp_path).glob("*.jsonl"))
    assert len(history) == 1 and history[0].read_text().count('"point": "m123_wmaxlimpct"') == 1


def test_der_power_limit_of_model_704_and_a_scale_factor_that_is_not_implemented(tmp_path):
    async def limit(params):
        return await params.write("m704_wmaxlimpct", 60.5, confirmed=True)

    async def var_setpoint(params):
        with pytest.raises(WriteRefused, match="scale factor m704_varset_sf is not implemented"):
            await params.write("m704_varset", 100, confirmed=True)
        return True

    (res, _), peer = _write("outback/outback-oghi8048a-der-7xx.json", [limit, var_setpoint], tmp_path)
    assert res.ok and res.old == pytest.approx(100.0) and res.readback == pytest.approx(60.5)
    assert [v for _, _, v in peer.write_log] == [[605]]  # WMaxLimPct_SF = -1: 60.5 % is 605

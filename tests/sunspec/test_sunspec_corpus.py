"""Every SunSpec image of the corpus, read by PVDesk and by pysunspec2 (the oracle) from the same strict replay peer.

PVDesk must show every numeric value pysunspec2 decodes, equal within one
least significant digit (10 ** the live scale factor), and need no more
requests than pysunspec2 for discovery plus the first snapshot, and for each
later snapshot. Requests are counted by the peer (answered + refused).
"""

from __future__ import annotations

import asyncio

import pytest
from sunspec2.device import ModelError

from protocols import codecs
from protocols.detect import detect
from protocols.device import Device
from protocols.links.pymodbus_link import tcp_link
from protocols.session import Session
from protocols.sim.image import corpus_files, load_image
from protocols.sim.replay import image_simulator
from protocols.sunspec import ChainCache

from tests.corpus.golden_helpers import IMAGES
from tests.sunspec.oracle import oracle_read, served_requests

SUNSPEC = [f for f in corpus_files(IMAGES) if load_image(f).profile == "sunspec"]


def _id(path):
    return path.relative_to(IMAGES).as_posix()


async def _pvdesk(sim, unit: int, cache: ChainCache | None = None):
    session = Session(tcp_link(*sim.tcp_address), timeout_s=2.0, retries=1)
    await session.open()
    try:
        before = served_requests(sim)
        profile = await detect(session, unit, sunspec_cache=cache or ChainCache())
        device = Device(session, profile, unit)
        first = await device.read()
        first_requests = served_requests(sim) - before
        mid = served_requests(sim)
        later = await device.read()
        return profile, first, later, first_requests, served_requests(sim) - mid
    finally:
        await session.close()


def test_the_corpus_holds_ten_sunspec_images_of_six_vendors():
    images = [load_image(f) for f in SUNSPEC]
    real = [i for i in images if i.kind == "real"]
    assert len(real) >= 10, [i.id for i in real]
    assert len({i.device["vendor"].split()[0].lower() for i in real}) >= 6
    chains = {i.id: [r for b in i.blocks for r in b.registers] for i in real}
    assert len({tuple(v) for v in chains.values()}) == len(chains)  # no capture twice


@pytest.mark.parametrize("path", SUNSPEC, ids=_id)
def test_pvdesk_shows_every_value_pysunspec2_decodes_in_fewer_requests(path):
    image = load_image(path)
    sim = image_simulator(image).start()
    try:
        try:
            oracle = oracle_read(sim, image.unit)
        except ModelError as exc:
            oracle = exc
        profile, first, later, first_requests, later_requests = asyncio.run(_pvdesk(sim, image.unit))
    finally:
        sim.stop()
    if isinstance(oracle, ModelError):
        # pysunspec2 gives up on the whole device; PVDesk reads what is consistent and says what is not
        assert any(m.get("unresolved") for m in profile.extra["sunspec"]["models"]), str(oracle)
        assert len(first.values) > 20 and first_requests <= 3
        return
    wrong = []
    for name, (want, lsd) in oracle.values.items():
        got = first.values.get(name)
        if got is None or got is codecs.NOT_IMPLEMENTED or isinstance(got, str):
            wrong.append(f"{name}: pysunspec2 {want!r}, PVDesk {'missing' if got is None else got!r}")
        elif abs(float(got) - float(want)) > lsd * (1 + 1e-6) + 1e-9:
            wrong.append(f"{name}: pysunspec2 {want!r}, PVDesk {got!r}")
    assert not wrong, f"{image.id}: {len(wrong)} of {len(oracle.values)} values differ:\n  " + "\n  ".join(wrong)
    assert len(oracle.values) > 20
    assert first.values == later.values, image.id  # the image does not move: both snapshots agree
    assert first_requests <= oracle.scan_requests, (first_requests, oracle.scan_requests)
    assert later_requests <= oracle.snapshot_requests, (later_requests, oracle.snapshot_requests)


def test_sma_877_registers_take_at_most_nine_requests_to_discover_and_read():
    smas = [f for f in SUNSPEC if load_image(f).device["vendor"].upper().startswith("SMA")
            and sum(len(b.registers) for b in load_image(f).blocks) == 877]
    if not smas:
        pytest.skip("the SMA Sunny Boy image of 877 registers is not in this corpus yet")
    image = load_image(smas[0])
    sim = image_simulator(image).start()
    try:
        _, first, _, first_requests, later_requests = asyncio.run(_pvdesk(sim, image.unit))
    finally:
        sim.stop()
    assert first_requests <= 9 and later_requests <= 8
    assert first.reads == 0  # the first snapshot is the registers discovery read


@pytest.mark.parametrize("name", ["outback/outback-oghi8048a-der-7xx.json", "fimer/fimer-pvs-2024-07-22.json"])
def test_a_known_chain_is_read_again_without_walking_or_refusals(name):
    image = load_image(IMAGES / name)
    cache = ChainCache()
    sim = image_simulator(image).start()
    try:
        asyncio.run(_pvdesk(sim, image.unit, cache))
        refused_first = sum(len(d.refusals) for d in sim.devices.values())
        profile, first, _, requests, _ = asyncio.run(_pvdesk(sim, image.unit, cache))
        refused_second = sum(len(d.refusals) for d in sim.devices.values()) - refused_first
    finally:
        sim.stop()
    size = sum(len(b.registers) for b in image.blocks)
    assert refused_first >= 1 and refused_second == 0
    assert requests == -(-size // 125)  # exact sweeps over the known map, nothing else
    assert first.reads == 0 and len(profile.points) > 400


def test_the_marker_is_asked_before_any_vendor_profile():
    image = load_image(IMAGES / "veris" / "veris-e51c2-203.json")
    sim = image_simulator(image).start()
    asked = []
    device = sim.devices[image.unit]
    read = device.read

    def logged(function, address, count):
        asked.append((function, address, count))
        return read(function, address, count)
    device.read = logged
    try:
        profile, *_ = asyncio.run(_pvdesk(sim, image.unit))
    finally:
        sim.stop()
    assert profile.kind == "sunspec"
    # 178 registers: the marker sweep, a sweep refused past the map's end, the rest exactly; then the
    # first snapshot costs nothing and the second takes the two reads its points need
    assert asked == [("holding", 40000, 125), ("holding", 40125, 125), ("holding", 40125, 53),
                     ("holding", 40004, 124), ("holding", 40128, 48)]

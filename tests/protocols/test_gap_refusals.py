"""Refusals (exception 02) against a strict peer with several gaps inside one block.

Pins the bug "refusals remembered by start address only" (protocols/session.py,
the ``unsupported`` key): on main the first point of a refused block was never
asked again and read "n/a", and on a device with several gaps a point was lost
on repeated reads. Now refusals are remembered by the exact span (unit,
function, address, count) in the Session only, and a refused block is split
into smaller reads that are really sent.
"""

import pytest
from scripted_peers import RtuPeer, TcpPeer
from strict_peer import GAPPY_POINTS, gappy_answer, gappy_profile, start_gappy_sim

from protocols import codecs
from protocols.device import Device
from protocols.errors import PointNotSupported
from protocols.links.pymodbus_link import serial_link, tcp_link
from protocols.session import Session

EXPECTED = {"p0": 11, "p1": 22, "p5": 0x00010002, "p9": 99, "p12": 1212, "p20": 2020, "p30": 3030}


@pytest.fixture(params=["tcp", "rtu"])
def kind(request):
    return request.param


async def _open(kind):
    """A scripted strict peer (independent of the simulator) and a session to it."""
    peer = TcpPeer(good=gappy_answer) if kind == "tcp" else RtuPeer(good=gappy_answer)
    where = await peer.start()
    link = tcp_link(*where) if kind == "tcp" else serial_link(where, 115200)
    s = Session(link, timeout_s=0.5, retries=1)
    await s.open()
    return peer, s


def _link(sim):
    return tcp_link(*sim.tcp_address)


def test_every_point_is_read_and_repeated_reads_lose_none(kind, run):
    """Bug: start-address refusal memory lost p0 (the refused block's first point) and more on repeats."""
    profile = gappy_profile()

    async def go():
        peer, s = await _open(kind)
        dev = Device(s, profile)
        reads = []
        for _ in range(4):
            before = len(peer.requests)
            sample = await dev.read()
            reads.append((sample.values, len(peer.requests) - before, sample.reads))
        await s.close()
        await peer.stop()
        return reads
    reads = run(go())
    for values, _, _ in reads:
        assert {n: values[n] for n, _, _ in GAPPY_POINTS} == EXPECTED
    first_sent = reads[0][1]
    assert first_sent > 1        # the block 0..30 was refused and split
    steady = {sent for _, sent, _ in reads[1:]}
    assert len(steady) == 1 and steady.pop() < first_sent   # refused spans are never sent again
    assert all(sent == count for _, sent, count in reads)   # Sample.reads counts what was really sent


def test_a_refused_span_is_not_asked_again_but_a_smaller_one_is(kind, run):
    """Bug: after 0..30 was refused, main refused 0..1 from memory without asking (same start address)."""
    async def go():
        peer, s = await _open(kind)
        with pytest.raises(PointNotSupported):
            await s.read_registers(0, 31)
        asked = len(peer.requests)
        with pytest.raises(PointNotSupported):
            await s.read_registers(0, 31)
        again = len(peer.requests)
        first = await s.read_registers(0, 2)
        smaller = len(peer.requests)
        await s.close()
        await peer.stop()
        return asked, again, first, smaller, s.unsupported
    asked, again, first, smaller, unsupported = run(go())
    assert again == asked                 # the very same span: answered from memory
    assert first == [11, 22] and smaller == again + 1   # a smaller span at the same address: really sent
    assert unsupported == {(1, 3, 0, 31)}


def test_a_point_the_device_lacks_reads_na_and_the_rest_stays(run):
    """Only a single point the device refuses is n/a; its neighbours are read (the simulator's strict mode)."""
    sim = start_gappy_sim()
    try:
        def drop_p9():
            del sim.devices[1].holding[9]
            sim.devices[1].implemented = "banks"
            sim.devices[1]._exists = {"holding": {0, 1, 5, 6, 12, 20, 30}, "input": set()}
        sim.call(drop_p9)

        async def go():
            s = Session(_link(sim), timeout_s=0.5)
            await s.open()
            dev = Device(s, gappy_profile())
            one, two = await dev.read(), await dev.read()
            await s.close()
            return one.values, two.values
        one, two = run(go())
    finally:
        sim.stop()
    for values in (one, two):
        assert values["p9"] is codecs.NOT_IMPLEMENTED
        assert {n: v for n, v in values.items() if n != "p9"} == {n: v for n, v in EXPECTED.items() if n != "p9"}


#: a unit that lacks a whole region: ten registers 0..9 answered, the twenty two-register points of a
#: "second battery" at 10..49 refused (exception 02), as on a single-battery unit of a dual-battery map
REGION_PRESENT = {a: 100 + a for a in range(10)}


def _region_answer(pdu: bytes) -> bytes:
    fc, address, count = pdu[0], int.from_bytes(pdu[1:3], "big"), int.from_bytes(pdu[3:5], "big")
    span = range(address, address + count)
    if any(a not in REGION_PRESENT for a in span):
        return bytes([fc | 0x80, 2])
    data = b"".join(REGION_PRESENT[a].to_bytes(2, "big") for a in span)
    return bytes([fc, len(data)]) + data


def test_a_missing_region_costs_one_request_a_point_then_one_read(run):
    """Halving a region that is refused throughout cost about 2n requests (GoodWe EH: 150 for the first
    read); now, when both halves are refused, each point is asked alone (n + 3), and the next reads
    merge what answered into one request."""
    from protocols.profiles import loader
    points = [{"name": f"p{a}", "address": a, "type": "u16"} for a in range(10)]
    points += [{"name": f"b2_{i}", "address": 10 + 2 * i, "type": "u32"} for i in range(20)]
    profile = loader.from_dict({"profile": {"name": "region", "title": "Region", "vendor": "test"},
                                "points": [dict(p, function="holding") for p in points]}, "region.toml")

    async def go():
        peer = TcpPeer(good=_region_answer)
        s = Session(tcp_link(*await peer.start()), timeout_s=0.5, retries=1)
        await s.open()
        dev = Device(s, profile)
        reads = []
        for _ in range(3):
            before = len(peer.requests)
            sample = await dev.read()
            reads.append((sample.values, len(peer.requests) - before, sample.reads))
        await s.close()
        await peer.stop()
        return reads
    reads = run(go())
    for values, sent, counted in reads:
        assert {f"p{a}": values[f"p{a}"] for a in range(10)} == {f"p{a}": 100 + a for a in range(10)}
        assert all(values[f"b2_{i}"] is codecs.NOT_IMPLEMENTED for i in range(20))
        assert sent == counted
    assert reads[0][1] <= len(points) + 3      # halving to the end would send 2 x 30 - 1 = 59
    assert reads[1][1] == reads[2][1] == 1     # p0..p9 in one read; the refused points never again

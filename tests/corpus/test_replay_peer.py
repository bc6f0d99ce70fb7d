"""The replay peer refuses what a real device refuses, and `pvdesk sim --image` serves an image on every link.

Requests are written as raw Modbus TCP frames (MBAP + PDU) on a socket, so
the exception codes seen are exactly the peer's, with no client library
between. The image here is a small synthetic one made in the test: two
holding blocks with a gap between them, one input block.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from protocols.sim.image import load_image, parse_image
from protocols.sim.replay import image_simulator

from .golden_helpers import IMAGES, ROOT, Read, mismatch

HOLDING_A = list(range(100, 110))      # 1000..1009
HOLDING_B = [7, 8, 9, 10]              # 1020..1023 (1010..1019 is a gap)


def _image(**quirks):
    return parse_image({
        "format": "pvdesk-corpus/1", "id": "synthetic-gap", "kind": "synthetic",
        "device": {"vendor": "PVDesk", "model": "test"}, "profile": "pvdesk-hybrid",
        "provenance": {"what": "made in tests/corpus/test_replay_peer.py"}, "unit": 3,
        "blocks": [{"function": 3, "address": 1000, "registers": HOLDING_A},
                   {"function": 3, "address": 1020, "registers": HOLDING_B},
                   {"function": 4, "address": 65530, "registers": [1, 2, 3, 4, 5, 6]}],
        "quirks": quirks, "published": []}, "synthetic-gap.json")


class Raw:
    """A blocking Modbus TCP client speaking raw frames."""

    def __init__(self, address) -> None:
        self.sock = socket.create_connection(address, timeout=5)
        self.tid = 0

    def ask(self, unit: int, pdu: bytes) -> bytes:
        self.tid += 1
        self.sock.sendall(struct.pack(">HHHB", self.tid, 0, len(pdu) + 1, unit) + pdu)
        head = self._recv(7)
        tid, proto, length, u = struct.unpack(">HHHB", head)
        assert (tid, proto, u) == (self.tid, 0, unit)
        return self._recv(length - 1)

    def _recv(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def read(self, unit: int, fc: int, address: int, count: int):
        """The registers, or the exception code (an int)."""
        answer = self.ask(unit, struct.pack(">BHH", fc, address, count))
        if answer[0] == fc | 0x80:
            return answer[1]
        assert answer[0] == fc and answer[1] == 2 * count, answer
        return list(struct.unpack(f">{count}H", answer[2:]))

    def write(self, unit: int, address: int, values: list[int]):
        pdu = struct.pack(">BHHB", 16, address, len(values), 2 * len(values)) + struct.pack(f">{len(values)}H", *values)
        answer = self.ask(unit, pdu)
        return answer[1] if answer[0] == 0x90 else "ok"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peer():
    made = []

    def start(**quirks):
        sim = image_simulator(_image(**quirks)).start()
        client = Raw(sim.tcp_address)
        made.append((sim, client))
        return sim, client
    yield start
    for sim, client in made:
        client.close()
        sim.stop()


def test_exactly_the_image_is_served_and_a_read_spanning_a_gap_is_refused_whole(peer):
    sim, c = peer()
    assert c.read(3, 3, 1000, 10) == HOLDING_A
    assert c.read(3, 3, 1020, 4) == HOLDING_B
    assert c.read(3, 3, 1005, 2) == HOLDING_A[5:7]
    assert c.read(3, 3, 1008, 3) == 2          # 1010 is missing: the whole read is refused
    assert c.read(3, 3, 1000, 24) == 2         # spans the gap
    assert c.read(3, 3, 1010, 1) == 2
    assert c.read(3, 4, 1000, 1) == 2          # input registers are another table
    assert c.read(3, 4, 65530, 6) == [1, 2, 3, 4, 5, 6]
    assert c.read(3, 4, 65534, 3) == 2         # past the end of the register space
    assert sim.devices[3].refusals[0] == ("holding", 1008, 3, 2)


def test_quantity_outside_1_to_125_or_the_devices_maximum_is_exception_03(peer):
    _, c = peer()
    assert c.read(3, 3, 1000, 126) == 3
    assert c.read(3, 3, 1000, 0) == 3
    _, small = peer(max_registers_per_read=4)
    assert small.read(3, 3, 1000, 4) == HOLDING_A[:4]
    assert small.read(3, 3, 1000, 5) == 3


def test_zero_gaps_quirk_reads_missing_registers_as_zero_inside_the_image_only(peer):
    _, c = peer(zero_gaps=True)
    assert c.read(3, 3, 1008, 14) == HOLDING_A[8:] + [0] * 10 + HOLDING_B[:2]
    assert c.read(3, 3, 1011, 5) == 2          # touches no register of the image


def test_writes_land_only_on_holding_registers_the_image_holds(peer):
    sim, c = peer()
    assert c.write(3, 1021, [500, 501]) == "ok"
    assert c.read(3, 3, 1020, 4) == [7, 500, 501, 10]
    assert c.write(3, 1023, [1, 2]) == 2       # 1024 does not exist: nothing is written
    assert c.read(3, 3, 1023, 1) == [10]
    assert [entry[2] for entry in sim.devices[3].write_log] == [[500, 501]]


def test_answer_delay_and_slow_first_answer(peer):
    _, c = peer(answer_delay_s=0.05, first_answer_delay_s=1.0)
    t0 = time.monotonic()
    c.read(3, 3, 1000, 1)
    first = time.monotonic() - t0
    t0 = time.monotonic()
    c.read(3, 3, 1000, 1)
    second = time.monotonic() - t0
    # lower bounds are exact (the peer sleeps at least that long); the upper one leaves room for a busy machine
    assert first >= 1.05 and 0.05 <= second < 0.9, (first, second)


def test_an_unknown_unit_gets_no_device_answer(peer):
    _, c = peer()
    answer = c.ask(9, struct.pack(">BHH", 3, 1000, 1))
    assert answer[0] == 0x83 and answer[1] == 0x0B  # the gateway's "target device failed to respond"


def _golden_image():
    return load_image(IMAGES / "goodwe" / "goodwe-et-gw10k-et-fw617.json")


def _pvdesk_read(args: list[str], image) -> Read:
    from protocols.profiles.loader import load
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "read", "--json", "--unit", str(image.unit),
                           "--profile", image.profile, "--timeout", "2", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    return Read(load(out["profile"]), {n: p["value"] for n, p in out["points"].items()})


def test_pvdesk_sim_image_serves_tcp_rtu_and_solarman_v5(tmp_path):
    """`pvdesk sim --image` as a user runs it; `pvdesk read` over each link gives the source's values."""
    image = _golden_image()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PVDESK_LOG_DIR=str(tmp_path / "logs"))
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "sim", "--image", str(image.path), "--port", "0",
                             "--rtu", "--v5", "--no-control"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, "".join(lines) + proc.stderr.read()
            lines.append(line)
        text = "".join(lines)
        assert text.startswith(f"PVDesk replay of {image.id} (GoodWe GW10K-ET, real capture"), text
        tcp = re.search(r"Modbus TCP : ([\d.]+:\d+)", text).group(1)
        rtu = re.search(r"Modbus RTU : (\S+)", text).group(1)
        v5, serial = re.search(r"Solarman V5: ([\d.]+:\d+)\s+\(logger serial (\d+)\)", text).groups()
        checked = [p for p in image.published if not p.known_wrong]
        for args in (["--tcp", tcp], ["--serial", rtu, "--baud", "9600"], ["--v5", v5, "--logger-serial", serial]):
            result = _pvdesk_read(args, image)
            problems = [m for m in (mismatch(p, result) for p in checked) if m]
            assert not problems, f"{args[0]}: " + "; ".join(problems)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_pvdesk_sim_image_names_a_broken_file_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "pvdesk-corpus/1", "id": "x", "kind": "real"}))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PVDESK_LOG_DIR=str(tmp_path / "logs"))
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "sim", "--image", str(bad), "--port", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json: device is missing" in lines[0], proc.stderr

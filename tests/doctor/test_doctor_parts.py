"""The doctor's parts: frames (CRC, MBAP, RTU with echo, AA55, V5), the order of what is tried, the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace

import pytest
from doctor_helpers import free_port

from protocols.doctor import frames, plan
from protocols.doctor.plan import LineSettings

pytestmark = pytest.mark.timeout(60)


def test_rtu_crc_agrees_with_pymodbus_on_every_probe_the_doctor_sends():
    from pymodbus.framer import FramerRTU
    assert frames.rtu_read(1, 3, 0, 2) == bytes.fromhex("010300000002C40B")
    for unit, fn, address, count in ((1, 3, 0, 1), (247, 3, 35000, 1), (126, 4, 40000, 2), (200, 3, 50000, 2)):
        frame = frames.rtu_read(unit, fn, address, count)
        assert frame[-2:] == FramerRTU.compute_CRC(frame[:-2]).to_bytes(2, "big")


def test_rtu_answer_is_found_after_echo_and_garbage_and_wrong_fits_are_not():
    request = frames.rtu_read(247, 3, 35000, 1)
    answer = frames.with_crc(bytes([247, 3, 2, 0x01, 0x2C]))
    echoed, rest = frames.split_echo(request + b"\x00\xff" + answer, request)
    assert echoed and frames.parse_rtu(rest, 247, 3, 1).registers == (300,)
    assert frames.parse_rtu(answer, 1, 3, 1) is None           # another unit
    assert frames.parse_rtu(answer, 247, 3, 2) is None         # another count
    assert frames.parse_rtu(answer[:-1] + b"\x00", 247, 3, 1) is None   # bad CRC
    exc = frames.parse_rtu(frames.with_crc(bytes([247, 0x83, 2])), 247, 3, 1)
    assert exc.exception == 2


def test_aa55_answer_and_v5_frame_round_trip():
    rtu = frames.with_crc(bytes([247, 3, 2, 0x12, 0x34]))
    assert frames.parse_aa55(b"\xaa\x55" + rtu, 247, 3, 1).registers == (0x1234,)
    assert frames.parse_aa55(rtu, 247, 3, 1) is None
    from protocols.sim.v5_server import build_response
    frame = build_response(b"\x01\x00", 2712345678, rtu)
    v5 = frames.parse_v5(b"noise" + frame)
    assert v5.logger_serial == 2712345678 and v5.rtu == rtu


def test_the_doctor_builds_no_write():
    for fn in (6, 16, 5, 15):
        with pytest.raises(ValueError):
            frames.rtu_read(1, fn, 0, 1)


def test_plan_order_defaults_first_then_the_sweep():
    units = plan.unit_ids(all_units=True, first=[9], profiles=[])
    assert units[:8] == [9, 1, 2, 3, 126, 247, 200, 240] and len(units) == 247 and sorted(units) == list(range(1, 248))
    lines = plan.line_settings(profiles=[])
    assert lines[:2] == [LineSettings(9600, "N", 1), LineSettings(19200, "E", 1)]
    assert len(lines) == len(set(lines)) == 16
    assert {ls.baud for ls in plan.line_settings(slow_bauds=True, profiles=[])} >= {2400, 4800}
    assert plan.tcp_ports([5020], profiles=[])[:6] == [5020, 502, 503, 1502, 6607, 8899]


def test_profile_connection_defaults_come_first():
    """The shipped profiles' [link] tables reach the doctor's plan (once they never did: the plan read a
    table no loader filled, and a test of a hand-made object hid it)."""
    from protocols.profiles import loader
    victron = loader.load("victron-gx-system")
    assert 100 in victron.defaults.units
    units = plan.unit_ids()
    assert set(victron.defaults.units) - {0} <= set(units)
    assert units.index(100) < units.index(126)      # the profiles' ids before the plan's own vendor facts
    custom = replace(victron, defaults=replace(victron.defaults, units=(77,), tcp_ports=(1503,),
                                               baud=115200, parity="E", stopbits=1))
    assert plan.unit_ids(profiles=[custom])[0] == 77
    assert plan.line_settings(profiles=[custom])[0] == LineSettings(115200, "E", 1)
    assert 1503 in plan.tcp_ports(profiles=[custom])


def test_progress_line_shows_bar_percent_and_time_left():
    from desktop.cli.doctor import render_progress
    line = render_progress(0.5, 12.4, "127.0.0.1:502 unit 3")
    assert line.startswith("[##########----------]  50%") and "12 s left" in line and "unit 3" in line


def test_pvdesk_doctor_cli_names_the_settings_and_logs_every_attempt(tmp_path):
    from protocols.sim.simulator import Simulator
    with Simulator(units=(126,)) as sim:
        env = dict(os.environ, PVDESK_LOG_DIR=str(tmp_path))
        out = subprocess.run([sys.executable, "-m", "desktop.cli", "doctor", "127.0.0.1", "--ports",
                              f"{free_port()},{sim.tcp.port}", "--only-ports", "--budget", "20",
                              "--v5-discovery-port", str(free_port(socket.SOCK_DGRAM)),
                              "--udp-port", str(free_port(socket.SOCK_DGRAM))],
                             capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        assert f"pvdesk read --tcp 127.0.0.1:{sim.tcp.port} --unit 126" in out.stdout
        assert "set unit 126" in out.stdout
        assert "100%" in out.stderr                      # the progress line (one a 10 % step on a pipe)
        log = (tmp_path / "pvdesk.log").read_text()
        assert f"unit 127.0.0.1:{sim.tcp.port} unit 126 -> modbus" in log and "refused" in log
        js = subprocess.run([sys.executable, "-m", "desktop.cli", "doctor", "--tcp", "127.0.0.1", "--ports",
                             str(sim.tcp.port), "--only-ports", "--json", "--no-identify",
                             "--v5-discovery-port", str(free_port(socket.SOCK_DGRAM)),
                             "--udp-port", str(free_port(socket.SOCK_DGRAM))],
                            capture_output=True, text=True, timeout=60, env=env)
        report = json.loads(js.stdout)
        assert report["findings"][0]["unit"] == 126 and report["attempts"]


def test_pvdesk_doctor_without_a_target_is_one_clear_line():
    out = subprocess.run([sys.executable, "-m", "desktop.cli", "doctor"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "pvdesk doctor HOST" in out.stderr and len(out.stderr.splitlines()) == 1

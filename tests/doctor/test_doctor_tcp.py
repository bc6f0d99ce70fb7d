"""The connection doctor on a host: each fault the simulator plays is named, with the next step, and the
settings it found connect through `pvdesk read`.

Everything runs on loopback; the port list is the test's own (a refused port and the simulator's), so no
standard port of this machine is probed. Discovery goes to 127.0.0.1 only.
"""

from __future__ import annotations

import socket

import pytest
from doctor_helpers import diagnosis, free_port, host_options, pvdesk_read, run_host

from protocols.sim.simulator import Simulator, demo_start_time

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def make_sim():
    started = []

    def make(**kw):
        sim = Simulator(start_s=demo_start_time(), **kw).start()
        started.append(sim)
        return sim
    yield make
    for sim in started:
        sim.stop()


def _reads_model(capsys, args):
    code, out = pvdesk_read(args, capsys)
    assert code == 0, out
    assert out["points"]["model_code"]["value"] == 0x5048
    return out


def test_unusual_unit_and_port_are_found_and_connect(make_sim, capsys):
    sim = make_sim(units=(247,))
    refused = free_port()
    report = run_host(host_options(sim, ports=(refused,)))
    outcomes = {a.target: a.outcome for a in report.attempts if a.what == "tcp-port"}
    assert outcomes[f"127.0.0.1:{refused}"] == "refused"
    best = report.best
    assert (best.spec.kind, best.spec.port, best.unit) == ("tcp", sim.tcp.port, 247)
    assert "pvdesk-hybrid" in best.note                       # identified through a real session
    assert "--unit 247" in diagnosis(report, "unit").next_step
    assert f"127.0.0.1:{sim.tcp.port}" in diagnosis(report, "port").next_step
    out = _reads_model(capsys, best.cli_args())
    assert out["unit"] == 247


def test_one_client_limit_names_the_other_client_then_connects_once_released(make_sim, capsys):
    sim = make_sim(max_clients=1)
    holder = socket.create_connection(sim.tcp_address)   # the home's energy manager
    try:
        report = run_host(host_options(sim))
        assert report.findings == []
        d = diagnosis(report, "one-client")
        assert "only one Modbus TCP client" in d.text and "release the other client" in d.next_step
        assert "baud" not in d.text + d.next_step and "RS-485" not in d.text + d.next_step
    finally:
        holder.close()
    report = run_host(host_options(sim))
    assert report.best is not None and report.best.unit == 1
    assert "one-client" not in report.causes()
    _reads_model(capsys, report.best.cli_args())


def test_modbus_port_closed_by_firmware_points_to_the_v5_logger_that_still_answers(make_sim, capsys):
    sim = make_sim(v5=True)
    port = sim.tcp.port
    sim.close_tcp()
    report = run_host(host_options(sim, ports=(port,)))
    assert {a.outcome for a in report.attempts if a.what == "tcp-port"} == {"refused"}
    discovery = [a for a in report.attempts if a.what == "v5-discovery"]
    assert discovery and str(sim.v5.logger_serial) in discovery[0].detail
    best = report.best
    assert best.spec.kind == "v5" and best.spec.logger_serial == sim.v5.logger_serial
    assert "--logger-serial" in diagnosis(report, "found").next_step
    _reads_model(capsys, best.cli_args())


def test_every_port_refused_says_switch_modbus_on(make_sim):
    sim = make_sim()
    port = sim.tcp.port
    sim.close_tcp()
    report = run_host(host_options(sim, ports=(port, free_port())))
    d = diagnosis(report, "modbus-off")
    assert "switch Modbus TCP on" in d.next_step and report.findings == []


def test_gateway_without_devices_at_the_default_units(make_sim):
    sim = make_sim(units=(57,))           # nobody at the vendors' unit ids
    report = run_host(host_options(sim))
    assert report.findings == []
    assert "--all-units" in diagnosis(report, "gateway-empty").next_step
    report = run_host(host_options(sim, all_units=True, budget_s=60))
    assert report.best.unit == 57


def test_goodwe_udp_dongle_is_found_and_read_with_retries(make_sim, capsys):
    sim = make_sim(units=(247,), tcp=True, udp=True)
    port = sim.tcp.port
    sim.close_tcp()
    report = run_host(host_options(sim, ports=(port,)))
    best = report.best
    assert (best.spec.kind, best.spec.port, best.unit) == ("udp", sim.udp.port, 247)
    sim.call(setattr, sim.udp, "drop_next", 2)          # Wi-Fi loses the first two datagrams
    out = _reads_model(capsys, best.cli_args())
    assert out["unit"] == 247 and sim.udp.dropped == 2


def test_progress_is_monotonic_within_the_budget_and_the_doctor_only_reads(make_sim):
    sim = make_sim(units=(3,))
    functions = []
    answer = sim.dispatcher.answer
    sim.dispatcher.answer = lambda req, gw: functions.append(req.function_code) or answer(req, gw)
    seen = []
    report = run_host(host_options(sim, ports=(free_port(),), budget_s=20),
                      progress=lambda f, left, doing: seen.append((f, left, doing)))
    assert report.best.unit == 3
    fractions = [f for f, _, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and seen[-1][1] == 0.0
    assert all(0 <= left <= 20 for _, left, _ in seen)
    assert functions and set(functions) <= {3, 4}            # reads only, never a write
    assert sim.device(3).write_log == []
    lines = report.log_lines()
    assert any("unit 3 -> modbus" in line for line in lines)


def test_budget_stops_the_full_unit_sweep_and_says_so(make_sim):
    sim = make_sim(units=(57,), tcp=True)
    sim.set_delay(0)
    sim.call(setattr, sim.tcp, "gateway", False)           # a silent device: every unit costs the timeout
    report = run_host(host_options(sim, all_units=True, budget_s=2.0, timeout_s=0.2))
    assert report.elapsed_s < 4.0
    assert report.stopped_by_budget and report.not_tried > 100
    assert "--budget" in diagnosis(report, "budget").next_step


def test_several_devices_behind_a_gateway_are_each_found(make_sim):
    sim = make_sim(units=(1, 2, 3))
    report = run_host(host_options(sim))
    assert [f.unit for f in report.findings] == [1, 2, 3]
    assert not any("ignores the unit id" in f.note for f in report.findings)


def test_a_device_that_ignores_the_unit_id_is_one_finding(make_sim, capsys):
    sim = make_sim(units=(1,))

    class AnyUnit(dict):
        def get(self, key, default=None):
            return dict.get(self, 1)
    sim.dispatcher.devices = AnyUnit(sim.devices)
    report = run_host(host_options(sim))
    assert len(report.findings) == 1 and "ignores the unit id" in report.best.note
    _reads_model(capsys, report.best.cli_args())


def test_a_device_silent_at_register_0_is_found_at_a_profile_identity_register(make_sim):
    sim = make_sim(units=(1,))
    sim.call(setattr, sim.tcp, "gateway", False)
    answer = sim.dispatcher.answer
    # A device that says nothing (no exception) to a read of a register it lacks, here register 0.
    sim.dispatcher.answer = lambda req, gw: None if getattr(req, "address", None) == 0 else answer(req, gw)
    report = run_host(host_options(sim, identify=False))
    best = report.best
    assert best is not None and best.unit == 1 and "silent at register 0" in best.note
    assert any("@" in a.target and a.outcome == "modbus" for a in report.attempts)


def test_a_misspelt_host_name_is_named_not_probed():
    import asyncio

    from protocols.doctor import doctor_host
    report = asyncio.run(doctor_host("inverter.invalid", host_options(None)))
    assert report.causes() == ["bad-name"] and len(report.attempts) == 1
    assert "IP address" in report.diagnoses[0].next_step

"""The connection doctor on a serial port (the simulator's pseudo-terminal): baud rate, echo, garbage and
silence are told apart and named with the next step, and the settings it found connect through `pvdesk read`.
"""

from __future__ import annotations

import pytest
from doctor_helpers import diagnosis, pvdesk_read, run_serial

from protocols.sim.simulator import Simulator, demo_start_time

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def make_rtu():
    started = []

    def make(**kw):
        sim = Simulator(start_s=demo_start_time(), tcp=False, rtu=True, **kw).start()
        started.append(sim)
        return sim
    yield make
    for sim in started:
        sim.stop()


def test_19200_8e1_device_is_found_and_its_settings_connect(make_rtu, capsys):
    sim = make_rtu(line="19200-8E1")
    report = run_serial(sim.rtu_path)
    best = report.best
    assert (best.spec.baud, best.spec.parity, best.spec.stopbits, best.unit) == (19200, "E", 1, 1)
    assert "--baud 19200 --parity E" in diagnosis(report, "line").next_step
    at_9600 = [a for a in report.attempts if a.what == "serial" and " 9600 " in a.target]
    assert at_9600 and all(a.outcome == "garbage" for a in at_9600)   # the device talks at another rate
    assert sim.plays.mismatches == len(at_9600)
    code, out = pvdesk_read(best.cli_args(), capsys)
    assert code == 0, out
    assert out["points"]["model_code"]["value"] == 0x5048
    code, err = pvdesk_read(["--serial", sim.rtu_path, "--baud", "9600", "--timeout", "0.3"], capsys)
    assert code != 0 and "formed no valid answer" in err      # the play is real: 9600 does not read


def test_two_stop_bits_are_found(make_rtu, capsys):
    sim = make_rtu(line="38400-8N2", line_mismatch="silent")
    report = run_serial(sim.rtu_path)
    best = report.best
    assert (best.spec.baud, best.spec.stopbits) == (38400, 2)
    assert not any(a.outcome == "garbage" for a in report.attempts)
    code, out = pvdesk_read(best.cli_args(), capsys)
    assert code == 0, out


def test_echoing_adapter_says_use_local_echo_and_connects_with_it(make_rtu, capsys):
    sim = make_rtu(echo=True, units=(247,))
    report = run_serial(sim.rtu_path)
    best = report.best
    assert best.unit == 247 and best.spec.local_echo
    d = diagnosis(report, "echo")
    assert d.next_step == "use --local-echo." and report.diagnoses.index(d) <= 1
    assert "--local-echo" in best.cli_args()
    code, out = pvdesk_read(best.cli_args(), capsys)
    assert code == 0 and out["unit"] == 247, out


def test_swapped_ab_is_bytes_without_a_valid_frame(make_rtu):
    sim = make_rtu(swapped_ab=True)
    report = run_serial(sim.rtu_path, budget_s=60)
    assert report.findings == []
    d = diagnosis(report, "wrong-line")
    assert "Bytes arrive but no frame is valid" in d.text and "swap the A and B" in d.next_step
    assert "no-bytes" not in report.causes()


def test_nothing_arrives_is_told_apart_from_garbage(make_rtu):
    sim = make_rtu(units=(99,))          # nobody at any unit id the doctor asks by default
    report = run_serial(sim.rtu_path, timeout_s=0.05, budget_s=60)
    assert report.findings == [] and not report.stopped_by_budget
    d = diagnosis(report, "no-bytes")
    assert "Nothing arrives" in d.text and "termination" in d.next_step
    assert "wrong-line" not in report.causes()
    assert "TCP" not in d.text + d.next_step


def test_a_missing_port_is_named(tmp_path):
    report = run_serial(str(tmp_path / "ttyUSB7"))
    d = diagnosis(report, "port-error")
    assert "pvdesk ports" in d.next_step and "does not exist" in d.text and report.findings == []


def test_the_budget_stops_the_sweep(make_rtu):
    sim = make_rtu(units=(99,))
    progress = []
    report = run_serial(sim.rtu_path, timeout_s=0.1, budget_s=1.0, progress=lambda *a: progress.append(a))
    assert report.stopped_by_budget and report.elapsed_s < 2.5
    assert progress[-1][0] == 1.0 and max(p[0] for p in progress[:-1]) < 0.5


def test_a_sunspec_device_on_the_bus_is_found_with_its_base(capsys):
    from protocols.sim.sunspec_device import sunspec_simulator
    sim = sunspec_simulator(base=40000, units=(126,), tcp=False, rtu=True, start_s=demo_start_time()).start()
    try:
        report = run_serial(sim.rtu_path)
        best = report.best
        assert best.unit == 126 and best.sunspec_base == 40000
        code, out = pvdesk_read(best.cli_args(), capsys)
        assert code == 0 and out["profile"].startswith("sunspec"), out
    finally:
        sim.stop()

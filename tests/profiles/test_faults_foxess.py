"""Fox ESS H1 and H3 fault words decode to the documented fault names.

Sources (facts only: register numbers, bit positions, short fault names):
- nathanmarlor/foxess_modbus (MIT), commit 90046fec051a6839bcfb468d4b4f340a89f721c8,
  custom_components/foxess_modbus/entities/modbus_fault_sensor.py (STANDARD_FAULTS) and
  custom_components/foxess_modbus/entities/entity_descriptions.py (inverter_fault_code): H1 G1 on
  RS-485 input registers 11061, 11062, 11064-11068, H3 holding registers 31044, 31045, 31047-31051
  (fault code 3 has no bits and is not read), bit 0 = least significant bit.
- Register numbers cross-checked with StealthChesnut/HA-FoxESS-Modbus (commit
  693669327df58de0169157edf45b7f1c812e7602, modbus-H3-USB.yaml: H3 fault 1-3 at 31044-31046;
  no licence file, so addresses only).

PVDesk numbers the faults itself: fault code n, bit b -> n * 100 + b. The raw words below are
written by hand from those tables; nothing is computed from the profile.
"""

from __future__ import annotations

import pytest

from protocols.faults import active_alarms
from protocols.profiles.loader import load


def _decoded(profile, values):
    return [(a.code, a.text, a.severity) for a in active_alarms(profile, values, seen_s=0.0)]


@pytest.fixture(scope="module")
def h1():
    return load("foxess-h1")


@pytest.fixture(scope="module")
def h3():
    return load("foxess-h3")


def test_fault_words_sit_at_the_documented_registers(h1, h3):
    expected_h1 = {"fault_code_1": 11061, "fault_code_2": 11062, "fault_code_4": 11064,
                   "fault_code_5": 11065, "fault_code_6": 11066, "fault_code_7": 11067,
                   "fault_code_8": 11068}
    expected_h3 = {"fault_code_1": 31044, "fault_code_2": 31045, "fault_code_4": 31047,
                   "fault_code_5": 31048, "fault_code_6": 31049, "fault_code_7": 31050,
                   "fault_code_8": 31051}
    for profile, expected, function in ((h1, expected_h1, "input"), (h3, expected_h3, "holding")):
        for name, address in expected.items():
            p = profile.point(name)
            assert (p.address, p.function, p.type, p.category) == (address, function, "bitfield16", "alarm")
            assert p.sentinel is False and p.rate == "fast"
        assert not profile.has("fault_code_3")
        assert sorted(a.point for a in profile.alarms) == sorted(expected)


def test_h1_documented_bits_decode_with_code_text_and_severity(h1):
    values = {
        "fault_code_1": 0x0201,   # bit 0 Grid Lost Fault, bit 9 Software Bus Voltage Fault
        "fault_code_2": 0x0400,   # bit 10 BMS Lost Fault
        "fault_code_4": 0x8000,   # bit 15 M2 Close Fault
        "fault_code_5": 0x0000,
        "fault_code_6": 0x0002,   # bit 1 Meter Lost Fault
        "fault_code_7": 0x0000,
        "fault_code_8": 0x0001,   # bit 0 BMS Type Mismatch
    }
    assert sorted(_decoded(h1, values)) == [
        (100, "Grid Lost Fault", "error"),
        (109, "Software Bus Voltage Fault", "error"),
        (210, "BMS Lost Fault", "error"),
        (415, "M2 Close Fault", "error"),
        (601, "Meter Lost Fault", "error"),
        (800, "BMS Type Mismatch", "error"),
    ]


def test_h3_documented_bits_decode_with_code_text_and_severity(h3):
    values = {
        "fault_code_1": 0x4008,   # bit 3 Grid 10min Voltage Fault, bit 14 PV Voltage Fault
        "fault_code_2": 0x0001,   # bit 0 Inverter Temperature Fault
        "fault_code_4": 0x0010,   # bit 4 Battery Relay Open
        "fault_code_5": 0x0200,   # bit 9 RDSP Sample Fault
        "fault_code_6": 0x0001,   # bit 0 ARM EEPROM Fault
        "fault_code_7": 0x0004,   # bit 2 Battery Over-voltage
        "fault_code_8": 0x8000,   # bit 15 BMS Self Check Sys Mismatch Fault
    }
    assert sorted(_decoded(h3, values)) == [
        (103, "Grid 10min Voltage Fault", "error"),
        (114, "PV Voltage Fault", "error"),
        (200, "Inverter Temperature Fault", "error"),
        (404, "Battery Relay Open", "error"),
        (509, "RDSP Sample Fault", "error"),
        (600, "ARM EEPROM Fault", "error"),
        (702, "Battery Over-voltage", "error"),
        (815, "BMS Self Check Sys Mismatch Fault", "error"),
    ]


@pytest.mark.parametrize("name", ["foxess-h1", "foxess-h3"])
def test_zero_words_give_no_alarm(name):
    profile = load(name)
    zeros = {w: 0 for w in ("fault_code_1", "fault_code_2", "fault_code_4", "fault_code_5",
                            "fault_code_6", "fault_code_7", "fault_code_8")}
    assert active_alarms(profile, zeros, seen_s=0.0) == []


@pytest.mark.parametrize("name", ["foxess-h1", "foxess-h3"])
def test_undocumented_bits_are_reported_as_such(name):
    profile = load(name)
    # fault code 1 bit 7, fault code 2 bit 12, fault code 6 bit 2 and fault code 8 bit 7 have no name
    values = {"fault_code_1": 0x0080, "fault_code_2": 0x1000, "fault_code_6": 0x0004,
              "fault_code_8": 0x0080}
    alarms = active_alarms(profile, values, seen_s=0.0)
    assert sorted(a.text for a in alarms) == [
        "Undocumented alarm bit 12 in fault_code_2",
        "Undocumented alarm bit 2 in fault_code_6",
        "Undocumented alarm bit 7 in fault_code_1",
        "Undocumented alarm bit 7 in fault_code_8",
    ]
    assert all(a.severity == "warning" and a.text.startswith("Undocumented alarm bit") for a in alarms)


def test_a_documented_bit_beside_an_undocumented_one(h1):
    # fault code 1 = 0x0082: bit 1 Grid Voltage Fault and the unnamed bit 7
    alarms = active_alarms(h1, {"fault_code_1": 0x0082}, seen_s=0.0)
    assert [(a.code, a.text, a.source) for a in alarms] == [
        (101, "Grid Voltage Fault", "fault_code_1 bit 1"),
        (7, "Undocumented alarm bit 7 in fault_code_1", "fault_code_1 bit 7"),
    ]

"""Fault tables of the Growatt and Solis RHI profiles, decoded by protocols.faults.active_alarms.

The expected values are written by hand from the sources, not read back from the profiles:

- Growatt: "Growatt Inverter Modbus RTU Protocol_II V1.24" (the vendor's PDF, as kept in
  WouterTuinstra/Homeassistant-Growatt-Local-Modbus, doc/Growatt-Inverter-Modbus-RTU-Protocol_II-V1_24-English.pdf,
  commit 02f487fd2ce525d1a4e16190d7beb30b51ce4cc6): input register 105 "Fault Maincode", with no table of its values (a legacy V3.x table of
  another register, which one open project applies to it, is not taken: nothing confirms it).
- Solis RHI: the alarm lookups of registers 33116-33120 in
  custom_components/solarman/inverter_definitions/solis_hybrid.yaml of StephanJoubert/home_assistant_solarman
  (Apache-2.0, commit d4296b16415dc9187a74fbaf249bfd71417c38aa), the same in davidrapan/ha-solarman
  (MIT, commit ac1d88b83268beeb0511b8a1b7fc8e17deddc044); both name Solis' RS485_MODBUS hybrid
  protocol as their reference. Codes follow the profile's scheme 1000 + word x 100 + bit.
"""

from __future__ import annotations

from protocols.faults import active_alarms
from protocols.profiles.loader import load


def _decoded(profile, values):
    return sorted((a.code, a.text, a.severity) for a in active_alarms(profile, values, seen_s=0.0))


# --- Growatt ---------------------------------------------------------------------------------

def test_growatt_fault_maincode_is_input_register_105():
    p = load("growatt")
    point = p.point("active_fault_code")
    assert (point.address, point.function, point.type, point.category) == (105, "input", "u16", "alarm")


def test_growatt_codes_show_raw_because_no_source_ties_texts_to_register_105():
    """An older table for another register would name code 26 "PV Isolation Low"; unconfirmed for input
    105, so the code is shown as it is, never with a text that may be wrong."""
    p = load("growatt")
    assert p.fault_codes == {}
    assert _decoded(p, {"active_fault_code": 26}) == [(26, "Unknown code 26", "warning")]


def test_growatt_zero_is_no_fault_and_an_unknown_code_says_so():
    p = load("growatt")
    assert active_alarms(p, {"active_fault_code": 0}) == []
    [alarm] = active_alarms(p, {"active_fault_code": 117})
    assert (alarm.code, alarm.text, alarm.source) == (117, "Unknown code 117", "active_fault_code")


# --- Solis RHI -------------------------------------------------------------------------------

def test_solis_fault_words_are_input_registers_33116_to_33120():
    p = load("solis-rhi")
    words = {"grid_fault_status": 33116, "backup_fault_status": 33117, "battery_fault_status": 33118,
             "inverter_fault_status_1": 33119, "inverter_fault_status_2": 33120}
    for name, address in words.items():
        point = p.point(name)
        assert (point.address, point.function, point.type, point.category) == \
            (address, "input", "bitfield16", "alarm")
    assert {a.point for a in p.alarms} == set(words)


def test_solis_grid_fault_bits():
    p = load("solis-rhi")
    # 0x0001 no grid, 0x0002 overvoltage, 0x0080 impedance too large, 0x0200 meter communication
    assert _decoded(p, {"grid_fault_status": 0x0001}) == [(1100, "No grid", "error")]
    assert _decoded(p, {"grid_fault_status": 0x0082}) == [(1101, "Grid overvoltage", "error"),
                                                          (1107, "Grid impedance too large", "error")]
    assert _decoded(p, {"grid_fault_status": 0x0200}) == [(1109, "Meter communication failure", "warning")]
    assert _decoded(p, {"grid_fault_status": 0x0400}) == [(1110, "Fail safe", "error")]


def test_solis_backup_battery_and_inverter_fault_bits():
    p = load("solis-rhi")
    assert _decoded(p, {"backup_fault_status": 0x0002}) == [(1201, "Back-up (bypass) overload", "error")]
    assert _decoded(p, {"battery_fault_status": 0x0001}) == [(1300, "Battery not connected", "error")]
    assert _decoded(p, {"battery_fault_status": 0x0004}) == [(1302, "Battery undervoltage detected", "error")]
    assert _decoded(p, {"inverter_fault_status_1": 0x0200}) == [(1409, "IGBT overcurrent", "error")]
    assert _decoded(p, {"inverter_fault_status_1": 0x0800}) == [(1411, "Arc self-test protection", "critical")]
    assert _decoded(p, {"inverter_fault_status_2": 0x0020}) == [(1505, "PV insulation fault", "critical")]
    assert _decoded(p, {"inverter_fault_status_2": 0x8000}) == [(1515, "DSP communication failure", "error")]


def test_solis_several_words_at_once():
    p = load("solis-rhi")
    values = {"grid_fault_status": 0x0004, "backup_fault_status": 0, "battery_fault_status": 0x0002,
              "inverter_fault_status_1": 0, "inverter_fault_status_2": 0x0004}
    assert _decoded(p, values) == [(1102, "Grid undervoltage", "error"),
                                   (1301, "Battery overvoltage detected", "error"),
                                   (1502, "Over-temperature protection", "error")]


def test_solis_zero_is_no_fault_and_an_unnamed_bit_is_reported_as_undocumented():
    p = load("solis-rhi")
    zeros = {"grid_fault_status": 0, "backup_fault_status": 0, "battery_fault_status": 0,
             "inverter_fault_status_1": 0, "inverter_fault_status_2": 0}
    assert active_alarms(p, zeros) == []
    # 33119 bit 12 ("arc fault reservation" in the source) is left out of the table
    [alarm] = active_alarms(p, {"inverter_fault_status_1": 0x1000})
    assert alarm.text == "Undocumented alarm bit 12 in inverter_fault_status_1"
    assert alarm.severity == "warning"


def test_solis_has_no_active_fault_code_point_so_codes_come_only_from_bits():
    p = load("solis-rhi")
    assert not p.has("active_fault_code")
    # a stray value under that name does not invent an alarm from the bit table's codes
    [alarm] = active_alarms(p, {"active_fault_code": 4117})
    assert alarm.text == "Unknown code 4117"

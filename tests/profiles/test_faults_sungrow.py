"""Sungrow fault tables: the codes the inverters report decode to the vendor's own texts.

Where the facts come from (Sungrow's public protocol documents, as published in
github.com/bohdan-s/Sungrow-Inverter, folder "Modbus Information", commit
755ae6fda3e9f2c897ccd11427e2d5df050409ee):

- SH hybrids: "Communication Protocol of Residential Hybrid Inverter" V1.1.9
  (TI_20250620), register table 2.1 (input 13050-13069, ten U32 fault words) and
  Appendix 4 "Fault Codes" (the name of each bit); V1.0.23 (TI_20211231)
  Appendix 1.3 for the code of each bit (low-word base + bit, high-word base +
  bit - 16) and its worked example: inverter alarm 0x00102000 is codes 083 and 504.
- SG string inverters: "Communication Protocol of PV Grid-Connected String
  Inverters" V1.1.37, input register 5045 "Fault/Alarm code 1" and Appendix 3
  "Device Fault Code" (decimal code, hex, name, Fault/Alarm class).

Every expected value below is written by hand from those tables, never read back
from the profiles. Severity is PVDesk's: grid/PV faults "error", device faults
"critical", the vendor's alarms "warning".
"""

from __future__ import annotations

import pytest

from protocols.faults import active_alarms
from protocols.profiles.loader import load

FAULT, ALARM_RUN = 0x5500, 0x9100   # work state 5038 (the SG protocol)


@pytest.fixture(scope="module")
def sh():
    return load("sungrow-sh")


@pytest.fixture(scope="module")
def sg():
    return load("sungrow-sg")


def _decoded(profile, values):
    return [(a.code, a.text, a.severity, a.source) for a in active_alarms(profile, values, seen_s=0.0)]


# --- SH hybrid: bit words ----------------------------------------------------------------------

@pytest.mark.parametrize("point,register", [
    ("inverter_alarm", 13050), ("grid_side_fault", 13052), ("system_fault_1", 13054),
    ("system_fault_2", 13056), ("dc_side_fault", 13058), ("permanent_fault", 13060),
    ("bdc_side_fault", 13062), ("bdc_side_permanent_fault", 13064), ("battery_fault", 13066),
    ("battery_alarm", 13068),
])
def test_sh_fault_words_sit_at_the_documented_input_registers(sh, point, register):
    p = sh.point(point)
    assert p.address + sh.address_base == register     # the document's number; the wire is one less
    assert p.function == "input" and p.type == "bitfield32" and p.category == "alarm"
    assert not p.sentinel


def test_sh_the_documents_worked_example(sh):
    # V1.0.23 Appendix 1.3: inverter alarm 0x00102000 sets bit 13 (70 + 13 = 083) and bit 20 (500 + 4 = 504)
    assert _decoded(sh, {"inverter_alarm": 0x00102000}) == [
        (83, "083 Fan 2 stall alarm", "warning", "inverter_alarm bit 13"),
        (504, "504 Ambient temperature sensor short circuit alarm", "warning", "inverter_alarm bit 20"),
    ]


@pytest.mark.parametrize("point,raw,code,text,severity", [
    ("grid_side_fault", 0x00000001, 2, "002 Grid overvoltage", "error"),
    ("grid_side_fault", 0x00000100, 10, "010 Grid power outage", "error"),
    ("grid_side_fault", 0x00400000, 106, "106 Grounding cable fault", "error"),
    ("dc_side_fault", 0x00000200, 28, "028 PV1 reverse connection fault", "error"),
    ("dc_side_fault", 0x01000000, 208, "208 PV3 reverse connection fault", "error"),
    ("system_fault_2", 0x00000008, 39, "039 Low system insulation resistance", "error"),
    ("system_fault_1", 0x00000010, 304, "304 EPS relay failure", "critical"),
    ("permanent_fault", 0x00000010, 405, "405 Relay perm fault", "critical"),
    ("bdc_side_permanent_fault", 0x00000004, 802, "802 Battery overvoltage permanent fault", "critical"),
    ("battery_fault", 0x00010000, 716, "716 Abnormal battery connection (reversed polarity)", "error"),
    ("inverter_alarm", 0x40000000, 514, "514 Meter communication alarm", "warning"),
])
def test_sh_fault_bits_decode_to_the_vendor_code_and_text(sh, point, raw, code, text, severity):
    bit = raw.bit_length() - 1
    assert _decoded(sh, {point: raw}) == [(code, text, severity, f"{point} bit {bit}")]
    assert sh.fault_codes[code].text == text       # the code alone (fault history) reads the same


def test_sh_a_reserved_bit_is_shown_raw_not_guessed(sh):
    # grid-side fault bit 4 is "Reserved" in Appendix 4 (code 006 was withdrawn by Sungrow)
    (alarm,) = active_alarms(sh, {"grid_side_fault": 1 << 4}, seen_s=0.0)
    assert alarm.text == "Undocumented alarm bit 4 in grid_side_fault" and alarm.severity == "warning"
    assert 6 not in sh.fault_codes


def test_sh_clear_words_give_no_alarm(sh):
    words = {p.name: 0 for p in sh.points if p.category == "alarm"}
    assert len(words) == 10
    assert active_alarms(sh, words) == []


# --- SG string inverter: one code register --------------------------------------------------------

def test_sg_fault_code_register_is_input_5045(sg):
    p = sg.point("active_fault_code")
    assert p.address + sg.address_base == 5045
    assert p.function == "input" and p.type == "u16" and p.category == "alarm" and not p.sentinel


@pytest.mark.parametrize("code,text,severity", [
    (0x0002, "002 Grid overvoltage", "error"),
    (0x0003, "003 Grid transient overvoltage", "error"),
    (0x0009, "009 Grid underfrequency", "error"),
    (0x000B, "011 Device abnormal", "critical"),
    (0x0027, "039 Low system insulation resistance", "error"),
    (0x0046, "070 Fan alarm", "warning"),
    (0x006A, "106 Grounding cable fault", "error"),
    (0x01C0, "448 String 1 reverse connection fault", "error"),
    (0x0202, "514 Meter communication abnormal alarm", "warning"),
    (0x05DC, "1500 PV1 overvoltage", "error"),
])
def test_sg_fault_code_decodes_to_the_vendor_text(sg, code, text, severity):
    assert _decoded(sg, {"active_fault_code": code, "work_state": FAULT}) == [(code, text, severity,
                                                                               "active_fault_code")]


@pytest.mark.parametrize("code", [6, 26, 9999])
def test_sg_unknown_code_is_shown_as_unknown(sg, code):
    # 006 and 026 were deleted from Appendix 3 in V1.1.23; 9999 was never a code
    (alarm,) = active_alarms(sg, {"active_fault_code": code, "work_state": ALARM_RUN}, seen_s=0.0)
    assert (alarm.code, alarm.text, alarm.severity) == (code, f"Unknown code {code}", "warning")


def test_sg_code_zero_is_no_alarm(sg):
    assert active_alarms(sg, {"active_fault_code": 0, "work_state": FAULT}) == []


@pytest.mark.parametrize("state", [0x0000, 0x8000, None])   # run, stop, work state not read
def test_sg_a_code_left_over_from_an_earlier_fault_is_not_an_active_alarm(sg, state):
    """5045 keeps the last code while the inverter runs again (the protocol: valid only in the fault
    0x5500 and alarm-run 0x9100 states), so it must not show as an alarm then."""
    assert active_alarms(sg, {"active_fault_code": 2, "work_state": state}, seen_s=0.0) == []
    assert [a.code for a in active_alarms(sg, {"active_fault_code": 2, "work_state": FAULT}, seen_s=0.0)] == [2]


def test_a_fault_code_gate_must_name_points_the_profile_has():
    from protocols.errors import ProfileError
    from protocols.profiles.loader import from_dict
    head = {"name": "gate", "title": "Gate", "vendor": "test"}
    points = [{"name": "active_fault_code", "address": 0, "type": "u16", "category": "alarm"}]
    with pytest.raises(ProfileError, match="fault_code_valid, field point: refers to unknown point 'state'"):
        from_dict({"profile": head, "points": points, "fault_code_valid": {"point": "state", "values": [1]}})
    with pytest.raises(ProfileError, match="fault_code_valid"):
        from_dict({"profile": head, "points": [{"name": "state", "address": 0, "type": "u16"}],
                   "fault_code_valid": {"point": "state", "values": [1]}})

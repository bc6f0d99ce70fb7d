"""Deye / Sunsynk hybrid alarm tables: raw warning and fault words decode to the vendor's codes and texts.

The raw words below are written by hand from the documents, not computed from the profiles:

* single-phase (deye-hybrid-1p): fault words 103-106 are one 64-bit field, 103 holding bits 0-15, and
  bit n is fault F(n+1), as in the vendor's table of "Sol-Ark Modbus RTU Protocol" V1.1 (the OEM's
  document for these inverters; copy in gonzalop/wombatt, commit 135d583, docs/ref/solark-modbus-1.1.pdf):
  bit 7 F08, bit 12 F13, bit 17 F18, bit 46 F47, bit 62 F63, bit 63 F64. F35 (bit 34) is from
  kellerza/sunsynk's FaultSensor (Apache-2.0, commit 58193d5, src/sunsynk/sensors.py).
* three-phase (deye-hybrid-3p): fault words 555-558 the same way, texts from Deye's three-phase F01-F64
  table as kellerza/sunsynk transcribed it (HVFaultSensor): bit 0 F01, bit 40 F41, bit 57 F58.
* warning words 101-102 / 553-554 are one 32-bit field: bit 1 fan, bit 2 grid phase, bit 3 meter
  communication, bit 30 battery loss, bit 31 parallel communication quality (davidrapan/ha-solarman,
  MIT, commit ac1d88b, deye_hybrid.yaml / deye_p3.yaml "Device Alarm"). They have no vendor code;
  PVDesk numbers them 1000 + bit.

Raw words: 0x1000 is bit 12, 0x0080 bit 7, 0x0002 bit 1, 0x0004 bit 2, 0x0100 bit 8, 0x0200 bit 9,
0x4000 bit 14, 0x8000 bit 15, 0x0001 bit 0.
"""

from __future__ import annotations

import pytest

from protocols.faults import active_alarms
from protocols.profiles import loader

ZERO = {f"alarm_word_{i}": 0 for i in range(1, 7)}


def decoded(profile, **words):
    values = dict(ZERO, **words)
    return sorted((a.code, a.text, a.severity, a.source) for a in active_alarms(profile, values, seen_s=0.0))


@pytest.fixture(scope="module")
def p1():
    return loader.load("deye-hybrid-1p")


@pytest.fixture(scope="module")
def p3():
    return loader.load("deye-hybrid-3p")


def test_the_alarm_words_sit_where_the_documents_put_them(p1, p3):
    assert [p1.point(f"alarm_word_{i}").address for i in range(1, 7)] == [101, 102, 103, 104, 105, 106]
    assert [p3.point(f"alarm_word_{i}").address for i in range(1, 7)] == [553, 554, 555, 556, 557, 558]
    assert p1.point("alarm_word_3").label == "Fault information word 1"
    assert p3.point("alarm_word_1").label == "Warning message word 1"


@pytest.mark.parametrize("name", ["deye-hybrid-1p", "deye-hybrid-3p"])
def test_all_zero_is_no_alarm(name):
    assert active_alarms(loader.load(name), dict(ZERO)) == []


def test_single_phase_fault_words(p1):
    assert decoded(p1, alarm_word_3=0x1000) == [
        (13, "F13 Working mode change", "warning", "alarm_word_3 bit 12")]
    assert decoded(p1, alarm_word_3=0x0080) == [
        (8, "F08 GFDI relay failure", "critical", "alarm_word_3 bit 7")]
    assert decoded(p1, alarm_word_4=0x0002) == [
        (18, "F18 AC over-current (hardware)", "error", "alarm_word_4 bit 1")]
    assert decoded(p1, alarm_word_5=0x0004 | 0x4000) == [
        (35, "F35 No AC grid", "error", "alarm_word_5 bit 2"),
        (47, "F47 AC over-frequency", "error", "alarm_word_5 bit 14")]
    assert decoded(p1, alarm_word_6=0x4000 | 0x8000) == [
        (63, "F63 Arc fault", "error", "alarm_word_6 bit 14"),
        (64, "F64 Heatsink high temperature", "error", "alarm_word_6 bit 15")]


def test_three_phase_fault_words(p3):
    assert decoded(p3, alarm_word_3=0x0001 | 0x1000) == [
        (1, "F01 DC inversed (PV polarity)", "error", "alarm_word_3 bit 0"),
        (13, "F13 Working mode change", "warning", "alarm_word_3 bit 12")]
    assert decoded(p3, alarm_word_5=0x0004 | 0x0100) == [
        (35, "F35 No AC grid", "error", "alarm_word_5 bit 2"),
        (41, "F41 Parallel system stopped", "error", "alarm_word_5 bit 8")]
    assert decoded(p3, alarm_word_6=0x0200 | 0x8000) == [
        (58, "F58 BMS communication lost", "error", "alarm_word_6 bit 9"),
        (64, "F64 Heatsink high temperature", "error", "alarm_word_6 bit 15")]


def test_the_families_differ_where_their_documents_do(p1, p3):
    """F41 is a grid over-voltage in the single-phase table, a parallel-system stop in the three-phase one."""
    assert decoded(p1, alarm_word_5=0x0100) == [(41, "F41 AC W-U over-voltage", "error", "alarm_word_5 bit 8")]
    assert decoded(p3, alarm_word_5=0x0100) == [(41, "F41 Parallel system stopped", "error", "alarm_word_5 bit 8")]


@pytest.mark.parametrize("name", ["deye-hybrid-1p", "deye-hybrid-3p"])
def test_warning_words(name):
    p = loader.load(name)
    assert decoded(p, alarm_word_1=0x0002 | 0x0004) == [
        (1001, "Fan failure", "warning", "alarm_word_1 bit 1"),
        (1002, "Grid phase failure", "warning", "alarm_word_1 bit 2")]
    assert decoded(p, alarm_word_2=0x4000 | 0x8000) == [
        (1030, "Battery loss", "warning", "alarm_word_2 bit 14"),
        (1031, "Parallel communication quality", "warning", "alarm_word_2 bit 15")]


def test_an_undocumented_bit_says_so(p1, p3):
    # F17 (fault bit 16 = 104/556 bit 0) is in no source; F01 (103 bit 0) is not in the single-phase table
    for p in (p1, p3):
        (alarm,) = active_alarms(p, dict(ZERO, alarm_word_4=0x0001))
        assert alarm.text == "Undocumented alarm bit 0 in alarm_word_4" and alarm.severity == "warning"
    (alarm,) = active_alarms(p1, dict(ZERO, alarm_word_3=0x0001))
    assert alarm.text.startswith("Undocumented alarm bit 0")
    # a documented and an undocumented bit in one word: both are reported
    texts = sorted(a.text for a in active_alarms(p1, dict(ZERO, alarm_word_1=0x0002 | 0x0001)))
    assert texts == ["Fan failure", "Undocumented alarm bit 0 in alarm_word_1"]

"""The profile schema's features: computed points, sentinels, plausibility, dates and times,
identity rules, link defaults, strings, bit fields, 1-based documents."""

from __future__ import annotations

import asyncio

import pytest

from protocols import codecs
from protocols.device import Device, WriteRefused
from protocols.errors import PointNotSupported, ProfileError
from protocols.profiles import identity
from protocols.profiles.loader import from_dict

NA = codecs.NOT_IMPLEMENTED
HEAD = {"name": "t", "title": "T", "vendor": "Test"}


class DictSession:
    """A register image in memory that refuses (exception 02) any read spanning a missing register."""

    def __init__(self, holding: dict[int, int]) -> None:
        self.holding = dict(holding)
        self.reads: list[tuple[int, int]] = []
        self.writes: list[tuple[int, list[int]]] = []

    async def read_registers(self, address, count, *, function="holding", unit=1):
        self.reads.append((address, count))
        if any(a not in self.holding for a in range(address, address + count)):
            raise PointNotSupported(2, 3, address, unit)
        return [self.holding[a] for a in range(address, address + count)]

    async def write_registers(self, address, values, *, unit=1):
        self.writes.append((address, list(values)))
        for i, v in enumerate(values):
            self.holding[address + i] = v


def profile(points, **extra):
    return from_dict({"profile": dict(HEAD, **extra.pop("head", {})), "points": points, **extra})


def read(prof, holding, names=None):
    dev = Device(DictSession(holding), prof, 1)
    pts = None if names is None else [prof.point(n) for n in names]
    return asyncio.run(dev.read(pts))


STRINGS = [{"name": f"pv{i}_power_w", "address": 10 + i, "type": "u16"} for i in (1, 2, 3)]


def test_sum_of_strings_leaves_out_a_string_the_device_refuses_and_total_falls_back():
    prof = profile(STRINGS + [
        {"name": "pv_total_w", "address": 20, "type": "u16"},
        {"name": "pv_strings_w", "compute": "sum", "of": ["pv1_power_w", "pv2_power_w", "pv3_power_w"],
         "missing": "skip"},
        {"name": "pv_power_w", "compute": "first", "of": ["pv_total_w", "pv_strings_w"], "unit": "W"}])
    # the device has strings 1 and 2 only, and refuses the total register
    s = read(prof, {11: 1200, 12: 850}, ["pv_power_w"])
    assert s.values["pv_power_w"] == 2050 and s.values["pv3_power_w"] is NA
    assert s.values["pv_total_w"] is NA
    # with the total present it wins
    s = read(prof, {11: 1200, 12: 850, 13: 0, 20: 2100}, ["pv_power_w"])
    assert s.values["pv_power_w"] == 2100
    # nothing at all: n/a, not 0
    assert read(prof, {}, ["pv_power_w"]).values["pv_power_w"] is NA
    assert prof.resolve("pv_power_w") == "pv_power_w" and prof.point("pv_power_w").computed


def test_difference_product_ratio_and_na_propagation():
    prof = profile([
        {"name": "a", "address": 0, "type": "s16"}, {"name": "b", "address": 1, "type": "s16"},
        {"name": "v", "address": 2, "type": "u16", "scale": 0.1},
        {"name": "i", "address": 3, "type": "s16", "scale": 0.1},
        {"name": "d", "compute": "difference", "of": ["a", "b"]},
        {"name": "p", "compute": "product", "of": ["v", "i"], "invert": True},
        {"name": "r", "compute": "ratio", "of": ["a", "b"], "scale": 100},
        {"name": "d_of_computed", "compute": "difference", "of": ["d", "a"]}])
    s = read(prof, {0: 300, 1: 0xFFCE, 2: 5123, 3: 0xFF9C})   # b = -50, i = -10.0 A
    assert s.values["d"] == 350
    assert s.values["p"] == pytest.approx(5123.0)             # -(512.3 V x -10 A)
    assert s.values["r"] == pytest.approx(-600.0)
    assert s.values["d_of_computed"] == 50
    s = read(prof, {0: 300, 1: 0, 2: 5123, 3: 0x8000})        # i not implemented, b = 0
    assert s.values["p"] is NA and s.values["r"] is NA and s.values["d"] == 300


def test_computed_points_are_checked_when_loaded():
    with pytest.raises(ProfileError, match=r"points\[1\] \('x'\), field of: refers to unknown point 'nope'"):
        profile([{"name": "a", "address": 0, "type": "u16"},
                 {"name": "x", "compute": "sum", "of": ["a", "nope"]}])
    with pytest.raises(ProfileError, match="a ratio takes exactly two points"):
        profile([{"name": "a", "address": 0, "type": "u16"}, {"name": "x", "compute": "ratio", "of": ["a"]}])
    with pytest.raises(ProfileError, match="field address: required"):
        profile([{"name": "a", "type": "u16"}])
    with pytest.raises(ProfileError, match="no address or type"):
        profile([{"name": "a", "address": 0, "type": "u16"},
                 {"name": "x", "compute": "sum", "of": ["a"], "address": 3}])


def test_sentinels_and_plausibility_hide_impossible_values():
    prof = profile([
        {"name": "module_temperature_c", "address": 0, "type": "s16", "scale": 0.1,
         "sentinels": [0x7FFF, 0xFFFF]},
        {"name": "soc_pct", "address": 1, "type": "u16", "plausible": [0, 100], "range": [5, 100]}])
    s = read(prof, {0: 0x7FFF, 1: 101})
    assert s.values["module_temperature_c"] is NA and s.values["soc_pct"] is NA
    assert s.flags["soc_pct"] == "implausible"
    s = read(prof, {0: 0xFFFF, 1: 3})
    assert s.values["module_temperature_c"] is NA
    assert s.values["soc_pct"] == 3 and s.flags["soc_pct"] == "out_of_range"   # flagged, still shown
    s = read(prof, {0: 0x0123, 1: 55})
    assert s.values["module_temperature_c"] == pytest.approx(29.1) and not s.flags


CLOCKS = [
    # GoodWe-style: 3 registers, two fields each, year + 2000
    ({"type": "datetime", "count": 3, "layout": ["year", "month", "day", "hour", "minute", "second"],
      "year_offset": 2000}, [0x1805, 0x0E0D, 0x2A10]),
    # one field a register, full year
    ({"type": "datetime", "count": 6, "layout": ["year", "month", "day", "hour", "minute", "second"]},
     [2024, 5, 14, 13, 42, 16]),
    # BCD, year offset
    ({"type": "datetime", "count": 3, "encoding": "bcd", "year_offset": 2000,
      "layout": ["year", "month", "day", "hour", "minute", "second"]}, [0x2405, 0x1413, 0x4216]),
    # seconds since 1970
    ({"type": "datetime", "encoding": "epoch"}, [0x6643, 0x6A38]),
]


@pytest.mark.parametrize("spec,regs", CLOCKS)
def test_datetime_reads_and_writes(spec, regs):
    prof = profile([dict(spec, name="device_time", address=100, writable=True)])
    holding = {100 + i: r for i, r in enumerate(regs)}
    assert read(prof, holding).values["device_time"] == "2024-05-14 13:42:16"
    session = DictSession({100 + i: 0 for i in range(len(regs))})
    dev = Device(session, prof, 1)
    assert asyncio.run(dev.write_point("device_time", "2024-05-14 13:42:16")) == "2024-05-14 13:42:16"
    assert session.writes == [(100, regs)]
    with pytest.raises(WriteRefused, match="not a date and time"):
        dev.validate(prof.point("device_time"), "tomorrow")


def test_datetime_impossible_is_na_and_layout_is_checked():
    prof = profile([{"name": "t", "address": 0, "type": "datetime", "count": 3, "year_offset": 2000,
                     "layout": ["year", "month", "day", "hour", "minute", "second"]}])
    assert read(prof, {0: 0, 1: 0, 2: 0}).values["t"] is NA          # all zero: the clock was never set
    assert read(prof, {0: 0x180D, 1: 0x0101, 2: 0}).values["t"] is NA  # month 13
    with pytest.raises(ProfileError, match="field layout"):
        profile([{"name": "t", "address": 0, "type": "datetime", "count": 4, "layout": ["year", "month"]}])


@pytest.mark.parametrize("encoding,raw", [("bytes", 0x161E), ("decimal", 2230), ("minutes", 1350),
                                          ("bcd", 0x2230)])
def test_time_of_day_reads_and_writes(encoding, raw):
    prof = profile([{"name": "slot1_start", "address": 5, "type": "time", "encoding": encoding,
                     "writable": True}])
    assert read(prof, {5: raw}).values["slot1_start"] == "22:30"
    dev = Device(DictSession({5: 0}), prof, 1)
    assert dev.validate(prof.point("slot1_start"), "22:30") == [raw]
    with pytest.raises(WriteRefused, match="not a time of day"):
        dev.validate(prof.point("slot1_start"), "25:10")


def test_strings_ascii_and_utf16_cut_at_nul():
    prof = profile([{"name": "fw", "address": 0, "type": "string", "count": 6, "encoding": "utf16"},
                    {"name": "model", "address": 10, "type": "string", "count": 4}])
    fw = [0x30, 0x34, 0x2E, 0x31, 0, 0x41]        # "04.1", NUL, then garbage
    model = [0x4757, 0x3130, 0x4B00, 0x5858]      # "GW10K", NUL, "XX"
    s = read(prof, {**{i: r for i, r in enumerate(fw)}, **{10 + i: r for i, r in enumerate(model)}})
    assert s.values["fw"] == "04.1" and s.values["model"] == "GW10K"
    assert codecs.encode_point("04.1", prof.point("fw")) == [0x30, 0x34, 0x2E, 0x31, 0, 0]


def test_bit_fields_split_per_phase_nibble():
    prof = profile([{"name": "meter_test_status", "address": 0, "type": "u16", "sentinel": False,
                     "fields": {f"l{n}": {"bits": [4 * (n - 1), 4 * n - 1],
                                          "enum": {"0": "Not checked", "1": "Correct", "2": "Reversed"}}
                                for n in (1, 2, 3)}}])
    s = read(prof, {0: 0x0211})
    assert (s.values["meter_test_status_l1"], s.values["meter_test_status_l2"],
            s.values["meter_test_status_l3"]) == (1, 1, 2)
    assert prof.point("meter_test_status_l3").enum[2] == "Reversed"
    assert read(prof, {0: 0xFFFF}).values["meter_test_status_l1"] == 15   # sentinel off: a real value


def test_document_counting_from_one_is_shifted_on_load():
    prof = profile([{"name": "device_type_code", "address": 5000, "type": "u16", "function": "input"}],
                   head={"address_base": 1})
    assert prof.point("device_type_code").address == 4999 and prof.address_base == 1


def test_link_defaults_and_verification_mark():
    prof = profile([{"name": "a", "address": 0, "type": "u16"}],
                   head={"verified": False, "verification": "no public capture"},
                   link={"units": [247, 1], "tcp_ports": [502, 6607], "baud": 9600, "parity": "N"})
    assert prof.defaults.units == (247, 1) and prof.defaults.tcp_ports == (502, 6607)
    assert not prof.verified and prof.extra["verification"] == "no public capture"
    assert profile([{"name": "a", "address": 0, "type": "u16"}]).defaults.units == (1,)


ID_POINTS = [{"name": "serial_number", "address": 0, "type": "string", "count": 8},
             {"name": "model_name", "address": 8, "type": "string", "count": 5},
             {"name": "type_code", "address": 13, "type": "u16"}]


def ident(match, priority=0):
    return profile(ID_POINTS, identity={"match": match, "priority": priority})


def test_identity_rules_prefix_contains_regex_any_all_negate():
    values = {"serial_number": "5010KETU219W0001", "model_name": "0GW10K-ET", "type_code": 0x0D0F}
    cases = [
        ([{"point": "model_name", "prefix": "GW"}], False),                 # the old rule misses this unit
        ([{"point": "serial_number", "contains": "ETU"}], True),
        ([{"point": "serial_number", "regex": "^[0-9]{4}[0-9A-Z](ET|EH|BT)"}], True),
        ([{"any_of": [{"point": "model_name", "prefix": "GW"},
                      {"point": "serial_number", "contains": "ETU"}]}], True),
        ([{"all_of": [{"point": "model_name", "contains": "ET"},
                      {"point": "type_code", "one_of": [0x0D0F, 0x0D10]}]}], True),
        ([{"point": "type_code", "range": [0x0D00, 0x0D0E]}], False),
        ([{"point": "serial_number", "prefix": "5010", "negate": True}], False),
    ]
    for match, want in cases:
        ok, why = identity.judge(ident(match), values)
        assert ok is want, (match, why)
    ok, why = identity.judge(ident([{"point": "serial_number", "contains": "ETU"}]), values)
    assert "serial_number contains 'ETU'" in why and "5010KETU219W0001" in why
    # a value that is not available never passes
    assert not identity.judge(ident([{"point": "model_name", "contains": "GW"}]), {"model_name": NA})[0]


def test_identity_priority_orders_families_and_bad_rules_are_refused():
    broad, narrow = ident([{"point": "serial_number", "prefix": "S"}]), ident(
        [{"point": "serial_number", "prefix": "SE"}], priority=10)
    object.__setattr__(broad, "name", "b-broad")
    object.__setattr__(narrow, "name", "z-narrow")
    assert [p.name for p in identity.order([broad, narrow])] == ["z-narrow", "b-broad"]
    with pytest.raises(ProfileError, match=r"identity.match\[0\], field regex: not a valid"):
        ident([{"point": "model_name", "regex": "GW("}])
    with pytest.raises(ProfileError, match="exactly one of"):
        ident([{"point": "model_name", "prefix": "GW", "contains": "ET"}])
    with pytest.raises(ProfileError, match=r"identity.match\[0\].any_of\[1\], field point"):
        ident([{"any_of": [{"point": "model_name", "prefix": "GW"}, {"point": "nope", "prefix": "x"}]}])

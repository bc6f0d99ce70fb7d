"""Every shipped profile loads and is complete; a broken profile is refused with file, entry and field named."""

from __future__ import annotations

import pytest

from protocols import codecs
from protocols.errors import ProfileError
from protocols.profiles import loader
from protocols.profiles.model import Point, Profile
from protocols.reader import engineering

CANONICAL = ["pv_power_w", "pv1_voltage_v", "pv1_current_a", "pv1_power_w", "pv2_voltage_v",
             "inverter_power_w", "ac_voltage_v", "ac_frequency_hz", "battery_voltage_v",
             "battery_current_a", "battery_power_w", "battery_soc_pct", "grid_power_w",
             "load_power_w", "pv_energy_today_kwh", "pv_energy_total_kwh", "import_energy_today_kwh",
             "export_energy_today_kwh", "inverter_temperature_c", "serial_number"]
VENDOR = ["goodwe-et", "sofar-hyd-g3"]
NO_FIRMWARE_REGISTERS = {"sofar-hyd-es", "sungrow-sg", "victron-gx-system", "victron-gx-vebus", "victron-gx-battery"}


def test_the_shipped_profiles_are_listed():
    assert {"pvdesk-hybrid", "goodwe-et", "sofar-hyd-g3"} <= set(loader.available())


@pytest.mark.parametrize("name", loader.available())
def test_shipped_profile_loads_and_is_consistent(name):
    p = loader.load(name)
    assert p.name == name and p.kind == "map" and p.source.endswith(".toml")
    assert p.identity, "a shipped map profile needs identity rules for auto-detection"
    assert p.identity_rule_points() and all(p.has(n) for n in p.identity_rule_points())
    assert p.defaults.units and p.defaults.tcp_ports
    # a family whose public table documents no firmware register says so in docs/profiles.md
    assert p.firmware or name in NO_FIRMWARE_REGISTERS
    assert all(p.has(c.version_point) for c in p.firmware)
    for alarm in p.alarms:
        assert p.point(alarm.point).type.startswith("bitfield")
        width = 16 if p.point(alarm.point).type == "bitfield16" else 32
        assert alarm.bits and all(0 <= b < width for b in alarm.bits)
        for fc in alarm.bits.values():
            assert fc.text and fc.severity in ("info", "warning", "error", "critical")
            assert p.fault_codes[fc.code].text == fc.text
    for param in p.parameters:
        if param.name.endswith("_unix_s") or param.type in ("datetime", "time"):
            continue  # a clock takes any time
        assert param.enum or (param.min is not None and param.max is not None), param.name
    for point in p.points:
        if point.scale_factor:
            assert p.point(point.scale_factor).type == "sunssf"


@pytest.mark.parametrize("name", VENDOR)
def test_vendor_profiles_use_the_canonical_names(name):
    p = loader.load(name)
    missing = [n for n in CANONICAL if not p.has(n)]
    assert not missing
    assert p.point("battery_soc_pct").unit == "%" and p.point("grid_power_w").unit == "W"
    assert "+ import" in p.point("grid_power_w").label
    assert "+ discharge" in p.point("battery_power_w").label
    # commissioning settings are guarded: a confirmation, and a range or a list of values
    for setting in ("export_limit_w", "export_limit_enabled", "work_mode"):
        s = p.point(setting)
        assert s.writable and s.confirm
    assert p.point("export_limit_w").max >= 10000
    assert len(p.firmware) >= 3
    assert sum(len(a.bits) for a in p.alarms) >= 30


def test_invert_negates_reads_only_where_asked():
    pts = (Point("a", 0, "s16", scale=10, invert=True), Point("b", 1, "s16", scale=10),
           Point("c", 2, "u16", invert=True))
    prof = Profile("t", "t", "t", "t", pts)
    values, _ = engineering(prof, {"a": 120, "b": 120, "c": codecs.NOT_IMPLEMENTED})
    assert values == {"a": -1200, "b": 1200, "c": codecs.NOT_IMPLEMENTED}


HEAD = '[profile]\nname = "broken"\ntitle = "Broken"\nvendor = "Test"\n\n'
BROKEN = [
    ('[[points]]\nname = "pv_power_w"\naddress = 1\ntype = "uint16"\n', "points[0] ('pv_power_w')", "field type"),
    ('[[points]]\nname = "model"\naddress = 1\ntype = "string"\n', "points[0] ('model')", "field count"),
    ('[[points]]\nname = "w"\naddress = 1\ntype = "s16"\nscale_factor = "w_sf"\n', "points[0] ('w')", "field scale_factor"),
    ('[[points]]\nname = "a"\naddress = 1\ntype = "s16"\n\n[[points]]\nname = "b"\naddress = 2\ntype = "u16"\ninvert = "yes"\n',
     "points[1] ('b')", "field invert"),
    ('[[points]]\nname = "a"\naddress = 70000\ntype = "u16"\n', "points[0] ('a')", "field address"),
    ('[[points]]\nname = "a"\naddress = 1\ntype = "u32"\n\n[[points]]\nname = "b"\naddress = 2\ntype = "u16"\n', "'a' and 'b'", "overlap"),
    ('[[points]]\nname = "a"\naddress = 1\ntype = "u16"\n\n[[firmware]]\ncomponent = "x"\nlabel = "X"\nversion_point = "nope"\n',
     "firmware[0]", "field version_point"),
]


@pytest.mark.parametrize("body,entry,field", BROKEN)
def test_a_broken_profile_names_file_entry_and_field(tmp_path, body, entry, field):
    path = tmp_path / "broken-profile.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        loader.load(path)
    msg = str(err.value)
    assert msg.startswith("broken-profile.toml: ")
    assert entry in msg and field in msg


def test_a_profile_that_is_not_toml_says_so(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(HEAD + "[[points]\nname = 1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"typo.toml: not valid TOML"):
        loader.load(path)


def test_an_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(ProfileError, match="goodwe-et") as err:
        loader.load("no-such-inverter")
    assert "no-such-inverter" in str(err.value)


def test_resolve_maps_canonical_names_to_the_profiles_own_points():
    """Profile.resolve: a point of the canonical name, else the profile's alias, else None (never a guess)."""
    import dataclasses

    hybrid = loader.load("pvdesk-hybrid")
    assert hybrid.resolve("pv_power_w") == "pv_power_w"
    assert hybrid.resolve("no_such_quantity_w") is None
    aliased = dataclasses.replace(hybrid, extra={"aliases": {"house_load_w": "load_power_w",
                                                            "ghost_w": "not_a_point"}})
    assert aliased.resolve("house_load_w") == "load_power_w"
    assert aliased.resolve("ghost_w") is None


@pytest.mark.parametrize("name", loader.available())
def test_shipped_profile_survives_the_recording_round_trip(name):
    """Recordings carry the profile as a file dict: computed points, bit fields, codec options,
    identity groups and link defaults come back the same."""
    from desktop.diag.profile_doc import from_doc, to_doc
    p = loader.load(name)
    back = from_doc(to_doc(p))
    assert back.points == p.points
    assert back.identity == p.identity and back.priority == p.priority
    assert back.defaults == p.defaults and back.verified == p.verified
    assert back.extra.get("fault_code_valid") == p.extra.get("fault_code_valid")  # a stale code stays hidden

"""typed_value.parse_setting: numbers with units, scales and register types, each refusal naming the setting."""
from __future__ import annotations

import pytest

from protocols.device import WriteRefused
from protocols.profiles.model import Point

from desktop.commission.typed_value import allowed_range, parse_setting


def point(**kw) -> Point:
    base = dict(name="p", address=0, type="u16", writable=True, unit="W")
    base.update(kw)
    return Point(**base)


@pytest.mark.parametrize("kw, typed, want", [
    (dict(unit="W"), "5 kW", 5000),
    (dict(unit="W", type="u32"), "1.2 MW", 1_200_000),
    (dict(unit="kW", scale=0.01), "500 W", 0.5),
    (dict(unit="kW", scale=0.01), "2.5", 2.5),
    (dict(unit="V", scale=0.1), "230.4 V", 230.4),
    (dict(unit="W", scale=100), "3 kW", 3000),
    (dict(unit="s", type="s16"), "-90", -90),
    (dict(unit="%"), " 25 % ", 25),
    (dict(unit="A", scale=0.1), "1500 mA", 1.5),
])
def test_units_and_scales(kw, typed, want):
    assert parse_setting(point(**kw), typed) == pytest.approx(want)


@pytest.mark.parametrize("kw, typed, words", [
    (dict(unit="W"), "5 kWh", "not a unit of this setting"),
    (dict(unit="W", scale=100), "3050", "not a multiple of the step 100 W"),
    (dict(unit="W"), "65535", "outside 0..65534 W"),          # 0xFFFF reads back as "not implemented"
    (dict(unit="W", type="s16"), "-32768", "outside -32767..32767 W"),
    (dict(unit="", type="u16"), "5 W", "it is in no unit"),
    (dict(unit="W"), "5e", "not a unit"),
    (dict(unit="W"), "1.5.5", "not a plain number"),
    (dict(unit="W"), "–5", "ASCII"),                            # an en dash, not a minus
])
def test_refusals_name_the_setting_and_why(kw, typed, words):
    with pytest.raises(WriteRefused) as err:
        parse_setting(point(name="export_limit_w", **kw), typed)
    assert words in str(err.value) and str(err.value).startswith("export_limit_w: ")


def test_the_profile_range_narrows_the_type_range_and_invert_flips_it():
    assert allowed_range(point(type="s16", min=-100, max=50_000)) == (-100, 32767)
    assert allowed_range(point(type="u16", invert=True)) == (-65534, 0)

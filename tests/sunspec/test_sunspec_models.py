"""SunSpec model definitions -> profile points: types, scale factors, repeating groups, names."""

from __future__ import annotations

import pytest
from sunspec2 import device as ss_device

from protocols import codecs
from protocols.errors import ProfileError
from protocols.sunspec import build_profile, model_length, model_points
from protocols.sunspec.models import PREFIXES, TYPES


def _chain(models, base=40000):
    chain, addr = [], base + 2
    for model_id, repeats in models:
        length = model_length(model_id, repeats)
        chain.append((model_id, addr, length))
        addr += 2 + length
    return chain


def test_every_type_in_the_mapped_models_has_a_codec_decision():
    for model_id in PREFIXES:
        top = ss_device.get_model_def(model_id, mapping=False)["group"]
        stack = [top]
        while stack:
            g = stack.pop()
            stack += g.get("groups", [])
            for p in g.get("points", []):
                assert p["type"] in TYPES, (model_id, p["name"], p["type"])
                ctype = TYPES[p["type"]]
                if ctype and ctype != "string":
                    assert codecs.WIDTH[ctype] == int(p.get("size", 1)), (model_id, p["name"])


def test_points_follow_the_model_definition():
    mp = model_points(103, 40070, 50)
    by = {p.name: p for p in mp.points}
    assert by["inverter_a"].address == 40072 and by["inverter_a"].scale_factor == "inverter_a_sf"
    assert by["inverter_w"].type == "s16" and by["inverter_wh"].type == "acc32" and by["inverter_wh"].width == 2
    assert by["inverter_evt1"].type == "bitfield32" and by["inverter_evt1"].bits[0] == "GROUND_FAULT"
    assert by["inverter_st"].enum[4] == "MPPT" and by["inverter_st"].category == "status"
    assert by["inverter_tmpcab"].unit == "°C" and by["inverter_tmpcab"].category == "temperature"
    assert max(p.end for p in mp.points) == 40070 + 2 + 50
    assert {a.point for a in mp.alarms} == {"inverter_evt1"}  # Evt2 defines no bits


def test_repeating_modules_take_their_count_from_the_length():
    for n in (1, 3):
        mp = model_points(160, 41000, model_length(160, n))
        names = {p.name for p in mp.points}
        assert {f"mppt{k}_dcw" for k in range(1, n + 1)} <= names
        assert f"mppt{n + 1}_dcw" not in names
        dcw = next(p for p in mp.points if p.name == f"mppt{n}_dcw")
        assert dcw.scale_factor == "mppt_dcw_sf"  # module points scale by the model's top-level factor


def test_profile_names_are_unique_and_repeated_models_numbered():
    chain = _chain([(1, 0), (101, 0), (120, 0), (203, 0), (203, 0), (701, 0), (705, 0), (714, 2)])
    prof = build_profile(chain, 40000)
    names = [p.name for p in prof.points]
    assert len(names) == len(set(names))
    assert "meter_w" in names and "meter2_w" in names
    assert prof.extra["sunspec"]["skipped"] == {120: "not mapped"}
    parts = {m["id"]: m for m in prof.extra["sunspec"]["models"]}
    assert parts[705]["skipped_groups"] == ["Crv"]  # nested curves need their counts read first
    assert prof.extra["aliases"]["inverter_power_w"] == "inverter_w"
    assert prof.extra["aliases"]["grid_power_w"] == "meter_w"
    # scale factors always name a point of the same profile
    assert all(prof.has(p.scale_factor) for p in prof.points if p.scale_factor)


def test_a_chain_without_mapped_models_is_an_error():
    with pytest.raises(ProfileError, match="none of its models"):
        build_profile(_chain([(120, 0)]), 40000)

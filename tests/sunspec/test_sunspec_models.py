"""SunSpec model definitions -> profile points: every model, nested groups, names, short and long models."""

from __future__ import annotations

import glob
import json
import os
import re

import pytest
import sunspec2

from protocols import codecs
from protocols.errors import ProfileError
from protocols.profiles.model import Profile
from protocols.reader import ReadBlock, decode_points, describe, engineering
from protocols.sunspec import build_profile, model_length, model_points
from protocols.sunspec.models import TYPES, has_definition

MODEL_IDS = sorted(int(re.findall(r"\d+", os.path.basename(f))[0])
                   for f in glob.glob(os.path.join(os.path.dirname(sunspec2.__file__), "models", "json", "model_*.json")))


def _chain(models, base=40000):
    chain, addr = [], base + 2
    for model_id, repeats in models:
        length = model_length(model_id, repeats)
        chain.append((model_id, addr, length))
        addr += 2 + length
    return chain


def test_every_model_pysunspec2_defines_becomes_points():
    assert len(MODEL_IDS) > 100  # pysunspec2 1.3 ships 113 definitions
    for model_id in MODEL_IDS:
        assert has_definition(model_id)
        mp = model_points(model_id, 40002, model_length(model_id, 1, counts={}), regs={})
        assert mp.points or mp.unresolved, model_id
        names = [p.name for p in mp.points]
        assert len(names) == len(set(names)), model_id
        for p in mp.points:
            assert p.name.startswith(f"m{model_id}_")
            assert p.address >= 40004 and p.end <= 40004 + model_length(model_id, 1, counts={})


def test_every_sunspec_type_has_a_codec_decision():
    for model_id in MODEL_IDS:
        path = os.path.join(os.path.dirname(sunspec2.__file__), "models", "json", f"model_{model_id}.json")
        with open(path, encoding="utf-8") as fh:
            stack = [json.load(fh)["group"]]
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
    assert by["m103_a"].address == 40072 and by["m103_a"].scale_factor == "m103_a_sf"
    assert by["m103_w"].type == "s16" and by["m103_wh"].type == "acc32" and by["m103_wh"].width == 2
    assert by["m103_evt1"].type == "bitfield32" and by["m103_evt1"].bits[0] == "GROUND_FAULT"
    assert by["m103_st"].enum[4] == "MPPT" and by["m103_st"].category == "status"
    assert by["m103_tmpcab"].unit == "°C" and by["m103_tmpcab"].category == "temperature"
    assert max(p.end for p in mp.points) == 40070 + 2 + 50
    assert {a.point for a in mp.alarms} == {"m103_evt1"}  # Evt2 defines no bits


def test_repeating_modules_carry_their_index_in_name_and_label():
    mp = model_points(160, 41000, model_length(160, 3))
    by = {p.name: p for p in mp.points}
    assert {f"m160_module{k}_dcw" for k in (1, 2, 3)} <= set(by) and "m160_module4_dcw" not in by
    assert by["m160_module3_dca"].label == "Module 3 DC current"
    assert by["m160_module3_dca"].scale_factor == "m160_dca_sf"  # the model's top-level factor
    assert by["m160_module2_dcw"].address == 41000 + 10 + 20 + 11  # header+top 10, module 20, DCW at 11


def test_nested_curves_are_laid_out_from_their_count_points():
    # 705 volt-var: NCrv curves of NPt points each; the counts are registers of the device
    n_pt, n_crv = 4, 3
    length = model_length(705, counts={"NPt": n_pt, "NCrv": n_crv})
    addr = 40100
    regs = {addr + 2 + 3: n_pt, addr + 2 + 4: n_crv}  # NPt and NCrv follow ID, L, Ena, AdptCrvReq, AdptCrvRslt
    mp = model_points(705, addr, length, regs=regs)
    by = {p.name: p for p in mp.points}
    assert not mp.unresolved and mp.missing_registers == 0 and mp.extra_registers == 0
    assert {f"m705_crv{c}_pt{k}_v" for c in range(1, n_crv + 1) for k in range(1, n_pt + 1)} <= set(by)
    assert "m705_crv1_pt5_v" not in by and "m705_crv4_actpt" not in by
    assert by["m705_crv2_pt3_v"].label == "Crv 2 Pt 3 voltage point"
    assert by["m705_crv2_pt3_v"].scale_factor == "m705_v_sf"  # found in the enclosing top group
    # curve 2 starts after curve 1's 10 own registers and its 4 points of 2 registers
    assert by["m705_crv2_actpt"].address == by["m705_crv1_actpt"].address + 10 + 2 * n_pt
    # without the count registers the curves cannot be laid out, and say so
    unknown = model_points(705, addr, length, regs={})
    assert unknown.unresolved and not any(p.name.startswith("m705_crv") for p in unknown.points)


def _decode(profile: Profile, regs: dict[int, int]) -> dict:
    block = ReadBlock("holding", min(p.address for p in profile.points),
                      max(p.end for p in profile.points) - min(p.address for p in profile.points),
                      list(profile.points))
    raw = decode_points(block, [regs.get(a, 0xFFFF) for a in range(block.address, block.end)])
    return engineering(profile, raw)[0]


def test_a_model_shorter_than_its_definition_reads_as_far_as_it_goes():
    # model 204 with L=81 (a real meter): the points past its end, TotVArh_SF among them, do not exist
    prof = build_profile([(204, 40069, 81)], 40000)
    part = prof.extra["sunspec"]["models"][0]
    assert part["short_by"] == model_length(204) - 81
    assert all(p.end <= 40069 + 2 + 81 for p in prof.points)
    orphan = [p for p in prof.points if p.scale_factor and not prof.has(p.scale_factor)]
    assert orphan  # reactive energies whose scale factor lies past the end
    regs = {a: 100 for a in range(40071, 40071 + 81)}
    values = _decode(prof, regs)
    assert all(values[p.name] is codecs.NOT_IMPLEMENTED for p in orphan)  # n/a, no KeyError
    assert values["m204_a"] is codecs.NOT_IMPLEMENTED  # its A_SF register holds 100: outside -10..10


def test_live_scale_factor_gives_the_decimals():
    prof = build_profile([(103, 40002, 50)], 40000)
    p = prof.point("m103_hz")
    sf_addr = prof.point("m103_hz_sf").address
    regs = {a: 0 for a in range(40004, 40054)}
    regs[p.address], regs[sf_addr] = 4999, 0xFFFE  # 49.99 Hz with Hz_SF = -2
    v = _decode(prof, regs)
    assert v["m103_hz"] == pytest.approx(49.99) and describe(p, v["m103_hz"]) == "49.99 Hz"
    regs[p.address], regs[sf_addr] = 5000, 0xFFFE
    assert describe(p, _decode(prof, regs)["m103_hz"]) == "50.00 Hz"
    regs[p.address], regs[sf_addr] = 3201, 0xFFFF  # 320.1 with SF -1
    assert describe(p, _decode(prof, regs)["m103_hz"]) == "320.1 Hz"
    regs[sf_addr] = 0x8000  # scale factor not implemented: the value is n/a, not the raw number
    assert _decode(prof, regs)["m103_hz"] is codecs.NOT_IMPLEMENTED


def test_accumulator_zero_and_strings_follow_the_specification():
    prof = build_profile([(1, 40002, 66), (103, 40070, 50)], 40000)
    regs = {a: 0 for a in range(40004, 40122)}
    mn = prof.point("m1_mn").address
    regs[mn], regs[mn + 1], regs[mn + 2] = 0x534D, 0x4100, 0x5858  # "SMA", NUL, then garbage
    v = _decode(prof, regs)
    assert v["m1_mn"] == "SMA"
    assert v["m103_wh"] is codecs.NOT_IMPLEMENTED  # acc32 = 0: not implemented
    assert v["m1_md"] is codecs.NOT_IMPLEMENTED    # an all-NUL string


def test_models_without_a_definition_are_listed():
    prof = build_profile([(1, 40002, 66), (64999, 40070, 10), (65111, 40082, 4)], 40000)
    assert prof.extra["sunspec"]["unmapped"] == [
        {"id": 64999, "address": 40070, "length": 10, "reason": "pysunspec2 has no definition of this model"},
        {"id": 65111, "address": 40082, "length": 4, "reason": "pysunspec2 has no definition of this model"}]


def test_profile_names_are_unique_and_repeated_models_numbered():
    chain = _chain([(1, 0), (101, 0), (120, 0), (203, 0), (203, 0), (701, 0), (714, 2)])
    prof = build_profile(chain, 40000)
    names = [p.name for p in prof.points]
    assert len(names) == len(set(names))
    assert "m203_w" in names and "m203_2_w" in names and "m120_wrtg" in names
    assert prof.resolve("inverter_power_w") == "m101_w" and prof.resolve("grid_power_w") == "m203_w"
    assert prof.resolve("pv_power_w") == "m101_dcw" and prof.resolve("ac_frequency_hz") == "m101_hz"


def test_a_chain_without_defined_models_is_an_error():
    with pytest.raises(ProfileError, match="none of its models"):
        build_profile([(64999, 40002, 4)], 40000)


def test_the_register_page_decodes_with_the_live_scale_factor_and_never_raises():
    from desktop.ui.device.register_rows import decode_rows
    prof = build_profile([(204, 40069, 81)], 40000)  # short: reactive energies lose their scale factor
    regs = [0] * 83
    hz, hz_sf = prof.point("m204_hz").address, prof.point("m204_hz_sf").address
    regs[hz - 40069], regs[hz_sf - 40069] = 4999, 0xFFFE
    rows = {r.address: r for r in decode_rows(prof, "holding", 40069, regs)}
    assert rows[hz].decoded == "49.99 Hz"
    orphan = next(p for p in prof.points if p.scale_factor and not prof.has(p.scale_factor))
    assert rows[orphan.address].decoded == "n/a"
    # a scale factor outside the read comes from the latest sample, or the value is n/a
    part = decode_rows(prof, "holding", hz, [4999])
    assert part[0].decoded == "n/a"
    assert decode_rows(prof, "holding", hz, [4999], {"m204_hz_sf": -2})[0].decoded == "49.99 Hz"

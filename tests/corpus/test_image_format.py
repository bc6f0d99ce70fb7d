"""The corpus loader: a valid file becomes a typed DeviceImage, a broken one a one-line error naming file and field."""

from __future__ import annotations

import copy
import json

import pytest

from protocols.sim.image import ImageError, load_image, parse_image

GOOD = {
    "format": "pvdesk-corpus/1", "id": "vendor-model-x", "kind": "real",
    "device": {"vendor": "V", "model": "M", "firmware": "1.0", "serial": "masked"},
    "profile": "goodwe-et",
    "provenance": {"repository": "o/n", "commit": "a" * 40, "path": "tests/x", "licence": "MIT", "what": "a fixture"},
    "unit": 1,
    "blocks": [{"unit": 1, "function": 3, "address": 35100, "registers": [16711, 12345]},
               {"function": 4, "address": 35100, "registers": [1]},
               {"unit": 2, "function": 3, "address": 35101, "registers": [9]}],
    "quirks": {"answer_delay_s": 0.1, "max_registers_per_read": 60, "zero_gaps": True, "first_answer_delay_s": 0},
    "published": [{"source_name": "ppv", "value": 2150, "unit": "W", "point": "pv_power_w", "note": ""},
                  {"source_name": "pgrid", "value": -3, "unit": "W", "point": "grid_power_w", "factor": -1,
                   "known_wrong": {"issue": 14, "reason": "why"}}],
}


def test_a_valid_image_is_typed():
    img = parse_image(copy.deepcopy(GOOD), "x.json")
    assert img.id == "vendor-model-x" and img.kind == "real" and img.units == [1, 2]
    assert img.registers(1, 3) == {35100: 16711, 35101: 12345}
    assert img.registers(1, 4) == {35100: 1} and img.registers(2, 3) == {35101: 9}
    assert img.quirks.max_registers_per_read == 60 and img.quirks.zero_gaps
    assert img.published[1].factor == -1 and img.published[1].known_wrong["issue"] == 14
    assert img.published[0].known_wrong is None


def _broken(change):
    data = copy.deepcopy(GOOD)
    change(data)
    return data


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(format="pvdesk-corpus/2"), "format must be 'pvdesk-corpus/1'"),
    (lambda d: d.pop("device"), "device is missing"),
    (lambda d: d.update(kind="dump"), "kind must be one of real, synthetic"),
    (lambda d: d["provenance"].update(commit="main"), "provenance.commit must be the source's 40-hex commit"),
    (lambda d: d["blocks"][0]["registers"].append(65536), "blocks[0].registers[2] must be an unsigned 16-bit"),
    (lambda d: d["blocks"][0]["registers"].append(-1), "blocks[0].registers[2] must be an unsigned 16-bit"),
    (lambda d: d["blocks"][0].update(function=6), "blocks[0].function must be 3 (holding) or 4 (input)"),
    (lambda d: d["blocks"][0].update(address=65535), "blocks[0].address 65535 with 2 registers leaves"),
    (lambda d: d["blocks"].append({"function": 3, "address": 35101, "registers": [1]}),
     "blocks[3] (unit 1, function 3, from 35101) overlaps blocks[0] (35100..35101)"),
    (lambda d: d["quirks"].update(slow=True), "quirks.slow is not a known quirk"),
    (lambda d: d["quirks"].update(max_registers_per_read=200), "quirks.max_registers_per_read must be"),
    (lambda d: d["published"][0].pop("point"), "published[0].point is missing"),
    (lambda d: d["published"][1].update(factor=0), "published[1].factor must be a non-zero number"),
    (lambda d: d["published"][1].update(known_wrong={"issue": "14"}), "published[1].known_wrong must be"),
])
def test_a_broken_image_names_file_and_field(change, message):
    with pytest.raises(ImageError) as err:
        parse_image(_broken(change), "tests/corpus/images/v/broken.json")
    text = str(err.value)
    assert text.startswith("broken.json: ") and message in text and "\n" not in text, text


def test_a_synthetic_image_needs_no_repository():
    data = _broken(lambda d: d.update(kind="synthetic", provenance={"what": "made by hand"}))
    assert parse_image(data, "s.json").kind == "synthetic"


def test_files_that_are_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "pvdesk-corpus/1",\n "id": }')
    with pytest.raises(ImageError, match=r"^bad\.json: not valid JSON at line 2 column 8"):
        load_image(bad)
    with pytest.raises(ImageError, match=r"missing\.json: cannot read the file: No such file"):
        load_image(tmp_path / "missing.json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert load_image(good).path == good

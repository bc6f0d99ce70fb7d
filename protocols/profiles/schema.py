"""JSON Schema of a device profile file (TOML parsed to a dict).

Runs on any thread. Checked with jsonschema so that an error can name the
entry and the field that is wrong; the semantic checks that a schema cannot
express (overlaps, references between points) live in ``loader``.
"""

from __future__ import annotations

TYPES = ["u16", "s16", "u32", "s32", "u64", "s64", "float32", "string",
         "bitfield16", "bitfield32", "enum16", "sunssf", "acc32", "acc64", "datetime", "time"]
COMPUTE = ["sum", "difference", "product", "ratio", "first"]

_labels = {"type": "object", "patternProperties": {"^[0-9]+$": {"type": "string"}},
           "additionalProperties": False}

_field = {
    "type": "object",
    "required": ["bits"],
    "additionalProperties": False,
    "properties": {
        "bits": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 63},
                 "minItems": 2, "maxItems": 2},
        "label": {"type": "string"},
        "enum": _labels,
        "unit": {"type": "string"},
        "sentinels": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    },
}

_rule_leaf_props = {
    "point": {"type": "string"},
    "equals": {"type": ["integer", "string"]},
    "one_of": {"type": "array", "items": {"type": ["integer", "string"]}, "minItems": 1},
    "prefix": {"type": "string", "minLength": 1},
    "contains": {"type": "string", "minLength": 1},
    "regex": {"type": "string", "minLength": 1},
    "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "negate": {"type": "boolean"},
}

RULE = {
    "$id": "rule",
    "type": "object",
    "additionalProperties": False,
    "properties": dict(_rule_leaf_props,
                       any_of={"type": "array", "items": {"$ref": "rule"}, "minItems": 1},
                       all_of={"type": "array", "items": {"$ref": "rule"}, "minItems": 1}),
}

_fault_code = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "severity": {"enum": ["info", "warning", "error", "critical"]},
        "code": {"type": "integer"},
        "cause": {"type": "string"},
        "remedy": {"type": "string"},
        "affects": {"type": "array", "items": {"type": "string"}},
    },
}

POINT = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "compute": {"enum": COMPUTE},
        "of": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "missing": {"enum": ["na", "skip"]},
        "sentinels": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
        "plausible": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "encoding": {"enum": ["ascii", "latin1", "utf16", "auto", "binary", "bcd", "epoch",
                              "bytes", "decimal", "minutes"]},
        "layout": {"type": "array", "items": {"enum": ["year", "month", "day", "hour", "minute",
                                                       "second", "weekday", "skip"]}, "minItems": 1},
        "year_offset": {"type": "integer"},
        "offset": {"type": "number"},
        "fields": {"type": "object", "patternProperties": {"^[a-z0-9][a-z0-9_]*$": _field},
                   "additionalProperties": False},
        "address": {"type": "integer", "minimum": 0, "maximum": 65535},
        "type": {"enum": TYPES},
        "function": {"enum": ["holding", "input"]},
        "count": {"type": "integer", "minimum": 1, "maximum": 125},
        "word_order": {"enum": ["big", "little"]},
        "scale": {"type": "number", "exclusiveMinimum": 0},
        "scale_factor": {"type": "string"},
        "unit": {"type": "string"},
        "label": {"type": "string"},
        "category": {"enum": ["identity", "pv", "ac", "battery", "meter", "grid", "load",
                               "energy", "temperature", "status", "alarm", "firmware",
                               "setting", "other"]},
        "rate": {"enum": ["fast", "slow", "once"]},
        "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "enum": {"type": "object", "patternProperties": {"^[0-9]+$": {"type": "string"}},
                 "additionalProperties": False},
        "bits": {"type": "object", "patternProperties": {"^[0-9]+$": {"type": "string"}},
                 "additionalProperties": False},
        "sentinel": {"type": "boolean"},
        "invert": {"type": "boolean"},
        "writable": {"type": "boolean"},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "confirm": {"type": "boolean"},
        "readback": {"type": "boolean"},
        "protected": {"type": "boolean"},
        "description": {"type": "string"},
    },
}

PROFILE = {
    "type": "object",
    "$defs": {"rule": RULE},
    "required": ["profile", "points"],
    "additionalProperties": False,
    "properties": {
        "profile": {
            "type": "object",
            "required": ["name", "title", "vendor"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                "title": {"type": "string"},
                "vendor": {"type": "string"},
                "kind": {"enum": ["map", "sunspec"]},
                "word_order": {"enum": ["big", "little"]},
                "max_read_registers": {"type": "integer", "minimum": 1, "maximum": 125},
                "unreadable": {"type": "array", "items": {
                    "type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
                "source": {"type": "string"},
                "notes": {"type": "string"},
                "address_base": {"enum": [0, 1]},
                "verified": {"type": "boolean"},
                "verification": {"type": "string"},
            },
        },
        "link": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "units": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 247},
                          "minItems": 1},
                "tcp_ports": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535},
                              "minItems": 1},
                "baud": {"type": "integer", "minimum": 1200, "maximum": 921600},
                "parity": {"enum": ["N", "E", "O"]},
                "stopbits": {"enum": [1, 2]},
                "exclusive": {"type": "boolean"},
                "notes": {"type": "string"},
            },
        },
        "identity": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "points": {"type": "array", "items": {"type": "string"}},
                "priority": {"type": "integer"},
                "match": {"type": "array", "items": {"$ref": "rule"}},
            },
        },
        "points": {"type": "array", "items": POINT, "minItems": 1},
        "alarms": {"type": "array", "items": {
            "type": "object", "required": ["point", "bits"], "additionalProperties": False,
            "properties": {"point": {"type": "string"},
                           "bits": {"type": "object",
                                    "patternProperties": {"^[0-9]+$": _fault_code},
                                    "additionalProperties": False}}}},
        "fault_codes": {"type": "object", "patternProperties": {"^[0-9]+$": _fault_code},
                        "additionalProperties": False},
        # active_fault_code holds a code only while ``point`` has one of ``values`` (Sungrow SG: the
        # last fault stays in its register after the inverter runs again)
        "fault_code_valid": {
            "type": "object", "required": ["point", "values"], "additionalProperties": False,
            "properties": {"point": {"type": "string"},
                           "values": {"type": "array", "items": {"type": "integer"}, "minItems": 1}}},
        "fault_history": {
            "type": "object", "required": ["address", "entries"], "additionalProperties": False,
            "properties": {"address": {"type": "integer", "minimum": 0, "maximum": 65535},
                           "entries": {"type": "integer", "minimum": 1, "maximum": 256},
                           "function": {"enum": ["holding", "input"]},
                           "entry_registers": {"type": "integer", "minimum": 3, "maximum": 16},
                           "count_point": {"type": "string"}}},
        "firmware": {"type": "array", "items": {
            "type": "object", "required": ["component", "label", "version_point"],
            "additionalProperties": False,
            "properties": {"component": {"type": "string"}, "label": {"type": "string"},
                           "version_point": {"type": "string"},
                           "hardware_point": {"type": "string"},
                           "serial_point": {"type": "string"}}}},
        "firmware_upgrade": {
            "type": "object", "required": ["method"], "additionalProperties": False,
            "properties": {"method": {"type": "string"},
                           "base_address": {"type": "integer", "minimum": 0, "maximum": 65535}}},
        "ble": {"type": "object"},
        "sunspec": {"type": "object"},
    },
}

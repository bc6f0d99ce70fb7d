"""Identity shapes: what a device of each family holds where detection looks, as a replayable image.

Runs on any thread (pure data). Detection must tell every shipped family
apart in at most 10 requests, and most families have no public register
capture yet; these shapes give the detection tests and ``benchmarks/detect.py``
a device of each family to ask. A shape holds only the register runs that
its vendor's document lists for the device-information area (so it refuses
everything else, as a real device does) with identity values of the form the
document gives (a model name, a serial of the documented length, a device
type code from the documented table). They prove the *detection logic* and
its request counts, never a register map: the maps are proven on the real
captures of ``tests/corpus``.
"""

from __future__ import annotations

from .. import codecs
from .loader import load

# family -> (unit, [(function, first, last, {point: value})]): registers first..last exist, the points are set.
SHAPES: dict[str, tuple[int, list[tuple[str, int, int, dict]]]] = {
    "huawei-sun2000": (1, [("holding", 30000, 30084, {
        "model_name": "SUN2000-10KTL-M1", "serial_number": "HV2050123456", "part_number": "01074316",
        "firmware_version": "V100R001C00", "software_version": "V100R001C10SPC200", "model_id": 428,
        "pv_string_count": 2, "mppt_count": 2, "rated_power_w": 10000, "max_active_power_w": 11000}),
        ("holding", 32000, 32120, {})]),
    "sungrow-sh": (1, [("input", 4948, 5050, {"serial_number": "A221234567", "device_type_code": 0x0E03,
                                              "rated_power_w": 10000})]),
    "sungrow-sg": (1, [("input", 4948, 5050, {"serial_number": "B221234567", "device_type_code": 0x243C,
                                              "rated_power_w": 10000})]),
    "deye-hybrid-1p": (1, [("holding", 0, 120, {"device_type": 3, "modbus_address": 1, "protocol_version": 0x0104,
                                                "serial_number": "2207123456"})]),
    "deye-hybrid-3p": (1, [("holding", 0, 120, {"device_type": 5, "modbus_address": 1, "protocol_version": 0x0104,
                                                "serial_number": "2303123456"})]),
    "growatt": (1, [("holding", 0, 124, {"remote_on_off": 1, "firmware_version": "DH1.0", "serial_number": "NHB0A12345",
                                         "device_type_code": 3502}), ("input", 0, 124, {})]),
    "solis-rhi": (1, [("input", 33000, 33100, {"product_model": 0x2101, "serial_number": "1031234567890123"})]),
    "sofar-hyd-g3": (1, [("holding", 0x0400, 0x04BF, {"serial_number": "SP1ES120N4A12345", "hardware_version": "V1"})]),
    "sofar-hyd-es": (1, [("holding", 0x0200, 0x0255, {"run_state": 2, "battery_soc_pct": 80, "battery_voltage_v": 52.3,
                                                       "ac_frequency_hz": 50.0})]),
    "foxess-h1": (247, [("holding", 30000, 30015, {"model_name": "H1-5.0-E"}), ("input", 10000, 11100, {})]),
    "foxess-h3": (247, [("holding", 30000, 30018, {"model_name": "H3-10.0-E"}), ("holding", 31000, 31140, {})]),
    "victron-gx-system": (100, [("holding", 800, 870, {"serial_number": "c0619ab12345"})]),
    "victron-gx-vebus": (227, [("holding", 3, 40, {"phase_count": 1, "run_state": 9})]),
    "victron-gx-battery": (225, [("holding", 258, 320, {"battery_voltage_v": 52.3, "battery_soc_pct": 80.0})]),
}


def _registers(profile, name: str, value) -> tuple[int, list[int]]:
    p = profile.point(name)
    raw = value if p.type in ("string", "datetime", "time") else round((-value if p.invert else value) / p.scale)
    return p.address, codecs.encode_point(raw, p)


def shape_image(family: str) -> dict:
    """The ``pvdesk-corpus/1`` dict of ``family``'s shape (kind "synthetic", nothing published)."""
    unit, runs = SHAPES[family]
    profile = load(family)
    blocks = []
    for function, first, last, values in runs:
        regs = [0] * (last - first + 1)
        for name, value in values.items():
            address, words = _registers(profile, name, value)
            for i, w in enumerate(words):
                regs[address - first + i] = w
        blocks.append({"unit": unit, "function": 3 if function == "holding" else 4, "address": first,
                       "registers": regs})
    return {"format": "pvdesk-corpus/1", "id": f"shape-{family}", "kind": "synthetic",
            "device": {"vendor": profile.vendor, "model": profile.title, "firmware": "", "serial": ""},
            "profile": family,
            "provenance": {"repository": "", "commit": "", "path": "protocols/profiles/shapes.py", "licence": "",
                           "what": "identity shape for detection tests (not a capture)"},
            "unit": unit, "blocks": blocks, "quirks": {}, "published": []}

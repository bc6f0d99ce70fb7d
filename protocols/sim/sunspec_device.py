"""A simulated SunSpec inverter: 'SunS' at a base address, models 1, 103, 160, 124 and 203.

Runs on the simulator's asyncio loop, like ``SimDevice`` (which it extends:
same bus interface ``read``/``write``/``offline_until``/``unit``, same fault
injection and clock). The register image is laid out by pysunspec2's model
definitions (through ``protocols.sunspec``) and filled from the same Plant
physics as the reference inverter, with fixed scale factors (``SCALE_FACTORS``)
so that a client decoding value * 10**sf gets the plant's values back within
rounding. Points the device does not implement hold the SunSpec sentinels.

The plant is single-phase; the simulated 103/203 split it evenly over three
phases (power and current a third each, line voltage sqrt(3) x phase voltage).
``inverter_dcw`` is the PV input power; the battery's DC side is model 124.
Use ``sunspec_simulator(...)`` for a Simulator serving it over TCP/RTU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from .. import codecs
from ..sunspec import MARKER, build_profile, model_length
from .device import SimDevice
from .physics import Plant
from .simulator import Simulator

DEFAULT_MODELS = ((1, 0), (103, 0), (160, 2), (124, 0), (203, 0))

SCALE_FACTORS = {
    "m103_a_sf": -2, "m103_v_sf": -1, "m103_w_sf": 0, "m103_hz_sf": -2,
    "m103_va_sf": 0, "m103_var_sf": 0, "m103_pf_sf": -1, "m103_wh_sf": 0,
    "m103_dca_sf": -2, "m103_dcv_sf": -1, "m103_dcw_sf": 0, "m103_tmp_sf": -1,
    "m160_dca_sf": -2, "m160_dcv_sf": -1, "m160_dcw_sf": 0, "m160_dcwh_sf": 0,
    "m124_wchamax_sf": 0, "m124_wchadischagra_sf": 0, "m124_minrsvpct_sf": 0,
    "m124_chastate_sf": -1, "m124_storaval_sf": -1, "m124_inbatv_sf": -1,
    "m203_a_sf": -2, "m203_v_sf": -1, "m203_hz_sf": -2, "m203_w_sf": 0, "m203_va_sf": 0,
    "m203_var_sf": 0, "m203_pf_sf": -1, "m203_totwh_sf": 0,
}

DEFAULT_IDENTITY = {"m1_mn": "PVDesk", "m1_md": "PVD-S8K-3P", "m1_opt": "sim",
                    "m1_vr": "2.3.1"}

_LIMITS = {"u16": (0, 0xFFFE), "s16": (-0x7FFF, 0x7FFF), "u32": (0, 0xFFFFFFFE),
           "s32": (-0x7FFFFFFF, 0x7FFFFFFF), "acc32": (0, 0xFFFFFFFF)}


def layout(base: int = 40000, models=DEFAULT_MODELS) -> list[tuple[int, int, int]]:
    """The model chain (id, address, L) of a device with 'SunS' at ``base``."""
    chain, addr = [], base + 2
    for model_id, repeats in models:
        length = model_length(model_id, repeats)
        chain.append((model_id, addr, length))
        addr += 2 + length
    return chain


class SunSpecSimDevice(SimDevice):
    """A SunSpec inverter at one unit id, with 'SunS' at ``base``."""

    def __init__(self, unit: int = 1, *, base: int = 40000, models=DEFAULT_MODELS,
                 plant: Plant | None = None, clock: Callable[[], float] = time.time,
                 identity: dict | None = None) -> None:
        self.base = base
        self.chain = layout(base, models)
        self.static = dict(DEFAULT_IDENTITY, m1_sn=f"PVS8K{unit:03d}B0007", m1_da=unit)
        self.static.update(identity or {})
        self._filled_at: float | None = None
        profile = build_profile(self.chain, base)
        super().__init__(profile, unit, plant=plant, clock=clock)
        image = self.holding
        image[base], image[base + 1] = MARKER
        for model_id, addr, length in self.chain:
            image[addr], image[addr + 1] = model_id, length
        end = self.chain[-1][1] + 2 + self.chain[-1][2]
        image[end], image[end + 1] = 0xFFFF, 0
        settings = {"m124_storctl_mod": 0, "m124_chagriset": 1, "m1_da": unit}
        start = self.sunspec_values()
        for p in profile.parameters:
            self._put(p, settings.get(p.name, start.get(p.name, codecs.NOT_IMPLEMENTED)))
        self.update_now()

    # ------------------------------------------------------------- the image
    def _put(self, point, value) -> None:
        """Store an engineering value with the point's fixed scale factor."""
        raw: object
        if point.type == "sunssf":
            raw = SCALE_FACTORS.get(point.name, codecs.NOT_IMPLEMENTED)
        elif value is codecs.NOT_IMPLEMENTED or value is None:
            # SunSpec: accumulators and strings say "not implemented" with zeros
            raw = {"acc32": 0, "acc64": 0, "string": ""}.get(point.type, codecs.NOT_IMPLEMENTED)
        elif point.type == "string":
            raw = str(value)
        elif point.type == "float32":
            raw = float(value)
        else:
            sf = SCALE_FACTORS.get(point.scale_factor, 0) if point.scale_factor else 0
            raw = round(float(value) / 10.0 ** sf)
            lo, hi = _LIMITS.get(point.type, (0, 0xFFFE))
            raw = min(hi, max(lo, raw))
        for i, r in enumerate(codecs.encode_raw(raw, point.type, point.word_order, point.count)):
            self.holding[point.address + i] = r

    def update(self) -> None:
        before = self.last_step_t
        super().update()
        if not hasattr(self, "static") or (self.last_step_t == before and self._filled_at is not None):
            return
        values = self.sunspec_values()
        for p in self.profile.register_points:
            if not p.writable:
                self._put(p, values.get(p.name, codecs.NOT_IMPLEMENTED))
        self._filled_at = self.last_step_t

    def sunspec_values(self) -> dict:
        """Engineering values of every SunSpec point, from the plant (missing = not implemented)."""
        v = self.plant.values
        ac, volts = v["inverter_power_w"], v["ac_voltage_v"]
        pv, batt, grid = v["pv_power_w"], v["battery_power_w"], v["grid_power_w"]
        soc = v["battery_soc_pct"]
        line_v = volts * math.sqrt(3.0)
        stopped = self.plant.stopped
        out: dict[str, Any] = dict(self.static)
        out.update({
            "m103_a": abs(ac) / volts, "m103_phvpha": volts, "m103_phvphb": volts,
            "m103_phvphc": volts, "m103_ppvphab": line_v, "m103_ppvphbc": line_v,
            "m103_ppvphca": line_v, "m103_w": ac, "m103_hz": v["ac_frequency_hz"],
            "m103_va": abs(ac), "m103_var": v["reactive_power_var"],
            "m103_pf": v["power_factor"] * 100.0, "m103_wh": v["pv_energy_total_kwh"] * 1000.0,
            "m103_dcv": (v["pv1_voltage_v"] + v["pv2_voltage_v"]) / 2.0, "m103_dcw": pv,
            "m103_tmpcab": v["inverter_temperature_c"], "m103_tmpsnk": v["heatsink_temperature_c"],
            "m103_st": 7 if stopped else (4 if pv > 1.0 else 2),
            "m103_evt1": self.values.get("m103_evt1", 0), "m103_evt2": 0,
            "m160_evt": 0, "m160_n": 2,
            "m124_wchamax": 5000, "m124_wchagra": 100, "m124_wdischagra": 100,
            "m124_minrsvpct": self.plant.settings.battery_min_soc_pct, "m124_chastate": soc,
            "m124_storaval": self.plant.battery_capacity_wh * soc / 100.0 / self.plant.battery_nominal_v,
            "m124_inbatv": v["battery_voltage_v"],
            "m124_chast": 4 if batt < -10 else 3 if batt > 10 else 5 if soc >= 99.5 else 6,
            "m203_a": grid / v["meter_voltage_v"], "m203_w": grid, "m203_hz": v["meter_frequency_hz"],
            "m203_phv": v["meter_voltage_v"], "m203_ppv": v["meter_voltage_v"] * math.sqrt(3.0),
            "m203_va": abs(grid), "m203_var": 0.0, "m203_pf": 100.0,
            "m203_totwhexp": v["export_energy_total_kwh"] * 1000.0,
            "m203_totwhimp": v["import_energy_total_kwh"] * 1000.0, "m203_evt": 0,
        })
        out["m103_dca"] = pv / out["m103_dcv"] if out["m103_dcv"] else 0.0
        for ph in "abc":
            out[f"m103_aph{ph}"] = out["m103_a"] / 3.0
            out[f"m203_aph{ph}"] = out["m203_a"] / 3.0
            out[f"m203_phvph{ph}"] = v["meter_voltage_v"]
            out[f"m203_w_ph{ph}"] = grid / 3.0
            out[f"m203_wph{ph}"] = grid / 3.0
        for pair in ("ab", "bc", "ca"):
            out[f"m203_phvph{pair}"] = out["m203_ppv"]
        for k in (1, 2):
            out[f"m160_module{k}_id"] = k
            out[f"m160_module{k}_idstr"] = f"PV{k}"
            out[f"m160_module{k}_dcv"] = v[f"pv{k}_voltage_v"]
            out[f"m160_module{k}_dca"] = v[f"pv{k}_current_a"]
            out[f"m160_module{k}_dcw"] = v[f"pv{k}_power_w"]
            out[f"m160_module{k}_dcwh"] = v["pv_energy_total_kwh"] * 1000.0 * (0.52 if k == 1 else 0.48)
            out[f"m160_module{k}_tms"] = int(self.clock()) & 0xFFFFFFFF
            out[f"m160_module{k}_dcst"] = 4 if v[f"pv{k}_power_w"] > 1.0 else 2
            out[f"m160_module{k}_dcevt"] = 0
        return out


def sunspec_simulator(base: int = 40000, units=(1,), models=DEFAULT_MODELS, **kw) -> Simulator:
    """A Simulator whose units are SunSpec devices (call ``.start()`` on it).

    ``kw`` are Simulator options (tcp, rtu, start_s, speed, line_baud, seed).
    """
    sim = Simulator(units=tuple(units), **kw)
    for u in units:
        sim.devices[u] = SunSpecSimDevice(u, base=base, models=models, clock=sim.clock,
                                          plant=Plant(seed=sim.options.seed * 100 + u))
    sim.profile = sim.devices[units[0]].profile
    return sim

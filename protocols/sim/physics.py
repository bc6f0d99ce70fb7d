"""The physics of the simulated hybrid inverter: sun, clouds, house, battery, grid.

Runs on the simulator's asyncio loop (pure computation, no I/O). The plant is
stepped in simulated time; every value is in SI-style units named in its key.
The balance is exact by construction: the inverter's AC output is PV plus
battery discharge minus conversion losses, and the grid meter measures
house load minus inverter output (positive = import).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass
class PlantSettings:
    """What the inverter's settings registers tell the plant to do."""

    export_limit_w: float = 10000.0
    export_limit_enabled: bool = False
    battery_charge_limit_a: float = 50.0
    battery_discharge_limit_a: float = 50.0
    battery_min_soc_pct: float = 10.0
    battery_max_soc_pct: float = 100.0
    active_power_limit_pct: float = 100.0
    work_mode: int = 0
    battery_present: bool = True


@dataclass
class Plant:
    """State of the plant; ``step`` advances it by ``dt_s`` seconds of simulated time."""

    seed: int = 1
    latitude_deg: float = 48.1
    longitude_deg: float = 11.6
    pv_peak_w: float = 8800.0
    rated_ac_w: float = 8000.0
    battery_capacity_wh: float = 10240.0
    battery_nominal_v: float = 51.2
    efficiency: float = 0.965
    tare_w: float = 15.0
    soc_pct: float = 62.0
    settings: PlantSettings = field(default_factory=PlantSettings)
    values: dict = field(default_factory=dict)
    stopped: bool = False
    ct_reversed: bool = False
    ct_software_reversed: bool = False
    pv_override_w: float | None = None
    load_override_w: float | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._cloud = 1.0
        self._appliance_w = 0.0
        self._appliance_left_s = 0.0
        self._inv_temp_c = 30.0
        self.energy = {k: 0.0 for k in (
            "pv_today", "import_today", "export_today", "charge_today", "discharge_today", "load_today")}
        self.energy_total = {"pv": 18234.5, "import": 4120.2, "export": 9876.4}
        self._day: int | None = None

    # ----------------------------------------------------------------- inputs
    def sun_factor(self, t_s: float) -> float:
        """Clear-sky irradiance as a share of 1000 W/m2 at Unix time ``t_s``."""
        day = (t_s / 86400.0) % 365.25
        decl = math.radians(23.44) * math.sin(2 * math.pi * (day - 80) / 365.25)
        solar_h = ((t_s % 86400.0) / 3600.0 + self.longitude_deg / 15.0) % 24.0
        hour_angle = math.radians(15.0 * (solar_h - 12.0))
        lat = math.radians(self.latitude_deg)
        sin_el = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
        return max(0.0, sin_el) ** 1.2

    def _house_load_w(self, t_s: float, dt_s: float) -> float:
        hour = ((t_s % 86400.0) / 3600.0 + 1.0) % 24.0
        base = 280.0 + 350.0 * math.exp(-((hour - 7.5) ** 2) / 1.5) + 900.0 * math.exp(-((hour - 19.0) ** 2) / 3.0)
        if self._appliance_left_s <= 0 and self._rng.random() < dt_s / 900.0:
            self._appliance_w = self._rng.choice([1200.0, 2000.0, 2400.0, 700.0])
            self._appliance_left_s = self._rng.uniform(90.0, 600.0)
        self._appliance_left_s -= dt_s
        extra = self._appliance_w if self._appliance_left_s > 0 else 0.0
        return base + extra + self._rng.gauss(0.0, 12.0)

    # ------------------------------------------------------------------- step
    def step(self, t_s: float, dt_s: float) -> dict:
        """Advance by ``dt_s`` to time ``t_s`` and return the new values."""
        day = int(t_s // 86400)
        if self._day is not None and day != self._day:
            for k in self.energy:
                self.energy[k] = 0.0
        self._day = day
        theta = 1.0 - math.exp(-dt_s / 300.0)
        target = 1.0 if self._rng.random() < 0.7 else self._rng.uniform(0.25, 0.8)
        self._cloud += theta * (target - self._cloud) + self._rng.gauss(0.0, 0.02) * math.sqrt(min(dt_s, 60.0))
        self._cloud = min(1.0, max(0.15, self._cloud))
        s = self.settings
        pv_avail = self.pv_peak_w * self.sun_factor(t_s) * self._cloud
        if self.pv_override_w is not None:
            pv_avail = self.pv_override_w
        load = max(50.0, self._house_load_w(t_s, dt_s)) if self.load_override_w is None else self.load_override_w
        ac_max = self.rated_ac_w * s.active_power_limit_pct / 100.0
        v_batt = self.battery_nominal_v + (self.soc_pct - 50.0) * 0.04
        if self.stopped:
            pv, batt, ac = 0.0, 0.0, 0.0
        else:
            # Battery: self consumption covers the load; surplus charges; limits apply.
            can_dis = s.battery_present and self.soc_pct > s.battery_min_soc_pct
            can_chg = s.battery_present and self.soc_pct < s.battery_max_soc_pct
            dis_max = s.battery_discharge_limit_a * v_batt if can_dis else 0.0
            chg_max = s.battery_charge_limit_a * v_batt if can_chg else 0.0
            need_dc = (min(load, ac_max) + self.tare_w) / self.efficiency
            if s.work_mode == 1:  # feed-in priority: PV to grid, battery only charges from surplus over the limit
                batt = -min(chg_max, max(0.0, pv_avail - ac_max / self.efficiency))
            elif s.work_mode == 2:  # backup: keep the battery full
                batt = -min(chg_max, pv_avail)
            else:
                batt = min(dis_max, max(-chg_max, need_dc - pv_avail))
            pv = pv_avail
            dc = pv + batt
            ac = dc * self.efficiency - self.tare_w
            if ac > ac_max:
                ac = ac_max
                pv = max(0.0, (ac + self.tare_w) / self.efficiency - batt)
            if s.export_limit_enabled and (ac - load) > s.export_limit_w:
                ac = load + s.export_limit_w
                pv = max(0.0, (ac + self.tare_w) / self.efficiency - batt)
                if pv == 0.0:
                    ac = (pv + batt) * self.efficiency - self.tare_w
        # Integrate the battery (charging at 97 % coulombic efficiency).
        e_wh = batt * dt_s / 3600.0
        self.soc_pct -= (e_wh if e_wh > 0 else e_wh * 0.97) / self.battery_capacity_wh * 100.0
        self.soc_pct = min(100.0, max(0.0, self.soc_pct))
        grid = load - ac
        self._integrate(pv, ac, batt, load, grid, dt_s)
        self._inv_temp_c += (1.0 - math.exp(-dt_s / 600.0)) * (24.0 + abs(ac) * 0.0035 - self._inv_temp_c)
        v_ac = 230.0 + self._rng.gauss(0.0, 0.6)
        meter = -grid if self.ct_reversed != self.ct_software_reversed else grid
        string_v = [372.0 + self._rng.gauss(0, 1.5), 368.0 + self._rng.gauss(0, 1.5)] if pv > 1 else [0.0, 0.0]
        pv1 = pv * 0.52
        pv2 = pv - pv1
        self.values = {
            "pv_power_w": pv, "pv1_power_w": pv1, "pv2_power_w": pv2,
            "pv1_voltage_v": string_v[0], "pv2_voltage_v": string_v[1],
            "pv1_current_a": pv1 / string_v[0] if string_v[0] else 0.0,
            "pv2_current_a": pv2 / string_v[1] if string_v[1] else 0.0,
            "inverter_power_w": ac, "ac_voltage_v": v_ac, "ac_current_a": ac / v_ac,
            "ac_frequency_hz": 50.0 + self._rng.gauss(0.0, 0.01),
            "reactive_power_var": 0.0, "power_factor": 1.0 if abs(ac) > 50 else 0.0,
            "battery_power_w": batt, "battery_voltage_v": v_batt, "battery_current_a": batt / v_batt,
            "battery_soc_pct": self.soc_pct, "battery_soh_pct": 98.0, "battery_temperature_c": 22.5,
            "grid_power_w": meter, "meter_voltage_v": v_ac + 0.4, "meter_frequency_hz": 50.0,
            "load_power_w": load,
            "pv_energy_today_kwh": self.energy["pv_today"], "pv_energy_total_kwh": self.energy_total["pv"],
            "import_energy_today_kwh": self.energy["import_today"],
            "export_energy_today_kwh": self.energy["export_today"],
            "import_energy_total_kwh": self.energy_total["import"],
            "export_energy_total_kwh": self.energy_total["export"],
            "battery_charge_today_kwh": self.energy["charge_today"],
            "battery_discharge_today_kwh": self.energy["discharge_today"],
            "load_energy_today_kwh": self.energy["load_today"],
            "inverter_temperature_c": self._inv_temp_c, "heatsink_temperature_c": self._inv_temp_c + 6.0,
        }
        return self.values

    def _integrate(self, pv, ac, batt, load, grid, dt_s) -> None:
        h = dt_s / 3600.0 / 1000.0
        self.energy["pv_today"] += pv * h
        self.energy["load_today"] += load * h
        self.energy["import_today"] += max(grid, 0.0) * h
        self.energy["export_today"] += max(-grid, 0.0) * h
        self.energy["charge_today"] += max(-batt, 0.0) * h
        self.energy["discharge_today"] += max(batt, 0.0) * h
        self.energy_total["pv"] += pv * h
        self.energy_total["import"] += max(grid, 0.0) * h
        self.energy_total["export"] += max(-grid, 0.0) * h

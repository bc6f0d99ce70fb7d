"""Canonical names of a SunSpec device: which discovered point means ``pv_power_w``, ``grid_power_w``...

Runs on any thread (pure functions). ``Profile.resolve(canonical)`` reads the
result from ``profile.extra["aliases"]``; this module decides it from the
models a device has, by the SunSpec definitions' own meaning:

- inverter models 101-103 / 111-113: ``W`` is AC power (``inverter_power_w``,
  ``ac_power_w``), ``DCW`` the DC input (``pv_power_w``: these models have no
  battery on the DC side; a hybrid reports its battery in 124/802/714).
- DER model 701: ``W`` is positive for generation (inverter power); model 714
  gives ``pv_power_w`` from its PV ports and ``battery_power_w`` from its one
  storage port (DC power, positive = injection = discharge, the 7xx sign
  convention).
- meters 201-204 / 211-214: ``W`` is ``grid_power_w`` with + import, the
  SunSpec meter convention. SolarEdge documents its meters the other way
  round; rather than guess, a SolarEdge meter gets no ``grid_power_w``.
- storage 124 ``ChaState``, 802 ``SoC``, 713 ``SoC``: ``battery_soc_pct``.
  Model 802's ``W`` says no sign, so it is not ``battery_power_w``.
- energies keep SunSpec's unit: ``ac_energy_total_wh``, ``import_energy_total_wh``...
  ``load_power_w`` is not derived: a SunSpec meter does not say where it sits.
"""

from __future__ import annotations

#: The names PVDesk gave SunSpec points before every model was mapped (``inverter_w``, ``mppt2_dcv``,
#: ``meter2_w``...): kept as aliases so that saved settings, recordings and corpus files that use them
#: still resolve. Only the models that had such names are listed; new models have none.
LEGACY_ROLES = {1: "common", 101: "inverter", 102: "inverter", 103: "inverter", 111: "inverter",
                112: "inverter", 113: "inverter", 124: "storage", 160: "mppt", 201: "meter", 202: "meter",
                203: "meter", 204: "meter", 701: "der_ac", 702: "der_capacity", 703: "der_enter_service",
                704: "der_ctl_ac", 705: "der_volt_var", 706: "der_volt_watt", 707: "der_trip_lv",
                708: "der_trip_hv", 709: "der_trip_lf", 710: "der_trip_hf", 711: "der_freq_droop",
                712: "der_watt_var", 713: "der_storage", 714: "der_dc"}

INVERTERS = (101, 102, 103, 111, 112, 113)
METERS = (201, 202, 203, 204, 211, 212, 213, 214)

_INVERTER = {"inverter_power_w": "w", "ac_power_w": "w", "pv_power_w": "dcw", "ac_frequency_hz": "hz",
             "ac_current_a": "a", "ac_voltage_v": "phvpha", "reactive_power_var": "var",
             "inverter_temperature_c": "tmpcab", "heatsink_temperature_c": "tmpsnk", "run_state": "st",
             "ac_energy_total_wh": "wh", "pv_voltage_v": "dcv", "pv_current_a": "dca"}
_DER = {"inverter_power_w": "w", "ac_power_w": "w", "ac_frequency_hz": "hz", "ac_current_a": "a",
        "ac_voltage_v": "vl1", "reactive_power_var": "var", "inverter_temperature_c": "tmpcab",
        "heatsink_temperature_c": "tmpsnk", "run_state": "invst", "ac_energy_total_wh": "totwhinj"}
_METER = {"grid_power_w": "w", "meter_voltage_v": "phvpha", "meter_frequency_hz": "hz",
          "import_energy_total_wh": "totwhimp", "export_energy_total_wh": "totwhexp"}
_IDENTITY = {"manufacturer": "m1_mn", "model_name": "m1_md", "serial_number": "m1_sn",
             "firmware_version": "m1_vr"}


def aliases(model_ids: list[int], names: set[str], values: dict | None = None) -> dict[str, str]:
    """Canonical name -> point name for a device with ``model_ids`` (discovery order) and points ``names``.

    ``values`` (point -> raw value, from discovery) tells the 714 port types and the manufacturer.
    """
    values = values or {}
    out: dict[str, str] = {}

    def put(canon: str, name: str) -> None:
        if canon not in out and name in names:
            out[canon] = name

    for canon, name in _IDENTITY.items():
        put(canon, name)
    inv = next((m for m in model_ids if m in INVERTERS), None)
    if inv is not None:
        for canon, suffix in _INVERTER.items():
            put(canon, f"m{inv}_{suffix}")
        put("ac_voltage_v", f"m{inv}_phv")
    if 701 in model_ids:
        for canon, suffix in _DER.items():
            put(canon, f"m701_{suffix}")
        put("ac_voltage_v", "m701_lnv")
    if 714 in model_ids:
        ports = sorted({int(n[len("m714_prt"):].split("_")[0]) for n in names
                        if n.startswith("m714_prt") and n.endswith("_prttyp")})
        types = {k: values.get(f"m714_prt{k}_prttyp") for k in ports}
        pv = [k for k, t in types.items() if t == 0]
        ess = [k for k, t in types.items() if t == 1]
        if len(pv) == 1:
            put("pv_power_w", f"m714_prt{pv[0]}_dcw")
        elif pv and not ess and len(pv) == len(ports):
            put("pv_power_w", "m714_dcw")
        if len(ess) == 1:
            put("battery_power_w", f"m714_prt{ess[0]}_dcw")
    if 160 in model_ids:
        k = 1
        while f"m160_module{k}_dcw" in names:
            put(f"pv{k}_power_w", f"m160_module{k}_dcw")
            put(f"pv{k}_voltage_v", f"m160_module{k}_dcv")
            put(f"pv{k}_current_a", f"m160_module{k}_dca")
            k += 1
    meter = next((m for m in model_ids if m in METERS), None)
    if meter is not None:
        solaredge = str(values.get("m1_mn") or "").strip().lower().startswith("solaredge")
        for canon, suffix in _METER.items():
            if canon == "grid_power_w" and solaredge:
                continue
            put(canon, f"m{meter}_{suffix}")
        put("meter_voltage_v", f"m{meter}_phv")
    out.update({old: new for old, new in legacy_names(model_ids, names).items() if old not in out})
    for canon, name in (("battery_soc_pct", "m124_chastate"), ("battery_soc_pct", "m802_soc"),
                        ("battery_soc_pct", "m713_soc"), ("battery_voltage_v", "m124_inbatv"),
                        ("battery_voltage_v", "m802_v"), ("battery_state", "m124_chast"),
                        ("battery_state", "m802_chast")):
        put(canon, name)
    return out


def legacy_names(model_ids: list[int], names: set[str]) -> dict[str, str]:
    """Old point name -> current one, for the models that had old names (see ``LEGACY_ROLES``)."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    counted: dict[int, int] = {}
    for model_id in model_ids:
        counted[model_id] = counted.get(model_id, 0) + 1
        role = LEGACY_ROLES.get(model_id)
        if role is None:
            continue
        seen[role] = seen.get(role, 0) + 1
        prefix = f"m{model_id}" if counted[model_id] == 1 else f"m{model_id}_{counted[model_id]}"
        old_prefix = role if seen[role] == 1 else f"{role}{seen[role]}"
        for name in names:
            if not name.startswith(prefix + "_") or (counted[model_id] == 1 and name[len(prefix) + 1:].split("_")[0].isdigit()):
                continue
            rest = name[len(prefix) + 1:]
            if model_id == 160 and rest.startswith("module"):
                k, _, point = rest[len("module"):].partition("_")
                if k.isdigit() and seen[role] == 1:
                    out[f"mppt{k}_{point}"] = name
                continue
            out[f"{old_prefix}_{rest}"] = name
    return out

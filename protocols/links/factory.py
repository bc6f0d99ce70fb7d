"""Build a Link from what the user chose: TCP, serial RTU, RTU over TCP, BLE or a Solarman V5 logger.

Runs on any thread (building a link does no I/O). ``LinkSpec`` is the one
description of a connection that the CLI, the GUI's connection panel, the
recent-connections list and diagnostics share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .base import Link


@dataclass
class LinkSpec:
    """Where and how to connect; ``kind`` is tcp, serial, rtu-tcp, ble, v5 or udp (GoodWe dongle)."""

    kind: str = "tcp"
    host: str = ""
    port: int = 502
    serial_port: str = ""
    baud: int = 9600
    parity: str = "N"
    stopbits: int = 1
    local_echo: bool = False
    inter_frame_delay_s: float = 0.0
    ble_address: str = ""
    logger_serial: int = 0
    timeout_s: float = 1.0

    def label(self) -> str:
        """Short words for status bars and the recent list (no personal data)."""
        if self.kind == "tcp":
            return f"TCP {self.host}:{self.port}"
        if self.kind == "rtu-tcp":
            return f"RTU over TCP {self.host}:{self.port}"
        if self.kind == "serial":
            return f"RTU {self.serial_port} {self.baud} 8{self.parity}{self.stopbits}"
        if self.kind == "ble":
            return f"Bluetooth {self.ble_address}"
        if self.kind == "v5":
            return f"Wi-Fi logger {self.host}:{self.port} #{self.logger_serial}"
        if self.kind == "udp":
            return f"GoodWe UDP {self.host}:{self.port}"
        return self.kind

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LinkSpec":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def make_link(spec: LinkSpec) -> Link:
    """The Link for ``spec``; ValueError names a spec that cannot work."""
    from . import pymodbus_link as pm
    if spec.kind == "tcp":
        if not spec.host:
            raise ValueError("a TCP connection needs a host")
        return pm.tcp_link(spec.host, spec.port, spec.timeout_s)
    if spec.kind == "rtu-tcp":
        return pm.rtu_tcp_link(spec.host, spec.port, spec.timeout_s)
    if spec.kind == "serial":
        if not spec.serial_port:
            raise ValueError("a serial connection needs a port (see `pvdesk ports`)")
        return pm.serial_link(spec.serial_port, spec.baud, spec.parity, spec.stopbits,
                              local_echo=spec.local_echo, timeout_s=spec.timeout_s)
    if spec.kind == "ble":
        from .ble import ble_link_from_spec  # bleak is only loaded when used
        return ble_link_from_spec(spec)
    if spec.kind == "v5":
        from .solarman import v5_link_from_spec
        return v5_link_from_spec(spec)
    if spec.kind == "udp":
        from .udp import udp_link_from_spec
        return udp_link_from_spec(spec)
    raise ValueError(f"unknown connection kind {spec.kind!r}")

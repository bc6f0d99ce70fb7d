"""Helpers of the wireless tests: links and sessions on the simulator's BLE radio and V5 logger."""

from __future__ import annotations

from protocols.links.ble import BleLink
from protocols.links.pymodbus_link import tcp_link
from protocols.links.solarman import V5Link
from protocols.session import Session

LOGGER_SERIAL = 2712345678


def ble_link(radio, mtu: int = 247, target: str | None = None) -> BleLink:
    radio.inject.mtu = mtu
    return BleLink(target or radio.address, backend=radio.backend, scan_timeout_s=0.3)


def v5_link(sim, serial: int = LOGGER_SERIAL) -> V5Link:
    host, port = sim.v5_address
    return V5Link(host, serial, port)


def tcp_session(sim) -> Session:
    return Session(tcp_link(*sim.tcp_address), timeout_s=1.0)


def session(link, timeout_s: float = 0.5, retries: int = 2) -> Session:
    return Session(link, timeout_s=timeout_s, retries=retries, backoff_s=0.01)


def link_of(kind: str, sim):
    """The link named by a test parameter: ble-247, ble-23 (MTU) or v5."""
    if kind.startswith("ble-"):
        return ble_link(sim.ble_radio(), mtu=int(kind[4:]))
    if kind == "v5":
        return v5_link(sim)
    raise ValueError(kind)

"""A fake Bluetooth LE radio for the simulated inverter: bleak backends wired to the simulator.

This machine (and CI) has no Bluetooth radio, so the simulator advertises and
answers through bleak's own backend interfaces (``BaseBleakScanner`` and
``BaseBleakClient``): ``BleakScanner(backend=...)`` and
``BleakClient(backend=...)`` run their real code over this fake air. RTU
frames written to the profile's write characteristic are decoded by pymodbus's
``FramerRTU``, answered by the simulator's ``Dispatcher`` (on the simulator's
loop, through a thread-safe hand-over) and sent back as notifications cut at
the negotiated MTU - 3.

Runs on the caller's asyncio loop (the app's I/O thread or a test's loop);
only the Dispatcher call hops to the simulator's thread. Injections
(``SimBleRadio.inject``): MTU, lost notifications, disconnect mid-frame, bad
CRC in a notification, delay, a device that stops advertising, pairing
required, and the adapter states bleak reports (missing, off, denied).
The simulator's own link faults (mute, delay, corrupt, drop_link) apply too.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

from .faults import CountedFaults

#: An advertising neighbour that no PVDesk profile recognises (scans must filter it out).
STRANGER = ("SI:MU:LA:TE:FF:01", "Headphones", -55)


@dataclass
class BleInjections(CountedFaults):
    """What the fake radio does wrong now; counters are consumed one event at a time."""

    mtu: int = 247
    lose_notifications: int = 0      # drop one notification (the 2nd piece) of the next N answers
    disconnect_mid_frame: int = 0    # drop the link after the first fragment of the next N answers
    bad_crc: int = 0                 # flip a CRC byte in the next N answers
    notify_delay_s: float = 0.0      # pause before every notification fragment
    vanish_after_s: float | None = None  # stop advertising this long after a scan starts
    advertising: bool = True
    needs_pairing: bool = False
    adapter: str = "ok"              # ok | missing | no-adapters | off | denied
    rssi_dbm: int = -62


class SimBleRadio:
    """The air between a Simulator's unit and bleak: advertisements and one GATT server."""

    def __init__(self, simulator, *, name: str = "PVD-SIM-0001", address: str = "SI:MU:LA:TE:D0:01",
                 unit: int = 1) -> None:
        self.sim = simulator
        self.name = name
        self.address = address
        self.unit = unit
        self.table = dict(simulator.profile.ble)
        if not self.table:
            raise ValueError(f"profile {simulator.profile.name} has no [ble] table")
        self.inject = BleInjections()
        self.paired = False
        self.clients: list["SimBleakClient"] = []
        #: What went over the air (tests check fragmentation with it).
        self.stats = {"writes": 0, "max_write": 0, "notifications": 0, "max_notification": 0, "lost": 0}
        radio = self
        #: The backend classes to pass as ``backend=`` to BleakScanner and BleakClient.
        self.scanner_backend = type("SimBleakScanner", (SimBleakScanner,), {"radio": radio})
        self.client_backend = type("SimBleakClient", (SimBleakClient,), {"radio": radio})

    @property
    def backend(self) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
        """(scanner backend class, client backend class), as ``BleLink(backend=...)`` takes it."""
        return self.scanner_backend, self.client_backend

    def check_adapter(self) -> None:
        """Raise what bleak raises on a machine without usable Bluetooth."""
        state = self.inject.adapter
        if state == "missing":        # BlueZ absent: bleak's D-Bus connect finds no socket
            raise FileNotFoundError(2, "No such file or directory")
        if state == "no-adapters":
            raise BleakError("No Bluetooth adapters found.")
        if state == "off":
            raise BleakBluetoothNotAvailableError("Bluetooth is turned off",
                                                  BleakBluetoothNotAvailableReason.POWERED_OFF)
        if state == "denied":
            raise BleakBluetoothNotAvailableError("Bluetooth access denied",
                                                  BleakBluetoothNotAvailableReason.DENIED_BY_USER)

    def present(self) -> bool:
        return self.inject.advertising and not self.sim.faults.link_down()

    def disconnect_all(self) -> None:
        """The device resets its radio: every connection drops (safe from any thread)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for client in list(self.clients):
            if client.loop is running or client.loop is None:
                client.drop()
            else:
                client.loop.call_soon_threadsafe(client.drop)

    async def answer(self, request: ModbusPDU) -> ModbusPDU | None:
        """The simulated device's answer, computed on the simulator's loop."""
        faults = self.sim.faults
        if faults.muted():
            return None
        fut: Future = Future()

        def run() -> None:
            try:
                fut.set_result(self.sim.dispatcher.answer(request, gateway=False))
            except BaseException as exc:  # hand it to the waiting client
                fut.set_exception(exc)
        loop = self.sim.loop
        if loop is None or not loop.is_running():
            run()
        else:
            loop.call_soon_threadsafe(run)
        response = await asyncio.wrap_future(fut)
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        return response


class SimBleakScanner(BaseBleakScanner):
    """A bleak scanner backend that hears the simulator's advertisements (and one stranger)."""

    radio: SimBleRadio
    interval_s = 0.05

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.radio.check_adapter()
        self.seen_devices = {}
        self._task = asyncio.ensure_future(self._advertise())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _hear(self, address: str, name: str, rssi: int, uuids: list[str]) -> None:
        if not self.is_allowed_uuid(uuids):
            return
        adv = AdvertisementData(local_name=name, manufacturer_data={}, service_data={}, service_uuids=uuids,
                                tx_power=None, rssi=rssi, platform_data=())
        device = self.create_or_update_device(address, address, name, {"sim": True}, adv)
        self.call_detection_callbacks(device, adv)

    async def _advertise(self) -> None:
        radio = self.radio
        t0 = time.monotonic()
        while True:
            vanish = radio.inject.vanish_after_s
            if vanish is not None and time.monotonic() - t0 >= vanish:
                radio.inject.advertising = False
            if radio.present():
                radio_uuid = radio.table.get("service_uuid", "").lower()
                self._hear(radio.address, radio.name, radio.inject.rssi_dbm, [radio_uuid] if radio_uuid else [])
            self._hear(STRANGER[0], STRANGER[1], STRANGER[2], ["0000110b-0000-1000-8000-00805f9b34fb"])
            await asyncio.sleep(self.interval_s)


class SimBleakClient(BaseBleakClient):
    """A bleak client backend connected to the simulator's GATT server (the RTU tunnel)."""

    radio: SimBleRadio

    def __init__(self, address_or_ble_device: BLEDevice | str, *, disconnected_callback=None,
                 timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._connected = False
        self._notify: NotifyCallback | None = None
        self._rx = b""
        self._framer = FramerRTU(DecodePDU(is_server=True))
        self._tasks: set[asyncio.Task] = set()
        self._mtu = 23
        self.loop: asyncio.AbstractEventLoop | None = None
        self._send_lock = asyncio.Lock()

    # ----------------------------------------------------------- connection
    @property
    def name(self) -> str:
        return self.radio.name

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        radio = self.radio
        radio.check_adapter()
        if self.address.upper() != radio.address.upper() or not radio.present():
            await asyncio.sleep(min(self._timeout, 0.2))
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        if pair:
            radio.paired = True
        self._mtu = radio.inject.mtu
        self.services = self._build_services()
        self._connected = True
        self.loop = asyncio.get_running_loop()
        radio.clients.append(self)

    def _build_services(self) -> BleakGATTServiceCollection:
        table = self.radio.table
        services = BleakGATTServiceCollection()
        service = BleakGATTService(None, 10, table["service_uuid"].lower())
        services.add_service(service)
        payload = lambda: self._mtu - 3  # noqa: E731 (bleak wants a callable)
        services.add_characteristic(BleakGATTCharacteristic(
            None, 11, table["write_uuid"].lower(), ["write", "write-without-response"], payload, service))
        services.add_characteristic(BleakGATTCharacteristic(
            None, 13, table["notify_uuid"].lower(), ["notify"], payload, service))
        return services

    def drop(self) -> None:
        """The link is lost (not asked for): bleak calls the disconnected callback."""
        if not self._connected:
            return
        self._forget()
        if self._disconnected_callback:
            self._disconnected_callback()

    def _forget(self) -> None:
        self._connected = False
        self._notify = None
        self._rx = b""
        for task in list(self._tasks):
            task.cancel()
        if self in self.radio.clients:
            self.radio.clients.remove(self)

    async def disconnect(self) -> None:
        self._forget()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        self.radio.check_adapter()
        self.radio.paired = True

    async def unpair(self) -> None:
        self.radio.paired = False
        self._forget()

    # ------------------------------------------------------------------ I/O
    def _check_access(self) -> None:
        if not self._connected:
            raise BleakError("Not connected")
        if self.radio.inject.needs_pairing and not self.radio.paired:
            raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.INSUFFICIENT_AUTHENTICATION)

    async def read_gatt_char(self, characteristic, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        self._check_access()
        raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.READ_NOT_PERMITTED)

    async def read_gatt_descriptor(self, descriptor, *, use_cached: bool = False, **kwargs: Any) -> bytearray:
        raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.READ_NOT_PERMITTED)

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED)

    async def start_notify(self, characteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        self._check_access()
        if characteristic.uuid != self.radio.table["notify_uuid"].lower():
            raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.REQUEST_NOT_SUPPORTED)
        self._notify = callback

    async def stop_notify(self, characteristic) -> None:
        self._notify = None

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        self._check_access()
        if characteristic.uuid != self.radio.table["write_uuid"].lower():
            raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED)
        if len(data) > (512 if response else self._mtu - 3):
            raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.INVALID_ATTRIBUTE_VALUE_LENGTH)
        if self.radio.sim.faults.link_down():
            self.drop()
            return
        stats = self.radio.stats
        stats["writes"] += 1
        stats["max_write"] = max(stats["max_write"], len(data))
        self._rx += bytes(data)
        while self._rx:
            used, pdu = self._framer.handleFrame(self._rx, 0, 0)
            if not used:
                if len(self._rx) > 300:
                    self._rx = b""
                return
            self._rx = self._rx[used:]
            if pdu is not None:
                task = asyncio.ensure_future(self._respond(pdu))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _respond(self, request: ModbusPDU) -> None:
        # One answer at a time, in order, like the device's UART-to-BLE bridge: pieces never interleave.
        async with self._send_lock:
            await self._respond_now(request)

    async def _respond_now(self, request: ModbusPDU) -> None:
        radio = self.radio
        response = await radio.answer(request)
        if response is None or not self._connected:
            return
        frame = radio.sim.faults.mangle(self._framer.buildFrame(response), rtu=True)
        if not frame:
            return
        if radio.inject.take("bad_crc"):
            frame = frame[:-1] + bytes([frame[-1] ^ 0xA5])
        cut = radio.inject.take("disconnect_mid_frame")
        if cut:                     # the link goes down with half the answer on the air
            frame = frame[: max(1, len(frame) // 2)]
        size = self._mtu - 3
        pieces = -(-len(frame) // size)
        lose_at = min(1, pieces - 1) * size   # a lost notification hits the 2nd piece (or the only one)
        for i in range(0, len(frame), size):
            if radio.inject.notify_delay_s:
                await asyncio.sleep(radio.inject.notify_delay_s)
            if self._notify is None or not self._connected:
                return
            if i == lose_at and radio.inject.take("lose_notifications"):
                radio.stats["lost"] += 1
                continue
            chunk = frame[i:i + size]
            radio.stats["notifications"] += 1
            radio.stats["max_notification"] = max(radio.stats["max_notification"], len(chunk))
            self._notify(bytearray(chunk))
            await asyncio.sleep(0)
        if cut:
            self.drop()

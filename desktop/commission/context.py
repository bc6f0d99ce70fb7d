"""What the commissioning pages share for one run of the app: installer id, stores, the write session.

Any thread: ``session_for`` is called on the device I/O thread (inside the
coroutines the pages submit), the attributes are read on the GUI thread; a
lock guards the swap. The installer code lives only in the ParamSession, in
memory: a new device connection (a new Device object) gets a new session and
the code must be given again; nothing is written to disk.
"""

from __future__ import annotations

import threading

from protocols.device import Device

from .params import ParamSession
from .storage import WriteHistory
from .wizard import WizardStore


class CommissionContext:
    """Shared by ParametersPage, CommissioningWizard and the settings-file dialogs."""

    def __init__(self, installer: str = "installer", company: str = "", history: WriteHistory | None = None,
                 wizard_store: WizardStore | None = None) -> None:
        self.installer = installer
        self.company = company
        self._history = history
        self._store = wizard_store
        self._lock = threading.Lock()
        self._device: Device | None = None
        self._session: ParamSession | None = None

    @property
    def history(self) -> WriteHistory:
        if self._history is None:
            self._history = WriteHistory()
        return self._history

    @property
    def wizard_store(self) -> WizardStore:
        if self._store is None:
            self._store = WizardStore()
        return self._store

    def session_for(self, device: Device) -> ParamSession:
        """The write session of ``device`` (the same object while the connection lasts)."""
        with self._lock:
            if self._session is None or self._device is not device:
                self._device = device
                self._session = ParamSession(device, self.installer, self.history)
            self._session.installer = self.installer
            return self._session

    def current_session(self) -> ParamSession | None:
        """The write session of the device connected last (GUI thread: for checks before a write is sent)."""
        with self._lock:
            return self._session

    def forget_login(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.forget_login()

"""Shred secrets: one random secret per record, kept with the other secrets, destroyable one by one.

A record's data key is wrapped under HKDF(master key + the record's shred
secret) and the wrapped key lives in the database. The secrets do not: they
sit in the keyring (or the passphrase key file) in chunks of SLOTS_PER_CHUNK
32-byte slots (1 KB, under the 2.5 KB a Windows credential may hold), one
entry per chunk. Deleting a record overwrites its slot with DESTROYED, one
chunk write, so any copy of the database -- a backup taken before the
deletion included -- can no longer unwrap that record's key, while every
other record of the copy still opens. There is no whole-store rotation.

Slots are never reused: allocation takes the first slot that is all zero,
and a destroyed slot is all 0xFF. So opening an old backup beside the live
store cannot hand out a slot the live store still uses.

A chunk is one keyring entry, written whole: OS keyrings replace an entry
atomically, and the passphrase key file is written to a temporary file and
renamed. The order of writes (secret before the row that uses it; row gone
before its secret is destroyed) is the store's (store.py). Thread: the
caller's, under the store's lock.
"""
from __future__ import annotations

import os

from .errors import KeyDamaged

SLOT_BYTES = 32
SLOTS_PER_CHUNK = 32
FREE = b"\x00" * SLOT_BYTES
DESTROYED = b"\xff" * SLOT_BYTES


class ShredBag:
    def __init__(self, secrets, store_id: str) -> None:
        self.secrets = secrets
        self.store_id = store_id
        self._chunks: dict[int, bytearray] = {}
        self._dirty: set[int] = set()
        self._cursor = 0  # no free slot below this one (in this process)

    def _name(self, chunk: int) -> str:
        return f"{self.store_id}/shred/{chunk}"

    def _chunk(self, chunk: int) -> bytearray:
        data = self._chunks.get(chunk)
        if data is None:
            raw = self.secrets.get(self._name(chunk))
            if raw is None:
                raw = b""
            elif len(raw) != SLOT_BYTES * SLOTS_PER_CHUNK:
                raise KeyDamaged(f"the record key entry shred/{chunk}")
            data = bytearray(raw or FREE * SLOTS_PER_CHUNK)
            self._chunks[chunk] = data
        return data

    def _slot(self, slot: int) -> bytes:
        data = self._chunk(slot // SLOTS_PER_CHUNK)
        i = (slot % SLOTS_PER_CHUNK) * SLOT_BYTES
        return bytes(data[i:i + SLOT_BYTES])

    def secret(self, slot: int) -> bytes | None:
        """The live secret of a slot, or None if it was destroyed (or never handed out)."""
        value = self._slot(slot)
        return None if value in (FREE, DESTROYED) else value

    def is_destroyed(self, slot: int) -> bool:
        return self._slot(slot) == DESTROYED

    def allocate(self, hint: int = 0) -> tuple[int, bytes]:
        """Hand out a fresh slot: (slot, secret). It is written to the keyring by `flush`, which the
        store calls just before the commit that first uses the slot (one write per chunk, however
        many records one transaction adds)."""
        slot = max(hint, self._cursor)
        while self._slot(slot) != FREE:
            slot += 1
        self._cursor = slot + 1
        secret = os.urandom(SLOT_BYTES)
        while secret in (FREE, DESTROYED):  # pragma: no cover - 2**-255
            secret = os.urandom(SLOT_BYTES)
        self._write({slot: secret}, defer=True)
        return slot, secret

    def destroy(self, slots: list[int]) -> None:
        """Overwrite the slots' secrets for good: one keyring write per chunk touched."""
        self._write({s: DESTROYED for s in slots if self._slot(s) != DESTROYED})

    def flush(self) -> None:
        """Write the chunks that `allocate` changed (before the commit that references them)."""
        for chunk in sorted(self._dirty):
            self.secrets.put(self._name(chunk), bytes(self._chunks[chunk]))
            self._dirty.discard(chunk)

    def _write(self, values: dict[int, bytes], defer: bool = False) -> None:
        by_chunk: dict[int, dict[int, bytes]] = {}
        for slot, value in values.items():
            by_chunk.setdefault(slot // SLOTS_PER_CHUNK, {})[slot % SLOTS_PER_CHUNK] = value
        for chunk, changes in sorted(by_chunk.items()):
            data = bytearray(self._chunk(chunk))
            for i, value in changes.items():
                data[i * SLOT_BYTES:(i + 1) * SLOT_BYTES] = value
            self._chunks[chunk] = data
            if defer:
                self._dirty.add(chunk)
            else:
                self.secrets.put(self._name(chunk), bytes(data))
                self._dirty.discard(chunk)

    def forget_cache(self) -> None:
        """After a rollback: slots handed out but never written are free again."""
        self._chunks.clear()
        self._dirty.clear()
        self._cursor = 0

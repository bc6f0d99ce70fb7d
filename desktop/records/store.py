"""The encrypted SQLite store: one row per customer record, sealed under its own key.

On disk (records.db, WAL mode): a meta table (store id, settings that are
not personal), records (id, version, sync bookkeeping, and the AES-256-GCM
ciphertext of the record's JSON), keys (each record's data key, wrapped
under HKDF(master key + the record's shred secret), and the shred slot),
documents (attached files, sealed under the record's data key), conflicts (a
remote version awaiting the installer's decision, sealed the same way),
pending_remote (remote copies to remove), shred_pending (deleted records
whose shred secret is still to be destroyed) and the audit trail. Ids are
random and carry no meaning.

Durability: every write is one SQLite transaction with synchronous=FULL.
Key changes are ordered so a crash at any instant leaves each record either
as it was or as it became, and never a row without a usable key:
  add     -- the new shred secret is written (keyring) before the row that uses it commits
             (a crash in between leaves an unused slot, nothing else);
  delete  -- the rows go and a shred_pending entry comes in one commit, then the secret is
             destroyed, then the entry is cleared; opening the store finishes any entry a
             crash left, so a deleted record never comes back;
  update  -- the database only.
The master key never changes, so a backup of the database keeps opening for
every record that still exists (see keybag.py). A missing or empty database
beside an existing key is refused (StoreMissing), never replaced by an empty store.

Thread: any; one RLock serialises access (the GUI thread and the sync worker).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from pathlib import Path

from . import crypto, faults
from .errors import MasterKeyMissing, RecordCorrupt, RecordsError, StoreBusy, StoreMissing
from .keybag import ShredBag
from .model import Customer
from .store_integrity import StoreErasure, StoreIntegrity
from .store_tables import StoreTables

log = logging.getLogger(__name__)
DB_NAME = "records.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, blob BLOB NOT NULL,
    dirty INTEGER NOT NULL DEFAULT 1, remote_etag TEXT, sync_state TEXT NOT NULL DEFAULT 'local',
    ever_synced INTEGER NOT NULL DEFAULT 0);
-- covering index: sync status of every record without reading the ciphertext pages
CREATE INDEX IF NOT EXISTS records_sync ON records(id, dirty, remote_etag, sync_state);
CREATE TABLE IF NOT EXISTS keys (record_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, wrapped BLOB NOT NULL,
    slot INTEGER);
CREATE TABLE IF NOT EXISTS requests (request_id TEXT PRIMARY KEY, record_id TEXT, kind TEXT NOT NULL,
    received_at REAL NOT NULL, due_at REAL NOT NULL, closed_at REAL, outcome TEXT, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (record_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shred_pending (record_id TEXT PRIMARY KEY, slot INTEGER);
CREATE TABLE IF NOT EXISTS documents (doc_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (record_id TEXT PRIMARY KEY, remote_etag TEXT, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending_remote (record_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, ts REAL NOT NULL, installer TEXT NOT NULL, action TEXT NOT NULL,
    record_id TEXT, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, mac BLOB NOT NULL);
"""


def _dir_marker(data_dir: Path) -> str:
    """Name of the secret that says "a store lives in this folder" (kept beside the keys)."""
    return "stores-at/" + crypto.sha256(str(Path(data_dir).resolve()).encode()).hex()[:32]


class RecordStore(StoreTables, StoreIntegrity, StoreErasure):
    def __init__(self, data_dir: Path, secrets, *, discard_missing: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = self.data_dir / DB_NAME
        self.secrets = secrets
        self.lock = threading.RLock()
        self._depth = 0
        self._after: list = []
        self._undo: list = []
        self.data_keys: dict[str, bytes] = {}
        self._lockfile = _lock_exclusively(self.data_dir / "records.lock")
        try:
            self._refuse_missing(discard_missing)
            self._open()
        except BaseException:
            if getattr(self, "db", None) is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.db.close()
            self._lockfile.close()
            raise

    def _refuse_missing(self, discard: bool) -> None:
        """A key says a store lived here, but its database is gone or empty: never start afresh."""
        if self.path.exists() and self.path.stat().st_size > 0:
            return
        marker = self.secrets.get(_dir_marker(self.data_dir))
        if marker is None:
            return
        old_id = marker.decode("ascii", "replace")
        if self.secrets.get(f"{old_id}/master/1") is None and not self._legacy_master(old_id):
            return  # the old store's key is gone too: nothing left to protect or to lose
        if not discard:
            state = "empty (0 bytes)" if self.path.exists() else "missing"
            raise StoreMissing(
                f"The customer records database {self.path} is {state}, but the key of the store "
                f"that was there is still on this laptop: restore records.db from a backup into "
                f"{self.data_dir}; only to give those records up for good and start an empty store, "
                "run `pvdesk records new-store --discard-old-key`.")
        for name in (f"{old_id}/master/1", f"{old_id}/audit", f"{old_id}/audit-head", _dir_marker(self.data_dir)):
            self.secrets.delete(name)
        log.warning("records store %s given up on request; its key was destroyed", old_id)

    def _legacy_master(self, store_id: str) -> bool:
        return any(self.secrets.get(f"{store_id}/master/{e}") is not None for e in range(2, 6))

    def _open(self) -> None:
        new = not self.path.exists()
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if new:
            os.chmod(self.path, 0o600)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.executescript(_SCHEMA)
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(keys)")}
            if "slot" not in cols:  # a format-1 store: per-record shred slots come with format 2
                self.db.execute("ALTER TABLE keys ADD COLUMN slot INTEGER")
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise RecordsError(
                f"The customer records database {self.path} is damaged or not a PVDesk database "
                f"({exc}). It was left untouched: restore it from a backup, or move it aside to "
                "start an empty store.") from None
        if self.meta("store_id") is None:
            self._initialise()
        self.store_id = self.meta("store_id")
        self.epoch = int(self.meta("epoch"))
        self.master = self._load_master(self.epoch)
        self.audit_key = self.secrets.get(f"{self.store_id}/audit")
        if self.audit_key is None:
            raise MasterKeyMissing(
                "The audit key of this customer records store is missing from the keyring; "
                "the store cannot be verified. Restore the keyring from its backup.")
        self.bag = ShredBag(self.secrets, self.store_id)
        if self.meta("record_count") is None:
            with self.transaction():
                self._set_count(self.db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        self.finish_pending_shreds()

    # -- set-up -------------------------------------------------------------
    def _initialise(self) -> None:
        store_id = uuid.uuid4().hex
        self.secrets.put(f"{store_id}/master/1", crypto.new_key())
        self.secrets.put(f"{store_id}/audit", crypto.new_key())
        self.secrets.put(_dir_marker(self.data_dir), store_id.encode())
        with self.transaction():
            self.set_meta("store_id", store_id)
            self.set_meta("epoch", "1")
            self.set_meta("format", "2")
            self.set_meta("key_mode", "passphrase" if self.secrets.backend_name == "passphrase" else "keyring")
        log.info("created customer records store %s", store_id)

    def _load_master(self, epoch: int) -> bytes:
        key = self.secrets.get(f"{self.store_id}/master/{epoch}")
        if key is None:
            raise MasterKeyMissing(
                f"The key of customer records store {self.store_id} is not in this "
                "keyring (or key file). Open the store on the laptop and user account "
                "that created it, or restore the keyring from its backup; the records "
                "cannot be read without it.")
        return key

    def _kek(self, rid: str, slot: int | None) -> bytes | None:
        """The key that wraps a record's data key; None once its shred secret is destroyed."""
        if slot is None:  # format 1: master key only (migrated by load_all)
            return crypto.derive(self.master, "records/wrap")
        secret = self.bag.secret(slot)
        return None if secret is None else crypto.derive(self.master + secret, "records/wrap2/" + rid)

    @contextlib.contextmanager
    def transaction(self):
        """One SQLite write transaction; nested use joins the outer one (all or nothing).

        Callbacks given to `after_commit` run once the outermost transaction committed."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.db
            except BaseException:
                self._depth = 0
                self._after.clear()
                self.db.execute("ROLLBACK")
                if getattr(self, "bag", None) is not None:
                    self.bag.forget_cache()
                undo, self._undo = self._undo, []
                for fn in undo:
                    fn()
                raise
            self._depth = 0
            try:
                if getattr(self, "bag", None) is not None:
                    self.bag.flush()  # new shred secrets are durable before the rows that use them
            except BaseException:
                self.bag.forget_cache()
                self.db.execute("ROLLBACK")
                raise
            faults.step("commit")
            self.db.execute("COMMIT")
            faults.step("committed")
            hooks, self._after, self._undo = self._after, [], []
            for fn in hooks:
                fn()

    def on_rollback(self, fn) -> None:
        """Run `fn` if the current transaction rolls back (undo in-memory state)."""
        with self.lock:
            if self._depth:
                self._undo.append(fn)

    def after_commit(self, fn) -> None:
        """Run `fn` when the current transaction commits (at once if none is open)."""
        with self.lock:
            if self._depth:
                self._after.append(fn)
            else:
                fn()

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def set_settings(self, values: dict[str, str]) -> None:
        """Several non-personal settings in one transaction."""
        with self.transaction():
            for k, v in values.items():
                self.set_meta(k, v)

    # -- records ------------------------------------------------------------
    def load_all(self) -> tuple[dict[str, Customer], list[str], list[str]]:
        """Decrypt every record: (records, ids that failed their check, ids whose key was destroyed).

        A row whose shred secret is destroyed is a deleted record in a copy made before the
        deletion: it is reported as erased, not as damaged, and can never be opened."""
        out: dict[str, Customer] = {}
        corrupt: list[str] = []
        erased: list[str] = []
        legacy: list[str] = []
        with self.lock:
            rows = self.db.execute(
                "SELECT r.id, r.blob, k.wrapped, k.slot FROM records r LEFT JOIN keys k ON k.record_id = r.id"
            ).fetchall()
        for rid, blob, wrapped, slot in rows:
            try:
                kek = self._kek(rid, slot)
                if kek is None:
                    erased.append(rid)
                    continue
                dk = crypto.open_sealed(kek, wrapped, b"dk|" + rid.encode())
                data = json.loads(crypto.open_sealed(dk, blob, b"record|" + rid.encode()))
                out[rid] = Customer.from_dict(data)
                self.data_keys[rid] = dk
                if slot is None:
                    legacy.append(rid)
            except Exception:  # InvalidTag, missing key row, bad JSON, a bad field
                corrupt.append(rid)
                log.warning("customer record %s failed its integrity check; left untouched", rid)
        self.rows_found = len(rows)
        if legacy:
            self._migrate(legacy)
        return out, corrupt, erased

    def _migrate(self, rids: list[str]) -> None:
        """Format 1 -> 2: give each record a shred slot and rewrap its data key under it."""
        with self.transaction():
            for rid in rids:
                self.db.execute("UPDATE keys SET slot=?, wrapped=? WHERE record_id=?",
                                (*self._new_wrap(rid, self.data_keys[rid]), rid))
            self.set_meta("format", "2")
        log.info("records store %s: %d record key(s) moved to per-record shred slots", self.store_id, len(rids))

    def _new_wrap(self, rid: str, dk: bytes) -> tuple[int, bytes]:
        """Allocate a shred slot (written to the keyring first) and wrap `dk` under it."""
        slot, secret = self.bag.allocate()
        kek = crypto.derive(self.master + secret, "records/wrap2/" + rid)
        return slot, crypto.seal(kek, dk, b"dk|" + rid.encode())

    def _data_key(self, rid: str, create: bool = False) -> bytes:
        dk = self.data_keys.get(rid)
        if dk is None:
            if not create:
                raise RecordCorrupt(rid, "data key")
            dk = crypto.new_key()
            slot, wrapped = self._new_wrap(rid, dk)
            self.db.execute("INSERT INTO keys(record_id, epoch, wrapped, slot) VALUES (?,?,?,?)",
                            (rid, self.epoch, wrapped, slot))
            self.data_keys[rid] = dk
        return dk

    def put(self, customer: Customer, *, dirty: bool = True, remote_etag: str | None = None,
            sync_state: str | None = None) -> None:
        """Insert or replace one record (call inside transaction())."""
        rid = customer.id
        exists = self.db.execute("SELECT version FROM records WHERE id=?", (rid,)).fetchone()
        dk = self._data_key(rid, create=exists is None)
        blob = crypto.seal(dk, json.dumps(customer.to_dict(), separators=(",", ":")).encode(),
                           b"record|" + rid.encode())
        if exists is None:
            self.db.execute("INSERT INTO records(id, version, blob, dirty, remote_etag, sync_state) "
                            "VALUES (?,?,?,?,?,?)", (rid, 1, blob, int(dirty), remote_etag, sync_state or "local"))
            self._set_count(self._count() + 1)
            if remote_etag is not None:
                self.db.execute("UPDATE records SET ever_synced=1 WHERE id=?", (rid,))
        else:
            self.db.execute("UPDATE records SET version=version+1, blob=?, dirty=? WHERE id=?",
                            (blob, int(dirty), rid))
            if remote_etag is not None:
                self.db.execute("UPDATE records SET remote_etag=?, ever_synced=1 WHERE id=?", (remote_etag, rid))
            if sync_state is not None:
                self.db.execute("UPDATE records SET sync_state=? WHERE id=?", (sync_state, rid))

    def data_key(self, rid: str) -> bytes:
        """The record's data key (for sealing its bucket objects); RecordCorrupt if it has none."""
        return self._data_key(rid)

    def seal_for(self, rid: str, data: bytes, label: str) -> bytes:
        return crypto.seal(self._data_key(rid), data, f"{label}|{rid}".encode())

    def open_for(self, rid: str, blob: bytes, label: str) -> bytes:
        try:
            return crypto.open_sealed(self._data_key(rid), blob, f"{label}|{rid}".encode())
        except crypto.InvalidTag:
            raise RecordCorrupt(rid, label) from None

    def close(self) -> None:
        with self.lock:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.close()
            self._lockfile.close()


def _lock_exclusively(path: Path):
    """One RecordsService per store at a time: another process (or window) holding stale keys
    after a deletion rotated the master key would write data keys no one can unwrap.

    Returns the open lock file; the store holds it (and so the lock) until it closes it."""
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(open(path, "a+b"))
        try:
            if os.name == "nt":
                import msvcrt
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreBusy() from None     # the stack closes the file
        stack.pop_all()                     # locked: from here the caller owns the open file
        return fh


def recorded_key_mode(db_path: Path) -> str | None:
    """"keyring" or "passphrase" as the store's database records it (None: no store yet).

    Read before the store opens (the secrets it needs depend on it), read-only, on any thread.
    """
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key='key_mode'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None  # the store reports the damage when it opens
    return row[0] if row else None

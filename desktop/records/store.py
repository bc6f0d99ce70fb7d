"""The encrypted SQLite store: one row per customer record, sealed under its own key.

On disk (records.db, WAL mode): a meta table (store id, key epoch, settings
that are not personal), records (id, version, sync bookkeeping, and the
AES-256-GCM ciphertext of the record's JSON), keys (each record's data key,
wrapped by the master key of the current epoch), documents (attached files,
sealed under the record's data key), conflicts (a remote version awaiting the
installer's decision, sealed the same way), pending_remote (remote copies to
remove) and the audit trail. Ids are random and carry no meaning.

Every write is one SQLite transaction with synchronous=FULL, so a crash or
kill leaves the previous or the new version. Deleting records destroys their
data keys and rotates the master key (all surviving data keys are rewrapped
under a fresh one, the old one is removed from the keyring), so an old copy of
the file cannot be opened for them with the keys that remain.

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

from . import crypto
from .errors import MasterKeyMissing, RecordCorrupt, RecordsError, StoreBusy
from .model import Customer
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
CREATE TABLE IF NOT EXISTS keys (record_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, wrapped BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS documents (doc_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS conflicts (record_id TEXT PRIMARY KEY, remote_etag TEXT, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending_remote (record_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, ts REAL NOT NULL, installer TEXT NOT NULL, action TEXT NOT NULL,
    record_id TEXT, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, mac BLOB NOT NULL);
"""


class RecordStore(StoreTables):
    def __init__(self, data_dir: Path, secrets) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = self.data_dir / DB_NAME
        self.secrets = secrets
        self.lock = threading.RLock()
        self._depth = 0
        self._after: list = []
        self._lockfile = _lock_exclusively(self.data_dir / "records.lock")
        try:
            self._open()
        except BaseException:
            if getattr(self, "db", None) is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.db.close()
            self._lockfile.close()
            raise

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
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise RecordsError(
                f"The customer records database {self.path} is damaged or not a PVDesk database "
                f"({exc}). It was left untouched: restore it from a backup, or move it aside to "
                "start an empty store.") from None
        self.data_keys: dict[str, bytes] = {}
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
        # finish or undo a key rotation a crash interrupted
        for stale in (self.epoch - 1, self.epoch + 1):
            self.secrets.delete(f"{self.store_id}/master/{stale}")

    # -- set-up -------------------------------------------------------------
    def _initialise(self) -> None:
        store_id = uuid.uuid4().hex
        self.secrets.put(f"{store_id}/master/1", crypto.new_key())
        self.secrets.put(f"{store_id}/audit", crypto.new_key())
        with self.transaction():
            self.set_meta("store_id", store_id)
            self.set_meta("epoch", "1")
            self.set_meta("format", "1")
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

    def _wrap_key(self, master: bytes | None = None) -> bytes:
        return crypto.derive(master or self.master, "records/wrap")

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
                raise
            self._depth = 0
            self.db.execute("COMMIT")
            hooks, self._after = self._after, []
            for fn in hooks:
                fn()

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
    def load_all(self) -> tuple[dict[str, Customer], list[str]]:
        """Decrypt every record. Returns (records, ids of rows that failed their check)."""
        wrap = self._wrap_key()
        out: dict[str, Customer] = {}
        corrupt: list[str] = []
        with self.lock:
            rows = self.db.execute(
                "SELECT r.id, r.blob, k.wrapped FROM records r LEFT JOIN keys k ON k.record_id = r.id"
            ).fetchall()
        for rid, blob, wrapped in rows:
            try:
                dk = crypto.open_sealed(wrap, wrapped, b"dk|" + rid.encode())
                data = json.loads(crypto.open_sealed(dk, blob, b"record|" + rid.encode()))
                out[rid] = Customer.from_dict(data)
                self.data_keys[rid] = dk
            except Exception:  # InvalidTag, missing key row, bad JSON
                corrupt.append(rid)
                log.warning("customer record %s failed its integrity check; left untouched", rid)
        return out, corrupt

    def _data_key(self, rid: str, create: bool = False) -> bytes:
        dk = self.data_keys.get(rid)
        if dk is None:
            if not create:
                raise RecordCorrupt(rid, "data key")
            dk = crypto.new_key()
            self.db.execute("INSERT INTO keys(record_id, epoch, wrapped) VALUES (?,?,?)",
                            (rid, self.epoch, crypto.seal(self._wrap_key(), dk, b"dk|" + rid.encode())))
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
            if remote_etag is not None:
                self.db.execute("UPDATE records SET ever_synced=1 WHERE id=?", (rid,))
        else:
            self.db.execute("UPDATE records SET version=version+1, blob=?, dirty=? WHERE id=?",
                            (blob, int(dirty), rid))
            if remote_etag is not None:
                self.db.execute("UPDATE records SET remote_etag=?, ever_synced=1 WHERE id=?", (remote_etag, rid))
            if sync_state is not None:
                self.db.execute("UPDATE records SET sync_state=? WHERE id=?", (sync_state, rid))

    def seal_for(self, rid: str, data: bytes, label: str) -> bytes:
        return crypto.seal(self._data_key(rid), data, f"{label}|{rid}".encode())

    def open_for(self, rid: str, blob: bytes, label: str) -> bytes:
        try:
            return crypto.open_sealed(self._data_key(rid), blob, f"{label}|{rid}".encode())
        except crypto.InvalidTag:
            raise RecordCorrupt(rid, label) from None

    # -- deletion: destroy data keys, rotate the master key ------------------
    def destroy(self, rids: list[str]) -> None:
        """Delete records for good. Runs its own transaction; see module docstring."""
        with self.lock:
            old_epoch, new_epoch = self.epoch, self.epoch + 1
            new_master = crypto.new_key()
            self.secrets.put(f"{self.store_id}/master/{new_epoch}", new_master)
            try:
                with self.transaction():
                    for rid in rids:
                        for table, col in (("records", "id"), ("keys", "record_id"),
                                           ("documents", "record_id"), ("conflicts", "record_id")):
                            self.db.execute(f"DELETE FROM {table} WHERE {col}=?", (rid,))
                    new_wrap = self._wrap_key(new_master)
                    for (rid,) in self.db.execute("SELECT record_id FROM keys").fetchall():
                        dk = self.data_keys.get(rid)
                        if dk is None:
                            continue  # unreadable key row: left as it was
                        self.db.execute("UPDATE keys SET epoch=?, wrapped=? WHERE record_id=?",
                                        (new_epoch, crypto.seal(new_wrap, dk, b"dk|" + rid.encode()), rid))
                    self.set_meta("epoch", str(new_epoch))
            except BaseException:
                self.secrets.delete(f"{self.store_id}/master/{new_epoch}")
                raise
            self.epoch, self.master = new_epoch, new_master
            for rid in rids:
                self.data_keys.pop(rid, None)
            self.secrets.delete(f"{self.store_id}/master/{old_epoch}")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.execute("VACUUM")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self.lock:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.close()
            self._lockfile.close()


def _lock_exclusively(path: Path):
    """One RecordsService per store at a time: another process (or window) holding stale keys
    after a deletion rotated the master key would write data keys no one can unwrap."""
    fh = open(path, "a+b")
    try:
        if os.name == "nt":
            import msvcrt
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise StoreBusy() from None
    return fh

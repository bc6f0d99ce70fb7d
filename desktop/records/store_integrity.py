"""The record store's integrity and erasure halves: the authenticated record count, and crypto-shred.

`StoreIntegrity` and `StoreErasure` are mixed into RecordStore (store.py)
and work over its own connection, keys and shred bag; nothing outside the
store calls SQL. The count is HMAC'd under a key derived from the master
key, so a row the database lost (or gained) outside PVDesk is reported, never
silently left out. Erasure removes a record's rows and its shred_pending
entry in one commit, then destroys its shred secret (keybag.py), then clears
the entry; `finish_pending_shreds` on open completes what a crash left.
Thread: any, under the store's RLock.
"""
from __future__ import annotations

from . import crypto, faults


class StoreIntegrity:
    def _count_mac(self, n: int) -> str:
        return crypto.mac(crypto.derive(self.master, "records/count"), b"count|%d" % n).hex()

    def _count(self) -> int:
        text = self.meta("record_count")
        if text is None:
            return self.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        n, _, mac = text.partition(":")
        return int(n) if n.isdigit() and mac == self._count_mac(int(n)) else -1

    def _set_count(self, n: int) -> None:
        self.set_meta("record_count", f"{n}:{self._count_mac(n)}")

    def structure_problem(self) -> str | None:
        """One line if SQLite's own check finds the file damaged (rows may be unreachable)."""
        with self.lock:
            result = self.db.execute("PRAGMA quick_check").fetchone()[0]
        if result == "ok":
            return None
        return (f"The customer records database {self.path} is damaged ({str(result)[:80]}); some "
                "records may be unreadable. Restore it from a backup; nothing was changed.")

    def count_problem(self, rows_found: int) -> str | None:
        """One line if the database holds fewer (or more) record rows than PVDesk wrote."""
        with self.lock:
            expected = self._count()
        if expected == -1:
            return ("The record count of the customer records database failed its check: the file "
                    "was altered or damaged; records may be missing. Restore it from a backup.")
        if expected != rows_found:
            return (f"The customer records database holds {rows_found} record(s) but PVDesk wrote "
                    f"{expected}: {abs(expected - rows_found)} went missing or were added outside PVDesk "
                    "(the file is damaged). Restore it from a backup; nothing was changed.")
        return None



class StoreErasure:
    def destroy(self, rids: list[str], in_transaction=None) -> None:
        """Delete records for good: rows gone, then each record's shred secret destroyed.

        `in_transaction()` runs inside the deleting transaction (the caller's audit entries and
        queued bucket removals commit with the deletion, or not at all)."""
        with self.lock:
            with self.transaction():
                for rid in rids:
                    row = self.db.execute("SELECT slot FROM keys WHERE record_id=?", (rid,)).fetchone()
                    self.db.execute("INSERT OR REPLACE INTO shred_pending(record_id, slot) VALUES (?,?)",
                                    (rid, row[0] if row else None))
                    for table, col in (("records", "id"), ("keys", "record_id"),
                                       ("documents", "record_id"), ("conflicts", "record_id")):
                        self.db.execute(f"DELETE FROM {table} WHERE {col}=?", (rid,))
                self._set_count(max(0, self._count() - len(rids)))
                if in_transaction is not None:
                    in_transaction()
            for rid in rids:
                self.data_keys.pop(rid, None)
            self.finish_pending_shreds()
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            faults.step("vacuum")
            self.db.execute("VACUUM")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            faults.step("vacuum done")

    def finish_pending_shreds(self) -> list[str]:
        """Destroy the shred secrets of deleted records (also what a crash left half done)."""
        with self.lock:
            rows = self.db.execute("SELECT record_id, slot FROM shred_pending").fetchall()
            if not rows:
                return []
            self.bag.destroy([slot for _, slot in rows if slot is not None])
            with self.transaction():
                self.db.executemany("DELETE FROM shred_pending WHERE record_id=?", [(r,) for r, _ in rows])
        return [r for r, _ in rows]


"""The store's side tables: sync bookkeeping, documents, conflicts, queued remote removals, audit rows.

`StoreTables` is the half of RecordStore that holds every SQL statement about
these tables (RecordStore mixes it in over its own connection; nothing
outside the store writes SQL). Methods that change rows expect to run inside
`RecordStore.transaction()`; readers take the store's lock themselves.
Thread: any, under the store's RLock.
"""
from __future__ import annotations

import json

from .errors import RecordNotFound

SYNC_COLUMNS = "dirty, remote_etag, sync_state"


class StoreTables:
    # -- sync bookkeeping of records --------------------------------------------------
    def sync_row(self, rid: str) -> tuple[int, str | None, str]:
        with self.lock:
            row = self.db.execute(f"SELECT {SYNC_COLUMNS} FROM records WHERE id=?", (rid,)).fetchone()
        if row is None:
            raise RecordNotFound(rid)
        return row

    def sync_rows(self, ids: list[str] | None = None) -> dict[str, tuple]:
        """{id: (dirty, remote_etag, sync_state)} of the given ids (or of every record)."""
        q = f"SELECT id, {SYNC_COLUMNS} FROM records"
        with self.lock:
            if ids is not None and len(ids) <= 500:
                rows = self.db.execute(q + f" WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall() \
                    if ids else []
            else:
                rows = self.db.execute(q).fetchall()
        return {r[0]: r[1:] for r in rows}

    def version_row(self, rid: str) -> tuple[int, int, str | None, str] | None:
        """(version, dirty, remote_etag, sync_state) or None."""
        with self.lock:
            return self.db.execute(f"SELECT version, {SYNC_COLUMNS} FROM records WHERE id=?",
                                   (rid,)).fetchone()

    def ever_synced(self, rid: str) -> bool:
        """True once a copy of the record has been in the bucket (so removal must reach it)."""
        with self.lock:
            row = self.db.execute("SELECT ever_synced FROM records WHERE id=?", (rid,)).fetchone()
        return bool(row and row[0])

    def set_sync(self, rid: str, *, dirty: bool | None = None, remote_etag: str | None | bool = False,
                 sync_state: str | None = None) -> None:
        if dirty is not None:
            self.db.execute("UPDATE records SET dirty=? WHERE id=?", (int(dirty), rid))
        if remote_etag is not False:
            self.db.execute("UPDATE records SET remote_etag=? WHERE id=?", (remote_etag, rid))
        if sync_state is not None:
            self.db.execute("UPDATE records SET sync_state=? WHERE id=?", (sync_state, rid))

    def mark_uploaded(self, rid: str, version: int, etag: str) -> None:
        """The bucket holds `version` under `etag`; a record edited meanwhile stays dirty."""
        cur = self.db.execute("UPDATE records SET dirty=0, remote_etag=?, sync_state='synced', ever_synced=1 "
                              "WHERE id=? AND version=?", (etag, rid, version))
        if cur.rowcount == 0:
            self.db.execute("UPDATE records SET remote_etag=?, ever_synced=1 WHERE id=?", (etag, rid))

    # -- documents ----------------------------------------------------------------------
    def add_document(self, rid: str, doc_id: str, content: bytes) -> None:
        self.db.execute("INSERT INTO documents(doc_id, record_id, blob) VALUES (?,?,?)",
                        (doc_id, rid, self.seal_for(rid, content, "doc:" + doc_id)))

    def document(self, rid: str, doc_id: str) -> bytes:
        with self.lock:
            row = self.db.execute("SELECT blob FROM documents WHERE doc_id=? AND record_id=?",
                                  (doc_id, rid)).fetchone()
        if row is None:
            raise RecordNotFound(f"{rid}/{doc_id}")
        return self.open_for(rid, row[0], "doc:" + doc_id)

    def document_count(self, rid: str) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM documents WHERE record_id=?", (rid,)).fetchone()[0]

    def documents(self, rid: str) -> dict[str, bytes]:
        with self.lock:
            rows = self.db.execute("SELECT doc_id, blob FROM documents WHERE record_id=?", (rid,)).fetchall()
        return {d: self.open_for(rid, b, "doc:" + d) for d, b in rows}

    # -- conflicts ------------------------------------------------------------------------
    def put_conflict(self, rid: str, remote_etag: str, payload: dict) -> None:
        blob = self.seal_for(rid, json.dumps(payload).encode(), "conflict")
        self.db.execute("INSERT OR REPLACE INTO conflicts(record_id, remote_etag, blob) VALUES (?,?,?)",
                        (rid, remote_etag, blob))
        self.set_sync(rid, sync_state="conflict")

    def conflict(self, rid: str) -> tuple[str, dict] | None:
        """(remote etag, remote payload) kept aside for `rid`, or None."""
        with self.lock:
            row = self.db.execute("SELECT remote_etag, blob FROM conflicts WHERE record_id=?",
                                  (rid,)).fetchone()
        if row is None:
            return None
        return row[0], json.loads(self.open_for(rid, row[1], "conflict"))

    def conflict_ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT record_id FROM conflicts")]

    def drop_conflict(self, rid: str) -> None:
        self.db.execute("DELETE FROM conflicts WHERE record_id=?", (rid,))
        self.set_sync(rid, sync_state="synced")

    # -- remote copies to remove -------------------------------------------------------------
    def queue_remote_removal(self, rid: str, reason: str, at: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO pending_remote(record_id, reason, at) VALUES (?,?,?)",
                        (rid, reason, at))

    def pending_removals(self) -> list[tuple[str, str, float]]:
        with self.lock:
            return self.db.execute("SELECT record_id, reason, at FROM pending_remote").fetchall()

    def drop_pending_removal(self, rid: str) -> None:
        self.db.execute("DELETE FROM pending_remote WHERE record_id=?", (rid,))

    # -- erasure receipts (no personal data) ------------------------------------------------
    def put_receipt(self, rid: str, doc: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO receipts(record_id, doc) VALUES (?,?)", (rid, json.dumps(doc)))

    def receipt(self, rid: str) -> dict | None:
        with self.lock:
            row = self.db.execute("SELECT doc FROM receipts WHERE record_id=?", (rid,)).fetchone()
        return json.loads(row[0]) if row else None

    def open_receipts(self) -> list[dict]:
        """Receipts whose bucket part or laptop confirmations may still change."""
        with self.lock:
            rows = self.db.execute("SELECT doc FROM receipts").fetchall()
        return [d for d in (json.loads(r[0]) for r in rows) if d["bucket"]["state"] != "never shared"]

    # -- the requests register ----------------------------------------------------------
    def add_request(self, req_id: str, rid: str | None, kind: str, received_at: float, due_at: float,
                    blob: bytes) -> None:
        self.db.execute("INSERT INTO requests(request_id, record_id, kind, received_at, due_at, blob) "
                        "VALUES (?,?,?,?,?,?)", (req_id, rid, kind, received_at, due_at, blob))

    def close_request(self, req_id: str, at: float, outcome: str) -> None:
        self.db.execute("UPDATE requests SET closed_at=?, outcome=? WHERE request_id=?", (at, outcome, req_id))

    def request_rows(self) -> list[tuple]:
        with self.lock:
            return self.db.execute("SELECT request_id, record_id, kind, received_at, due_at, closed_at, outcome, "
                                   "blob FROM requests ORDER BY received_at").fetchall()

    # -- audit rows (the chain itself is audit.py's) -------------------------------------------
    def audit_last(self) -> tuple[int, bytes] | None:
        return self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()

    def audit_insert(self, row: tuple) -> None:
        self.db.execute("INSERT INTO audit(seq, ts, installer, action, record_id, detail, prev_hash, hash, mac) "
                        "VALUES (?,?,?,?,?,?,?,?,?)", row)

    def audit_rows(self) -> list[tuple]:
        with self.lock:
            return self.db.execute("SELECT seq, ts, installer, action, record_id, detail, prev_hash, "
                                   "hash, mac FROM audit ORDER BY seq").fetchall()

    def audit_hash_at(self, seq: int) -> bytes | None:
        with self.lock:
            row = self.db.execute("SELECT hash FROM audit WHERE seq=?", (seq,)).fetchone()
        return row[0] if row else None

    def audit_entries(self, record_id: str | None = None, limit: int = 500,
                      action: str | None = None) -> list[dict]:
        q = "SELECT seq, ts, installer, action, record_id, detail FROM audit"
        where, args = [], []
        if record_id is not None:
            where.append("record_id=?")
            args.append(record_id)
        if action is not None:
            where.append("action=?")
            args.append(action)
        if where:
            q += " WHERE " + " AND ".join(where)
        q += " ORDER BY seq DESC LIMIT ?"
        with self.lock:
            rows = self.db.execute(q, (*args, limit)).fetchall()
        return [{"seq": s, "ts": t, "installer": i, "action": a, "record_id": r, "detail": json.loads(d)}
                for s, t, i, a, r, d in rows]

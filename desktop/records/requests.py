"""The register of customers' requests (access, correction, export, restriction, deletion).

Each request has a kind, the record it is about (its random id; kept after
the record is erased, so the register still shows the request was honoured),
the date it was received, its due date -- RESPONSE_DAYS later, the statutory
one-month clock -- and, once closed, the date and a one-word outcome. The
identity-check note ("passport seen by inst-042") is free text and may be
personal: it is sealed under a key derived from the store's master key, not
the record's, so it survives the record's erasure. `RequestsRegister` works
over the store's named methods and the audit trail. Thread: the caller's,
under the store's lock.
"""
from __future__ import annotations

import json
import math
import time
import uuid

from . import crypto
from .errors import RecordsError, ValidationError

KINDS = ("access", "correction", "export", "restriction", "deletion")
OUTCOMES = ("done", "refused", "withdrawn")
RESPONSE_DAYS = 30
DAY_S = 86400.0


def status(row: dict, now: float) -> str:
    if row["closed_at"] is not None:
        return "closed"
    return "overdue" if now > row["due_at"] else "open"


class RequestsRegister:
    def __init__(self, store, audit, installer: str, clock) -> None:
        self.store, self.audit, self.installer, self.clock = store, audit, installer, clock

    def _key(self) -> bytes:
        return crypto.derive(self.store.master, "records/requests")

    def open(self, kind: str, record_id: str | None, identity_check: str, received_at: float | None = None) -> str:
        if kind not in KINDS:
            raise ValidationError(f"Unknown request kind {kind!r}; expected one of {list(KINDS)}.")
        if not identity_check.strip():
            raise ValidationError("Say how the requester's identity was checked (e.g. 'ID card seen').")
        at = self.clock() if received_at is None else float(received_at)
        req_id = f"req_{uuid.uuid4().hex[:16]}"
        blob = crypto.seal(self._key(), json.dumps({"identity_check": identity_check}).encode(),
                           b"request|" + req_id.encode())
        with self.store.transaction():
            self.store.add_request(req_id, record_id, kind, at, at + RESPONSE_DAYS * DAY_S, blob)
            self.audit.append("request_open", self.installer, record_id, request=req_id, kind=kind)
        return req_id

    def close(self, req_id: str, outcome: str = "done") -> None:
        if outcome not in OUTCOMES:
            raise ValidationError(f"Unknown outcome {outcome!r}; expected one of {list(OUTCOMES)}.")
        rows = {r["request_id"]: r for r in self.list()}
        if req_id not in rows:
            raise RecordsError(f"No request {req_id} in the register.")
        if rows[req_id]["closed_at"] is not None:
            return
        with self.store.transaction():
            self.store.close_request(req_id, self.clock(), outcome)
            self.audit.append("request_close", self.installer, rows[req_id]["record_id"], request=req_id,
                              outcome=outcome)

    def list(self) -> list[dict]:
        now = self.clock()
        out = []
        for req_id, rid, kind, opened, due, closed, outcome, blob in self.store.request_rows():
            try:
                note = json.loads(crypto.open_sealed(self._key(), blob, b"request|" + req_id.encode()))
            except crypto.InvalidTag:
                note = {"identity_check": "(failed its integrity check)"}
            row = {"request_id": req_id, "record_id": rid, "kind": kind, "received_at": opened,
                   "due_at": due, "closed_at": closed, "outcome": outcome,
                   "identity_check": note.get("identity_check", "")}
            row["status"] = status(row, now)
            row["days_left"] = None if closed is not None else math.ceil((due - now) / DAY_S)
            out.append(row)
        return out

    def export_document(self) -> dict:
        def day(ts):
            return None if ts is None else time.strftime("%Y-%m-%d", time.gmtime(ts))
        return {"format": "pvdesk-requests/1", "response_days": RESPONSE_DAYS,
                "requests": [{**r, "received_at": day(r["received_at"]), "due_at": day(r["due_at"]),
                              "closed_at": day(r["closed_at"])} for r in self.list()]}

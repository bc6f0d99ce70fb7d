"""Erasure receipts: what was destroyed when a record was deleted, purged or withdrawn from sync.

A receipt is plain JSON ("pvdesk-erasure-receipt/1") without personal data:
the record's random id, the action, when and by whom, the controller, what
was destroyed on this laptop (the record row, its documents, its data key and
the shred secret that wrapped it), each version deleted from the bucket
(object key and version id), and each laptop that confirmed the deletion
tombstone. `limits` says, in words, what the erasure does not reach, so the
receipt never claims more than is true. It is kept in the store's receipts
table and updated as the bucket removal and the laptops' confirmations come
in; `receipt_html` gives the same content as simple HTML, which the Qt shell
turns into PDF (desktop/commission/report_pdf.render_html). Pure functions
plus the store's named methods; any thread.
"""
from __future__ import annotations

import html
import json
import time

RECEIPT_FORMAT = "pvdesk-erasure-receipt/1"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def limits(passphrase_mode: bool) -> list[str]:
    out = ["A copy of the records database made before the erasure keeps the encrypted record, but "
           "its key is destroyed: no key PVDesk holds can open it."]
    if passphrase_mode:
        out.append("This store is protected by a passphrase and keeps its keys in master.key beside the "
                   "database: a copy of the whole records folder made before the erasure, with the "
                   "passphrase, can still open the record. Delete such copies.")
    else:
        out.append("A backup of this laptop's keyring AND of the records database, both made before the "
                   "erasure, could together still open the record. Delete or age out such backups.")
    out.append("Diagnostic bundles already sent to support are not reached from here: the withdrawal "
               "lists them and drafts the deletion request.")
    return out


def new(record_id: str, action: str, at: float, installer: str, controller: dict, *,
        documents: int, shared: bool, passphrase_mode: bool) -> dict:
    return {
        "format": RECEIPT_FORMAT, "record_id": record_id, "action": action, "erased_at": _iso(at),
        "by": installer, "controller": controller,
        "local": {"record": "deleted", "documents_deleted": documents, "data_key": "destroyed",
                  "shred_secret": "overwritten in the key store"},
        "bucket": {"state": "pending" if shared else "never shared", "versions_deleted": [], "done_at": None},
        "laptops_confirmed": [],
        "limits": limits(passphrase_mode),
    }


def bucket_done(doc: dict, versions: list[dict], at: float) -> dict:
    doc["bucket"] = {"state": "deleted, every version", "versions_deleted": versions, "done_at": _iso(at)}
    return doc


def confirmed(doc: dict, laptops: dict[str, float]) -> dict:
    doc["laptops_confirmed"] = [{"laptop": k, "at": _iso(v)} for k, v in sorted(laptops.items())]
    return doc


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def receipt_html(doc: dict) -> str:
    e = html.escape
    ctl = doc.get("controller") or {}
    rows = "".join(f"<tr><td>{e(v['key'])}</td><td>{e(str(v['version']))}</td></tr>"
                   for v in doc["bucket"]["versions_deleted"]) or "<tr><td colspan=2>none</td></tr>"
    laptops = "".join(f"<li>{e(x['laptop'])} at {e(x['at'] or '')}</li>" for x in doc["laptops_confirmed"]) \
        or "<li>none yet</li>"
    limits_html = "".join(f"<li>{e(t)}</li>" for t in doc["limits"])
    return (f"<h2>Erasure receipt</h2><p>Record <b>{e(doc['record_id'])}</b> &mdash; {e(doc['action'])} on "
            f"{e(doc['erased_at'] or '')} by installer {e(doc['by'])}.</p>"
            f"<p>Controller: {e(ctl.get('organisation') or '(not set)')}; data-protection contact: "
            f"{e(ctl.get('dpo_contact') or '(not set)')}; policy {e(str(ctl.get('policy_version')))}.</p>"
            "<h3>On this laptop</h3><ul>"
            f"<li>record: {e(doc['local']['record'])}</li>"
            f"<li>documents deleted: {doc['local']['documents_deleted']}</li>"
            f"<li>data key: {e(doc['local']['data_key'])}; shred secret: {e(doc['local']['shred_secret'])}</li></ul>"
            f"<h3>In the sync bucket: {e(doc['bucket']['state'])}</h3>"
            f"<table border=1 cellpadding=3><tr><th>object</th><th>version</th></tr>{rows}</table>"
            f"<h3>Laptops that confirmed the deletion</h3><ul>{laptops}</ul>"
            f"<h3>What this erasure does not reach</h3><ul>{limits_html}</ul>")

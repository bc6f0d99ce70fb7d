"""The customer's rights as data: the portable export document.

`export_document` builds the machine-readable JSON a customer receives for
the right of access and of portability: every field held, the sites with
their documents (base64), the consent history, the record's restriction state
and the non-personal audit entries about the record. The format is versioned
("pvdesk-customer-export/1") so another tool can read it. Correction,
restriction and erasure are service methods; erasure goes through
RecordStore.destroy. Pure functions, any thread.
"""
from __future__ import annotations

import base64
import json
import time

from .consent import CURRENT_POLICY_VERSION, summary
from .model import Customer

EXPORT_FORMAT = "pvdesk-customer-export/1"


def export_document(customer: Customer, documents: dict[str, bytes], audit: list[dict],
                    policy_version: str = CURRENT_POLICY_VERSION) -> dict:
    data = customer.to_dict()
    for site in data["sites"]:
        for doc in site["documents"]:
            blob = documents.get(doc["doc_id"])
            doc["content_base64"] = base64.b64encode(blob).decode() if blob is not None else None
    return {
        "format": EXPORT_FORMAT,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "controller_note": "Data held by the installer company in PVDesk about this customer.",
        "customer": data,
        "consent_status": summary(customer.consents, policy_version),
        "processing_log": [
            {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e["ts"])),
             "action": e["action"], "by": e["installer"]} for e in audit],
    }


def export_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)

"""The site tree saved with the customer record and restored from it, no Qt.

Runs on the calling thread (the GUI thread in the window; a save reads the
site service's members, which only the I/O loop replaces whole, and the
records service takes its own lock). The tree (link -> units with model,
serial, state and alarms, plus what is needed to open each link again) is a
small JSON document, format ``pvdesk-site/1``, attached to a site of the
record through the public ``RecordsService.attach_document`` as kind
``other`` with the file name ``SITE_FILENAME``; the newest such document of
that site is the saved tree. The document is sealed like every other
document of the record; no installer code or key is in it (a link spec
carries none).
"""

from __future__ import annotations

import dataclasses
import json

from protocols.errors import PVDeskError
from protocols.links.factory import LinkSpec

from .connect import Target

FORMAT = "pvdesk-site/1"
SITE_FILENAME = "pvdesk-site.json"
_SPEC_FIELDS = {f.name for f in dataclasses.fields(LinkSpec)}


class SiteDocumentError(PVDeskError, ValueError):
    """A saved site document that cannot be read back."""


def site_document(site) -> dict:
    """The site tree of a ``SiteService`` as a plain dict: links, and under each its units."""
    links: dict[str, dict] = {}
    for member in sorted(site.members.values(), key=lambda m: (m.target.spec.label(), m.target.unit)):
        d = member.as_dict()
        link = links.setdefault(d["link"], {"label": d["link"], "spec": dataclasses.asdict(member.target.spec),
                                            "units": []})
        link["units"].append({"unit": d["unit"], "profile": d["profile"] or member.target.profile,
                              "model": d["title"], "serial": d["serial"], "state": d["state"],
                              "alarms": d["alarms"]})
    return {"format": FORMAT, "links": list(links.values())}


def parse_site_document(content: bytes) -> dict:
    try:
        doc = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SiteDocumentError(f"The saved site tree is not valid JSON ({exc}); save the site again.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("links"), list):
        raise SiteDocumentError(f"The saved site tree is not a {FORMAT} document; save the site again.")
    return doc


def targets_of(doc: dict) -> list[Target]:
    """The Targets to open again, one per saved unit, each with the profile it was read with."""
    out = []
    for link in doc["links"]:
        spec = LinkSpec(**{k: v for k, v in link.get("spec", {}).items() if k in _SPEC_FIELDS})
        for unit in link.get("units", []):
            out.append(Target(spec=spec, unit=int(unit["unit"]), profile=unit.get("profile") or "auto"))
    return out


def save_site(records, rid: str, site_id: str, site) -> str:
    """Attach the site tree to site ``site_id`` of record ``rid``; returns the document id."""
    content = json.dumps(site_document(site), indent=1, sort_keys=True).encode("utf-8")
    return records.attach_document(rid, site_id, "other", content, filename=SITE_FILENAME)


def load_site(records, rid: str, site_id: str) -> dict | None:
    """The newest saved site tree of that site of the record, or None when none was saved."""
    site = records.get_customer(rid).site(site_id)
    saved = [d for d in site.documents if d.get("filename") == SITE_FILENAME and d.get("kind") == "other"]
    if not saved:
        return None
    newest = saved[-1]   # documents are appended in the order they were attached
    return parse_site_document(records.get_document(rid, newest["doc_id"]))


def restore_site(site, doc: dict):
    """Open every saved unit again in ``site`` (Futures, one per unit, of their keys)."""
    return [site.add(t) for t in targets_of(doc)]


__all__ = [
    "FORMAT",
    "SITE_FILENAME",
    "SiteDocumentError",
    "load_site",
    "parse_site_document",
    "restore_site",
    "save_site",
    "site_document",
    "targets_of",
]

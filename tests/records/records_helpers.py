"""Helpers shared by the records tests (sample data, plaintext checks)."""
from __future__ import annotations

from pathlib import Path


def bucket_bytes(s3, bucket: str) -> bytes:
    """Every byte the bucket holds: keys, bodies and user metadata."""
    out = b""
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        resp = s3.get_object(Bucket=bucket, Key=obj["Key"])
        out += obj["Key"].encode() + resp["Body"].read() + repr(resp.get("Metadata")).encode()
    return out


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


SAMPLE = {
    "name": "Margarethe Quellenbach",
    "phone": "+49 30 98765432",
    "email": "m.quellenbach@example.org",
    "postal_address": "Lindenweg 17, 14195 Berlin",
    "notes": "Hund heisst Bruno; Zaehlerschrank im Keller",
    "sites": [{"name": "Wohnhaus Quellenbach", "latitude": 52.456789, "longitude": 13.287654,
               "installed_capacity_kwp": 9.86, "device_serials": ["HYB8K-2291-77A1", "BAT5-9981-X"]}],
}


def sample(i: int = 0) -> dict:
    import copy
    d = copy.deepcopy(SAMPLE)
    if i:
        d["name"] = f"Kundin Nummer{i:05d} Zebrafink"
        d["email"] = f"kundin{i}@example.net"
        d["phone"] = f"+49 170 {1000000 + i}"
        d["sites"][0]["name"] = f"Dach Nummer{i:05d}"
        d["sites"][0]["device_serials"] = [f"SNX-{i:06d}-Q"]
    return d


def plaintext_values(d: dict) -> list[bytes]:
    """The personal values of a sample record, as they would appear if leaked."""
    vals = [d["name"], d["phone"], d["email"], d["postal_address"], d["notes"]]
    for s in d["sites"]:
        vals += [s["name"], *s["device_serials"]]
    vals += [p for v in list(vals) for p in v.split() if len(p) >= 6]  # pieces too
    out = []
    for v in vals:
        out += [v.encode("utf-8"), v.encode("utf-16-le")]
    return out


def assert_no_plaintext(blob: bytes, d: dict, where: str) -> None:
    for v in plaintext_values(d):
        assert v not in blob, f"personal value found in {where}"


def files_bytes(*paths: Path) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.exists())

"""The sync bucket: an S3-compatible store that only ever sees ciphertext.

Layout under the configured prefix (default "pvdesk"):
  <prefix>/v1/keycheck              sealed constant: proves the laptop's sync key
  <prefix>/v1/keys/<record id>      the record's own bucket data key, wrapped under the
                                    organisation sync key
  <prefix>/v1/records/<record id>   the record, sealed with its own bucket data key
  <prefix>/v1/tombstones/<id>       sealed {reason, at}: "deleted", "withdrawn" or
                                    "restricted", so other laptops follow suit
  <prefix>/v1/confirmations/<id>/<laptop>  a laptop applied the deletion tombstone
  <prefix>/v1/checkpoints/<store>   the laptop's audit head {count, hash}, HMAC'd
Erasure reaches the bucket's history: removing a record deletes *every
version* of its record and key objects (list_object_versions, then
delete_object with each VersionId, delete markers included), so no version
is left that the organisation key could open. A bucket with versioning on is
detected; one whose versions cannot be deleted (Object Lock, or no
s3:DeleteObjectVersion right) is refused before anything is uploaded
(VersionsKept).
Object names hold only random ids; no user metadata is set. Writes are
conditional (IfNoneMatch="*" to create, IfMatch=<etag> to replace), so an edit
made meanwhile on another laptop fails with 412 and becomes a conflict instead
of being overwritten.

Transport: https with certificate verification (an optional CA bundle for a
private CA); plain http only to a loopback host, anything else raises
InsecureEndpoint. Short timeouts and a single attempt, so "offline" is
noticed quickly. Thread: the sync worker (never the GUI thread).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import crypto
from .errors import (
    CertificateNotTrusted,
    InsecureEndpoint,
    RecordsError,
    RemoteCorrupt,
    SyncOffline,
    ValidationError,
    VersionsKept,
    WrongSyncKey,
)

log = logging.getLogger(__name__)
_KEYCHECK_PLAINTEXT = b"pvdesk-sync-key-check/1"
_PROBE = "/probe/version-delete"


class PreconditionFailed(RecordsError):
    """The object changed (or appeared) since we last saw it."""

    def __init__(self, message: str = "the remote copy changed since it was last read; sync again") -> None:
        super().__init__(message)


@dataclass
class SyncTarget:
    endpoint_url: str
    bucket: str
    region: str = "us-east-1"
    prefix: str = "pvdesk"
    ca_bundle: str | None = None


def check_endpoint(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        if host == "localhost":
            return
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("The sync endpoint must be a URL such as https://s3.example.com.")
    raise InsecureEndpoint(url)


class Bucket:
    def __init__(self, target: SyncTarget, sync_key: bytes, access_key_id: str | None = None,
                 secret_access_key: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        check_endpoint(target.endpoint_url)
        self.t = target
        self._key = crypto.derive(sync_key, "sync/objects")
        verify = target.ca_bundle or True
        self.s3 = boto3.session.Session().client(
            "s3", endpoint_url=target.endpoint_url, region_name=target.region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            verify=verify, config=Config(connect_timeout=3, read_timeout=15,
                                         retries={"max_attempts": 1, "mode": "standard"},
                                         s3={"addressing_style": "path"}))
        self.base = f"{target.prefix.strip('/')}/v1"
        self.versioned: bool | None = None  # learnt by check_versions()
        self._dks: dict[str, bytes] = {}

    # -- error mapping ---------------------------------------------------------
    def _call(self, fn, **kw):
        return self._call_raw(fn, **kw)

    def _call_raw(self, fn, **kw):
        from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError, SSLError
        from botocore.exceptions import ConnectionError as BotoConnErr
        try:
            return fn(Bucket=self.t.bucket, **kw)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PreconditionFailed() from None
            if code in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(kw.get("Key")) from None
            raise SyncOffline(f"The sync bucket refused the request ({code or status}); "
                              "check the bucket name and credentials.") from None
        except SSLError:
            raise CertificateNotTrusted(self.t.endpoint_url) from None
        except (EndpointConnectionError, BotoConnErr, ReadTimeoutError) as exc:
            raise SyncOffline(f"The sync endpoint cannot be reached ({type(exc).__name__}); "
                              "changes stay queued and are sent at the next sync.") from None

    def _seal(self, name: str, data: bytes) -> bytes:
        return crypto.seal(self._key, data, name.encode())

    def _open(self, name: str, blob: bytes) -> bytes:
        try:
            return crypto.open_sealed(self._key, blob, name.encode())
        except crypto.InvalidTag:
            if name.endswith("/keycheck"):
                raise WrongSyncKey() from None
            raise RemoteCorrupt(name.rsplit("/", 2)[-2] + "/" + name.rsplit("/", 1)[-1]) from None

    # -- objects ---------------------------------------------------------------
    def check_key(self) -> None:
        name = f"{self.base}/keycheck"
        try:
            body = self._call(self.s3.get_object, Key=name)["Body"].read()
        except KeyError:
            try:
                self._call(self.s3.put_object, Key=name, Body=self._seal(name, _KEYCHECK_PLAINTEXT),
                           IfNoneMatch="*")
            except PreconditionFailed:
                return self.check_key()
            return
        if self._open(name, body) != _KEYCHECK_PLAINTEXT:
            raise WrongSyncKey()

    def _list(self, folder: str) -> dict[str, str]:
        out, token = {}, None
        prefix = f"{self.base}/{folder}/"
        while True:
            kw = {"Prefix": prefix, **({"ContinuationToken": token} if token else {})}
            page = self._call(self.s3.list_objects_v2, **kw)
            for obj in page.get("Contents", []):
                out[obj["Key"][len(prefix):]] = obj["ETag"]
            if not page.get("IsTruncated"):
                return out
            token = page["NextContinuationToken"]

    def _list_all(self) -> list[str]:
        """Every current object key under this prefix."""
        out, token = [], None
        while True:
            kw = {"Prefix": self.base + "/", **({"ContinuationToken": token} if token else {})}
            page = self._call(self.s3.list_objects_v2, **kw)
            out += [obj["Key"] for obj in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return out
            token = page["NextContinuationToken"]

    def list_records(self) -> dict[str, str]:
        return self._list("records")

    def list_tombstones(self) -> dict[str, str]:
        return self._list("tombstones")

    # -- per-record bucket data keys --------------------------------------------------
    def record_key(self, rid: str, *, create: bool) -> bytes:
        """The record's bucket data key (keys/<rid>, wrapped under the organisation key)."""
        dk = self._dks.get(rid)
        if dk is not None:
            return dk
        name = f"{self.base}/keys/{rid}"
        try:
            dk = self._open(name, self._call(self.s3.get_object, Key=name)["Body"].read())
        except KeyError:
            if not create:
                raise
            dk = crypto.new_key()
            try:
                self._call(self.s3.put_object, Key=name, Body=self._seal(name, dk), IfNoneMatch="*")
            except PreconditionFailed:  # another laptop made it meanwhile: use theirs
                return self.record_key(rid, create=False)
        self._dks[rid] = dk
        return dk

    def put_record(self, rid: str, payload: dict, *, if_match: str | None) -> str:
        name = f"{self.base}/records/{rid}"
        dk = self.record_key(rid, create=True)
        body = crypto.seal(dk, json.dumps(payload, separators=(",", ":")).encode(), name.encode())
        cond = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"}
        return self._call(self.s3.put_object, Key=name, Body=body, **cond)["ETag"]

    def get_record(self, rid: str) -> tuple[dict, str]:
        name = f"{self.base}/records/{rid}"
        resp = self._call(self.s3.get_object, Key=name)
        body = resp["Body"].read()
        try:
            dk = self.record_key(rid, create=False)
            data = crypto.open_sealed(dk, body, name.encode())
        except (KeyError, crypto.InvalidTag):
            raise RemoteCorrupt(f"records/{rid}") from None
        return json.loads(data), resp["ETag"]

    def delete_record(self, rid: str) -> list[dict]:
        """Delete every version of the record and of its key. Returns what was destroyed."""
        self._dks.pop(rid, None)
        done = []
        for folder in ("records", "keys"):
            done += self.purge_versions(f"{self.base}/{folder}/{rid}")
        return done

    # -- versions ----------------------------------------------------------------------
    def check_versions(self) -> bool:
        """Is versioning on? If so, prove old versions can be deleted here, else VersionsKept."""
        if self.versioned is not None:
            return self.versioned
        status = self._call(self.s3.get_bucket_versioning).get("Status")
        versioned = status in ("Enabled", "Suspended")
        if versioned:
            try:
                lock = self._call_raw(self.s3.get_object_lock_configuration)
                if lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled":
                    raise VersionsKept(self.t.bucket, "Object Lock keeps every version")
            except (SyncOffline, KeyError):
                pass  # no lock configuration: fine
            probe = f"{self.base}{_PROBE}"
            self._call(self.s3.put_object, Key=probe, Body=b"probe")
            try:
                self.purge_versions(probe)
            except SyncOffline:
                raise VersionsKept(self.t.bucket, "this key may not delete object versions "
                                   "(s3:DeleteObjectVersion)") from None
        self.versioned = versioned
        return versioned

    def purge_versions(self, key: str) -> list[dict]:
        """Delete the object and, on a versioned bucket, every version and delete marker of it."""
        versioned = key.endswith(_PROBE) or self.check_versions()
        if not versioned:
            try:
                self._call(self.s3.delete_object, Key=key)
            except KeyError:
                pass
            return [{"key": key, "version": None}]
        done, kw = [], {"Prefix": key}
        while True:
            page = self._call(self.s3.list_object_versions, **kw)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if v["Key"] != key:
                    continue
                self._call(self.s3.delete_object, Key=key, VersionId=v["VersionId"])
                done.append({"key": key, "version": v["VersionId"]})
            if not page.get("IsTruncated"):
                return done
            kw = {"Prefix": key, "KeyMarker": page["NextKeyMarker"],
                  "VersionIdMarker": page["NextVersionIdMarker"]}

    # -- audit checkpoints and tombstone confirmations --------------------------------------------
    def put_json(self, folder: str, name: str, doc: dict) -> None:
        key = f"{self.base}/{folder}/{name}"
        if self.check_versions():
            self.purge_versions(key)  # only the newest checkpoint or confirmation is kept
        self._call(self.s3.put_object, Key=key, Body=self._seal(key, json.dumps(doc).encode()))

    def get_json(self, folder: str, name: str) -> dict | None:
        key = f"{self.base}/{folder}/{name}"
        try:
            return json.loads(self._open(key, self._call(self.s3.get_object, Key=key)["Body"].read()))
        except KeyError:
            return None

    def list_names(self, folder: str) -> list[str]:
        return sorted(self._list(folder))

    def put_tombstone(self, rid: str, reason: str, at: float | None = None) -> None:
        name = f"{self.base}/tombstones/{rid}"
        data = json.dumps({"reason": reason, "at": time.time() if at is None else at}).encode()
        self._call(self.s3.put_object, Key=name, Body=self._seal(name, data))

    def get_tombstone(self, rid: str) -> dict:
        name = f"{self.base}/tombstones/{rid}"
        return json.loads(self._open(name, self._call(self.s3.get_object, Key=name)["Body"].read()))

    def delete_tombstone(self, rid: str) -> None:
        self._call(self.s3.delete_object, Key=f"{self.base}/tombstones/{rid}")

"""The sync bucket: an S3-compatible store that only ever sees ciphertext.

Layout under the configured prefix (default "pvdesk"):
  <prefix>/v1/keycheck              sealed constant: proves the laptop's sync key
  <prefix>/v1/records/<record id>   a record, sealed with the organisation sync key
  <prefix>/v1/tombstones/<id>       sealed {reason, at}: "deleted", "withdrawn" or
                                    "restricted", so other laptops follow suit
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
from .errors import (CertificateNotTrusted, InsecureEndpoint, RecordsError, RemoteCorrupt, SyncOffline,
                     ValidationError, WrongSyncKey)

log = logging.getLogger(__name__)
_KEYCHECK_PLAINTEXT = b"pvdesk-sync-key-check/1"


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

    # -- error mapping ---------------------------------------------------------
    def _call(self, fn, **kw):
        from botocore.exceptions import (ClientError, ConnectionError as BotoConnErr,
                                         EndpointConnectionError, ReadTimeoutError, SSLError)
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

    def list_records(self) -> dict[str, str]:
        return self._list("records")

    def list_tombstones(self) -> dict[str, str]:
        return self._list("tombstones")

    def put_record(self, rid: str, payload: dict, *, if_match: str | None) -> str:
        name = f"{self.base}/records/{rid}"
        body = self._seal(name, json.dumps(payload, separators=(",", ":")).encode())
        cond = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"}
        return self._call(self.s3.put_object, Key=name, Body=body, **cond)["ETag"]

    def get_record(self, rid: str) -> tuple[dict, str]:
        name = f"{self.base}/records/{rid}"
        resp = self._call(self.s3.get_object, Key=name)
        return json.loads(self._open(name, resp["Body"].read())), resp["ETag"]

    def delete_record(self, rid: str) -> None:
        self._call(self.s3.delete_object, Key=f"{self.base}/records/{rid}")

    def put_tombstone(self, rid: str, reason: str, at: float | None = None) -> None:
        name = f"{self.base}/tombstones/{rid}"
        data = json.dumps({"reason": reason, "at": time.time() if at is None else at}).encode()
        self._call(self.s3.put_object, Key=name, Body=self._seal(name, data))

    def get_tombstone(self, rid: str) -> dict:
        name = f"{self.base}/tombstones/{rid}"
        return json.loads(self._open(name, self._call(self.s3.get_object, Key=name)["Body"].read()))

    def delete_tombstone(self, rid: str) -> None:
        self._call(self.s3.delete_object, Key=f"{self.base}/tombstones/{rid}")

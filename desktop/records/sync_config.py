"""Sync set-up: the bucket target, the organisation sync key, the S3 credentials, and status words.

`SyncSetup` keeps the target (endpoint, bucket, region, prefix, optional CA
bundle, access key id -- nothing personal) in the store's meta table and the
secrets (S3 secret key, organisation sync key) in the keyring or passphrase
key file. `bucket()` builds the boto3-backed Bucket only when a target, a
sync key and credentials are all there: without credentials it refuses
before boto3 is imported, so its credential chain never asks the cloud
metadata address. `status_of` turns a record's flags into the word the list
shows. Thread: `bucket()` may be called from the sync worker; the rest from any.
"""
from __future__ import annotations

import logging
import os

from . import crypto, synckey
from .errors import RecordsError, SyncKeyMissing, SyncNotConfigured, ValidationError

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "synced": "Synced", "pending": "Waiting to sync", "conflict": "Conflict",
    "local": "On this laptop only", "renew": "Consent renewal needed",
    "restricted": "Restricted (not synced)",
}
_TARGET_KEYS = ("endpoint_url", "bucket", "region", "prefix", "ca_bundle", "access_key_id")


def status_of(restricted: bool, cloud_consent: str, row) -> str:
    dirty, etag, state = row
    if state == "conflict":
        return "conflict"
    if restricted:
        return "restricted"
    if cloud_consent == "renew":
        return "renew"
    if cloud_consent != "granted":
        return "local"
    return "pending" if dirty or etag is None else "synced"


def _env_credentials() -> tuple[str | None, str | None]:
    """Credentials configured for this process the way boto3 reads them without a network call."""
    return os.environ.get("AWS_ACCESS_KEY_ID") or None, os.environ.get("AWS_SECRET_ACCESS_KEY") or None


class SyncSetup:
    def __init__(self, store, secrets) -> None:
        self.store = store
        self.secrets = secrets
        self._bucket_cache = None

    def _name(self, what: str) -> str:
        return f"{self.store.store_id}/{what}"

    def configure(self, endpoint_url: str, bucket: str, *, region: str = "us-east-1",
                  prefix: str = "pvdesk", ca_bundle: str | None = None,
                  access_key_id: str | None = None, secret_access_key: str | None = None) -> None:
        from .remote import check_endpoint
        check_endpoint(endpoint_url)
        if not bucket or len(bucket) < 3:
            raise ValidationError("The bucket name must have at least 3 characters.")
        values = (endpoint_url, bucket, region, prefix, ca_bundle or "", access_key_id or "")
        self.store.set_settings({f"sync_{k}": v for k, v in zip(_TARGET_KEYS, values)})
        if secret_access_key:
            self.secrets.put(self._name("s3-secret"), secret_access_key.encode())

    def target(self):
        from .remote import SyncTarget
        url = self.store.meta("sync_endpoint_url")
        if not url:
            return None
        return SyncTarget(url, self.store.meta("sync_bucket"), self.store.meta("sync_region"),
                          self.store.meta("sync_prefix"), self.store.meta("sync_ca_bundle") or None)

    def key(self) -> bytes | None:
        return self.secrets.get(self._name("sync-key"))

    def fingerprint(self) -> str | None:
        key = self.key()
        return synckey.fingerprint(key) if key else None

    def ready(self) -> bool:
        """A target and a sync key are there (credentials are checked when connecting)."""
        return self.target() is not None and self.key() is not None

    def create_key(self) -> str:
        """First laptop: make the organisation key; returns its recovery code (show it once)."""
        if self.key():
            raise RecordsError("This laptop already holds an organisation sync key; "
                               "export it instead of creating a second one.")
        key = crypto.new_key()
        self.secrets.put(self._name("sync-key"), key)
        return synckey.to_recovery_code(key)

    def export_key_file(self) -> str:
        key = self.key()
        if key is None:
            raise SyncKeyMissing()
        return synckey.to_key_file(key)

    def import_key(self, key_file_or_code: str) -> str:
        """Other laptops: import the key file's text or the recovery code. Returns the fingerprint."""
        key = synckey.parse(key_file_or_code)
        self.secrets.put(self._name("sync-key"), key)
        return synckey.fingerprint(key)

    def replace_key(self, key: bytes) -> None:
        self.secrets.put(self._name("sync-key"), key)
        self._bucket_cache = None

    def credentials(self) -> tuple[str, str]:
        """(access key id, secret key) from the settings and keyring, else the environment.

        Raises SyncNotConfigured when neither holds both: boto3 would then walk its credential
        chain, which ends in a request to the cloud metadata address."""
        secret = self.secrets.get(self._name("s3-secret"))
        access = self.store.meta("sync_access_key_id") or None
        env_access, env_secret = _env_credentials()
        access, secret_text = access or env_access, (secret.decode() if secret else None) or env_secret
        if not access or not secret_text:
            raise SyncNotConfigured(
                "No credentials for the sync bucket are configured: give the access key id and "
                "secret key (`pvdesk sync --access-key-id ID --secret-key-file FILE`, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); nothing was sent.")
        return access, secret_text

    def bucket(self):
        target = self.target()
        if target is None:
            raise SyncNotConfigured("Cloud sync is not set up: give the endpoint and bucket "
                                    "(`pvdesk sync --endpoint URL --bucket NAME`).")
        key = self.key()
        if key is None:
            raise SyncKeyMissing()
        access, secret = self.credentials()
        ident = (target, crypto.sha256(key + secret.encode()), access)
        cached = self._bucket_cache
        if cached is None or cached[0] != ident:  # a boto3 client costs ~0.2 s to build: reuse it
            from .remote import Bucket
            cached = (ident, Bucket(target, key, access, secret))
            self._bucket_cache = cached
        return cached[1]

"""Error classes of the customer records package.

Every message names what went wrong and what to do, and identifies records by
their random id only: no exception raised here ever carries personal data, so
it is safe to log or show. Pure data, no threads.
"""
from __future__ import annotations

from protocols.errors import PVDeskError


class RecordsError(PVDeskError):
    """Base class: a records operation could not be done; nothing was lost (under the one PVDeskError root)."""


class KeyringUnavailable(RecordsError):
    """No usable operating-system keyring to hold the master key."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "No usable keyring to hold the customer records key"
            + (f" ({detail})" if detail else "")
            + ". Install or unlock one (GNOME Keyring or KWallet on Linux, "
            "Keychain on macOS, Windows Credential Manager on Windows) and try "
            "again, or open the records in passphrase mode (the unlock dialog, or "
            "`pvdesk records ... --passphrase-file FILE` / PVDESK_RECORDS_PASSPHRASE). "
            "Records are never stored unencrypted."
        )
        super().__init__(msg)


class StoreBusy(RecordsError):
    def __init__(self) -> None:
        super().__init__(
            "The customer records are open in another PVDesk window or command. Close it and "
            "try again; nothing was changed.")


class MasterKeyMissing(RecordsError):
    """The store exists but its master key is not in the keyring."""


class KeyDamaged(RecordsError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what[0].upper() + what[1:]} of the customer records is damaged and cannot be read; nothing "
            "was changed. Restore it from its backup (the key file, or the keyring's backup); "
            "without it the records cannot be opened.")


class StoreMissing(RecordsError):
    """A key for the records exists, but the database beside it is missing or empty."""


class WrongPassphrase(RecordsError):
    def __init__(self) -> None:
        super().__init__(
            "The passphrase does not unlock the customer records store. Check "
            "the passphrase (it is case-sensitive) and try again; nothing was changed."
        )


class PassphraseRequired(RecordsError):
    def __init__(self) -> None:
        super().__init__(
            "This customer records store is protected by a passphrase: open it "
            "with the passphrase (--passphrase or the unlock dialog)."
        )


class RecordNotFound(RecordsError):
    def __init__(self, record_id: str) -> None:
        super().__init__(f"No customer record with id {record_id}.")
        self.record_id = record_id


class RecordCorrupt(RecordsError):
    def __init__(self, record_id: str, what: str = "record") -> None:
        super().__init__(
            f"The stored {what} of customer record {record_id} failed its integrity "
            "check (the ciphertext was altered or damaged). It was left untouched; "
            "restore it from a backup or from the organisation's sync bucket."
        )
        self.record_id = record_id


class RecordRestricted(RecordsError):
    def __init__(self, record_id: str) -> None:
        super().__init__(
            f"Customer record {record_id} is restricted: it is kept but not "
            "processed or synced. Lift the restriction first if the customer asks for it."
        )
        self.record_id = record_id


class ValidationError(RecordsError):
    """A field value is missing or malformed (message names the field, not its value)."""


class ConsentRequired(RecordsError):
    pass


class AuditTampered(RecordsError):
    def __init__(self, seq: int, why: str) -> None:
        super().__init__(
            f"The audit trail fails verification at entry {seq}: {why}. The trail "
            "was altered outside PVDesk; keep this file for investigation and "
            "report it to your data-protection contact."
        )
        self.seq = seq


class AuditBroken(RecordsError):
    def __init__(self, cause: "AuditTampered") -> None:
        super().__init__(
            f"Changes to the customer records are stopped: {cause} Acknowledge the break (the "
            "Customers page, or `pvdesk records audit acknowledge`) to go on; nothing was changed.")
        self.cause = cause


class SyncNotConfigured(RecordsError):
    pass


class InsecureEndpoint(RecordsError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"Refusing sync endpoint {url!r}: plain HTTP is allowed only to this "
            "computer (127.0.0.1, ::1, localhost). Use an https:// endpoint."
        )


class CertificateNotTrusted(RecordsError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"The TLS certificate of the sync endpoint {url} could not be verified, so nothing "
            "was sent. Check the address; for a company CA, give its certificate bundle "
            "(--ca-bundle). Certificate checks are never switched off.")


class SyncKeyMissing(RecordsError):
    def __init__(self) -> None:
        super().__init__(
            "No organisation sync key on this laptop. Create one (first laptop: "
            "`pvdesk sync --create-key`) or import the key file or recovery code "
            "from the laptop that created it (`pvdesk sync --import-key`)."
        )


class WrongSyncKey(RecordsError):
    def __init__(self) -> None:
        super().__init__(
            "The organisation sync key on this laptop does not match the one the "
            "bucket was set up with. Import the key file or recovery code from the "
            "laptop that created the sync key; nothing was uploaded or changed."
        )


class RemoteCorrupt(RecordsError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"The bucket object {name} failed its integrity check (altered in the bucket, or "
            "sealed with another organisation key). It was not applied; the local record is unchanged.")
        self.name = name


class VersionsKept(RecordsError):
    def __init__(self, bucket: str, why: str) -> None:
        super().__init__(
            f"Refusing to sync with bucket {bucket}: it keeps old versions of objects and {why}, so a "
            "deleted or withdrawn customer's data would stay in its history. Turn versioning off, "
            "or allow this key to delete object versions; nothing was uploaded.")


class BadRecoveryCode(RecordsError):
    def __init__(self, why: str) -> None:
        super().__init__(f"The recovery code or key file is not valid: {why}. Check it and try again.")


class SyncOffline(RecordsError):
    pass

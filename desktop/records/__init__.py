"""Customer records: encrypted on the laptop, the customer's rights, consent-gated sync.

No Qt here: the GUI (desktop/ui/records/customers_page.py) and the CLI
(desktop/cli/records.py) both drive `RecordsService`. See docs/records.md.
"""
from .errors import KeyringUnavailable, RecordsError
from .masking import mask_customer
from .service import CustomerSummary, RecordsService, default_data_dir

__all__ = ["CustomerSummary", "KeyringUnavailable", "RecordsError", "RecordsService", "default_data_dir",
           "mask_customer"]

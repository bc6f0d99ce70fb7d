"""The records store owns its SQL: only store.py, store_tables.py and store_integrity.py talk to records.db.

Issue 18: 23 statements once lived in sync, sync_config, audit, service and rights, so a schema
change had to be found in six files. The diagnostics session log (desktop/diag/sessionlog.py) is a
database of its own and owns its SQL the same way.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWNERS = {"desktop/records/store.py", "desktop/records/store_tables.py", "desktop/records/store_integrity.py",
          "desktop/diag/sessionlog.py"}
SQL_CALL = re.compile(r"\.execute(many|script)?\(\s*f?[\"'](SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|DROP|ALTER"
                      r"|REPLACE|BEGIN|WITH)|^\s*import sqlite3|sqlite3\.connect\(", re.IGNORECASE | re.MULTILINE)


def test_only_the_stores_run_sql():
    talking = set()
    for package in ("desktop", "protocols", "widgets"):
        for path in (ROOT / package).rglob("*.py"):
            if SQL_CALL.search(path.read_text(encoding="utf-8")):
                talking.add(path.relative_to(ROOT).as_posix())
    assert talking - OWNERS == set(), f"SQL outside the stores: {sorted(talking - OWNERS)}"
    assert {"desktop/records/store.py", "desktop/diag/sessionlog.py"} <= talking  # the scan sees them

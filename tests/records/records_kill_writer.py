"""Subprocess for test_records_kill: writes to the store in a tight loop until it is killed.

Usage: kill_writer.py DATA_DIR keyring|passphrase
Prints one line per committed write so the parent can kill it mid-stream.
"""
import sys

from desktop.records.service import RecordsService

data_dir, mode = sys.argv[1], sys.argv[2]
kw = {"passphrase": "kill-test-passphrase", "scrypt_n": 2**12} if mode == "passphrase" else {}
svc = RecordsService(data_dir, "inst-kill", **kw)
i = 0
ids = []
while True:
    i += 1
    ids.append(svc.add_customer({"name": f"Writer Person{i:05d}", "notes": "x" * (i % 500),
                                 "sites": [{"name": f"Roof {i}", "device_serials": [f"SN-{i}"]}]}))
    svc.update_customer(ids[-1], {"phone": f"+49 170 {1000000 + i}"})
    if mode == "passphrase" and i % 3 == 0:
        svc.delete(ids.pop(0))
    print(i, flush=True)

"""Firmware packages and upgrades: format, signing keys, pre-write checks, the upgrade itself.

Runs on the device I/O thread's asyncio loop (upgrade, backup, batch) or on any
thread (package, keys, check). No Qt here. See docs/firmware-protocol.md.
"""

"""Diagnostics: session recording, the redacted support bundle, review and replay.

No Qt in this package. ``recorder`` listens to the device service (its
listener runs on the I/O thread and hands everything to a writer thread);
``bundle`` exports, ``open`` opens bundles safely, ``summary`` lists what
stands out, ``replay`` serves a bundle's register image from the simulated
inverter. See docs/diagnostics.md.
"""

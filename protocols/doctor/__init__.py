"""The connection doctor: finds the inverter on a host or a serial port, and says why not.

Runs on the caller's asyncio loop (serial I/O in worker threads); no Qt. It
only reads (function 3/4), stops within its time budget, reports progress
(fraction done, seconds left) through a callback, and returns a Report:
every attempt (for the app log and diagnostics bundles), the findings with
the exact settings to connect, and diagnoses in plain words with the next
step.
"""

from .host_doctor import doctor_host
from .line_doctor import doctor_serial
from .plan import DoctorOptions, LineSettings
from .report import Attempt, Diagnosis, Finding, Report

__all__ = ["doctor_host", "doctor_serial", "DoctorOptions", "LineSettings", "Attempt", "Diagnosis",
           "Finding", "Report"]

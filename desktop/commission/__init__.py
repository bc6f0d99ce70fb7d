"""Commissioning: parameter writes, the guided set-up, the CT check, settings files, the report.

The logic modules here import no Qt (``report`` imports QtGui lazily, inside
its render function). Device work runs as coroutines on the device I/O
thread's loop (the GUI submits them through the Bridge, the CLI runs them in
its own loop); files are read and written on whichever thread calls.
"""

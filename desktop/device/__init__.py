"""The device service (owns the I/O thread and the one live link) and how a target is opened. No Qt."""

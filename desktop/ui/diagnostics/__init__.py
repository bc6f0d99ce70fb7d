"""Diagnostics in the window: the recording and export page, and the review of a bundle. GUI thread."""

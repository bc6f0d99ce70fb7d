"""The firmware page: versions, package checks and the upgrade. GUI thread."""

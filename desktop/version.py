"""The one place that holds PVDesk's version (pyproject, --version and the installers read it)."""

__version__ = "0.1.0"

"""PVDesk package."""

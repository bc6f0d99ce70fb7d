"""Qt pages of the desktop application (customers, consent, record form)."""

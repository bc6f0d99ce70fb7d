"""Commissioning in the window: the parameters page, the guided wizard, the report and its PDF. GUI thread."""

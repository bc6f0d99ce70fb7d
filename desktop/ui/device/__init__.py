"""The live device pages: dashboard, device identity and firmware, faults, raw registers. GUI thread."""

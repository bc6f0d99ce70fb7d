"""The main window, the bridge to the device service, the status bar and lazily built pages. GUI thread."""

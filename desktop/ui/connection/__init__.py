"""The connection panel: link forms (serial, TCP, BLE, Wi-Fi logger, demo), ports, recent connections. GUI thread."""

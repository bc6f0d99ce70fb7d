"""Cross-cutting, Qt-free pieces of the desktop layer: paths, errors, safe file output. Any thread."""

"""Render the app icon (resources/icons/pvdesk.svg) into the formats the installers need.

Runs at build time, on the build machine's main thread, offscreen (no display
needed): ``python installer/make_icons.py OUT_DIR`` writes pvdesk.png
(256 px, Linux desktop entry), pvdesk.ico (Windows) and pvdesk.icns (macOS).
The SVG stays the one source of the icon.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "pvdesk.svg"


def render(out_dir: Path, size_px: int = 256) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # kept alive while we paint: image plugins need it
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {SOURCE}")
    image = QImage(size_px, size_px, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in (("pvdesk.png", "PNG"), ("pvdesk.ico", "ICO"), ("pvdesk.icns", "ICNS")):
        path = out_dir / name
        if not image.save(str(path), fmt):
            raise SystemExit(f"make_icons: Qt could not write {path} ({fmt})")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"
    for p in render(target):
        print(f"make_icons: {p}")

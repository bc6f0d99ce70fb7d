"""Widget tests run Qt offscreen unless a platform is chosen explicitly."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_ROOT = str(Path(__file__).resolve().parents[2])
_HERE = str(Path(__file__).resolve().parent)  # demo_dashboard, shared by tests and the screenshot
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

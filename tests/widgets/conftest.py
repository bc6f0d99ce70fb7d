"""Widget tests run Qt offscreen unless a platform is chosen explicitly."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

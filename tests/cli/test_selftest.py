"""`pvdesk --self-test` and `--version` from a real process without a display."""

import os
import subprocess
import sys


def test_self_test_passes_without_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "desktop.cli", "--self-test"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert sum(line.strip().startswith("PASS") for line in lines) == 3
    assert lines[-1] == "self-test passed"


def test_version():
    from desktop.version import __version__
    out = subprocess.run([sys.executable, "-m", "desktop.cli", "--version"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == f"PVDesk {__version__}"

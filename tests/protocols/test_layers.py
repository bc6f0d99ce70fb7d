"""protocols/ never imports Qt: every module imports in a process where Qt cannot be imported."""

import os
import pkgutil
import subprocess
import sys

import protocols

SCRIPT = r"""
import importlib, importlib.abc, pkgutil, sys
class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph'):
            raise ImportError('Qt is not importable in this test: ' + name)
        return None
sys.meta_path.insert(0, NoQt())
import protocols
names = [m.name for m in pkgutil.walk_packages(protocols.__path__, 'protocols.')]
for n in names:
    importlib.import_module(n)
bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]
assert not bad, bad
print(len(names))
"""


def test_protocols_import_without_qt():
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    expected = len(list(pkgutil.walk_packages(protocols.__path__, "protocols.")))
    assert int(out.stdout.strip()) == expected >= 15

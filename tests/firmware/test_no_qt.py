"""protocols/firmware and the simulated bootloader run where Qt cannot be imported."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(30)

CODE = """
import importlib, sys
class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError('Qt is not importable here')
sys.meta_path.insert(0, NoQt())
for m in ('package', 'keys', 'trust', 'version', 'check', 'client', 'registers', 'backup', 'precheck', 'testmode',
          'upgrade', 'batch'):
    importlib.import_module('protocols.firmware.' + m)
importlib.import_module('protocols.sim.bootloader')
print('ok', sorted(k for k in sys.modules if k.startswith('PySide6')))
"""


def test_firmware_protocol_modules_do_not_import_qt():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=25)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok []"

"""The frozen app's entry script: what PyInstaller runs as ``pvdesk`` (or ``PVDesk.exe``, ``PVDesk.app``).

Runs on the main thread of the bundled interpreter. It only hands over to
``desktop.cli.main`` so the bundle behaves exactly like the ``pvdesk``
console script; nothing here writes files or changes the environment.
"""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())

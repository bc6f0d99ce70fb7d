"""The `pvdesk` command line: one module per command group; ``main`` is the console script's entry.

Main thread. Importing this package loads no Qt and no device code.
"""

from desktop.cli.main import main

__all__ = ["main"]

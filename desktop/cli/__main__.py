"""``python -m desktop.cli``: the same as the ``pvdesk`` command. Main thread."""

import sys

from desktop.cli.main import main

sys.exit(main())

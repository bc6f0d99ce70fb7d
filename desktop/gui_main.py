"""Start the GUI: the entry ``pvdesk`` (no subcommand) calls; the work is in desktop.app.

Runs on the main thread. Kept tiny so that ``desktop.cli`` can import it
without loading Qt.
"""


def run_gui(demo: bool = False) -> int:
    from .app import run  # noqa: PLC0415
    return run(demo=demo)

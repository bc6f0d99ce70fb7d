"""Start the GUI (placeholder until the main window lands)."""


def run_gui(demo: bool = False) -> int:
    from .app import run  # noqa: PLC0415
    return run(demo=demo)

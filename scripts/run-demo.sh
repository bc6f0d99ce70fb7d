#!/usr/bin/env bash
# The main job: PVDesk connected to its built-in simulated inverter.
# With a display it opens the window; without one it says so and runs the
# live terminal demo instead. Extra arguments go to `pvdesk`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if [ "$#" -gt 0 ]; then exec .venv/bin/pvdesk "$@"; fi
if [ "$(uname)" = Linux ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset): running the terminal demo."
    echo "Press Ctrl-C to stop."
    exec .venv/bin/pvdesk monitor --demo
fi
exec .venv/bin/pvdesk --demo

#!/usr/bin/env bash
# The test suite, on a fresh machine: installs what it needs, then runs pytest.
# Qt runs offscreen; Bluetooth runs against a fake bleak backend (no radio here).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"

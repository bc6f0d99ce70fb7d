#!/usr/bin/env bash
# Prepare a machine for PVDesk: Qt's Debian libraries (where apt-get and root
# or password-less sudo exist), a virtual environment in .venv, and PVDesk with
# its test extras installed into it. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1
socat xvfb xauth poppler-utils fonts-dejavu-core binutils
gnome-keyring dbus-x11 mbpoll"

if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $DEBS; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
        if [ "$SUDO" = none ]; then
            echo "PVDesk needs these Debian packages; install them as root:" >&2
            echo "    apt-get install$missing" >&2
        else
            echo "Installing Debian packages:$missing"
            $SUDO apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
        fi
    fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=".venv/.pvdesk-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing PVDesk and its Python packages into .venv ..."
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    .venv/bin/python -c "import protocols, desktop, pymodbus, PySide6"
    echo "$want" > "$stamp"
fi

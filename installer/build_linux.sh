#!/usr/bin/env bash
# Build PVDesk for Linux: the one-folder app dist/PVDesk/ and the release tarball
# dist/PVDesk-<version>-linux-x86_64.tar.gz (app + desktop entry + icon + install.sh).
#
#   bash installer/build_linux.sh --release-keys DIR   a release build trusting the public keys in DIR
#   bash installer/build_linux.sh --dev                a development build (trusts the repository's dev key)
#   bash installer/build_linux.sh --clean ...          throw away PyInstaller's cache first
#
# A release build needs the release public keys (<key id>.pub, kept outside the
# repository; PVDESK_RELEASE_KEYS=DIR does the same as --release-keys) and
# refuses the development key among them; without keys and without --dev it
# stops before building (installer/release_keys.py, docs/firmware-protocol.md).
#
# PVDESK_DIST_DIR and PVDESK_BUILD_DIR move dist/ and build/; PYTHON picks the
# interpreter (default .venv/bin/python, with PVDesk installed: scripts/bootstrap.sh).
# PyInstaller is installed from pyproject's [build] extra when missing.
# Prints the bundle's size and its 15 largest components at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
DIST=${PVDESK_DIST_DIR:-$ROOT/dist}
WORK=${PVDESK_BUILD_DIR:-$ROOT/build}
CLEAN=()
while [ $# -gt 0 ]; do
    case "$1" in
        --clean) CLEAN=(--clean) ;;
        --dev) export PVDESK_DEV_BUILD=1 ;;
        --release-keys) [ $# -ge 2 ] || { echo "build_linux: --release-keys needs a folder" >&2; exit 2; }
                        export PVDESK_RELEASE_KEYS="$2"; shift ;;
        *) echo "usage: $0 [--clean] [--dev] [--release-keys DIR]" >&2; exit 2 ;;
    esac
    shift
done

if [ ! -x "$PY" ]; then
    echo "build_linux: $PY not found; run scripts/bootstrap.sh first (or set PYTHON)" >&2
    exit 1
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "build_linux: installing PyInstaller (pyproject [build] extra) ..."
    "$PY" -m pip install -q $("$PY" -c "import tomllib; print(' '.join(
        tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['build']))")
fi

# Refuse a release build without release keys (or with the development key) before spending minutes on it.
"$PY" installer/release_keys.py check || exit 2

VERSION=$("$PY" -c "from desktop.version import __version__; print(__version__)")
ARCH=$(uname -m)
NAME="PVDesk-$VERSION-linux-$ARCH"
START=$(date +%s)

echo "build_linux: PVDesk $VERSION -> $DIST/PVDesk and $DIST/$NAME.tar.gz"
"$PY" installer/make_icons.py "$WORK/icons" >/dev/null
PVDESK_ICON_DIR="$WORK/icons" "$PY" -m PyInstaller --noconfirm "${CLEAN[@]}" --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" installer/pvdesk.spec 2>&1 \
    | grep -v -e "required via ctypes not found" -e "only basenames are supported with ctypes" \
              -e "Hidden import \"pyarrow.interchange" -e "Hidden import \"pyqtgraph.flowchart" \
              -e "Failed to collect submodules for 'pyqtgraph.opengl'" || true
if [ ! -x "$DIST/PVDesk/pvdesk" ]; then
    echo "build_linux: PyInstaller did not produce $DIST/PVDesk/pvdesk (see the messages above)" >&2
    exit 1
fi
"$PY" installer/strip_linux.py "$DIST/PVDesk"

# The tarball: PVDesk-<version>-linux-<arch>/{PVDesk/, install.sh, pvdesk.desktop, pvdesk.svg, pvdesk.png, README.txt}
STAGE="$WORK/tarball"
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp installer/linux/install.sh installer/linux/pvdesk.desktop installer/linux/README.txt "$STAGE/"
cp resources/icons/pvdesk.svg "$WORK/icons/pvdesk.png" "$STAGE/"
chmod 755 "$STAGE/install.sh"
TARBALL="$DIST/$NAME.tar.gz"
rm -f "$TARBALL"
GZIP_CMD="gzip -6"
command -v pigz >/dev/null 2>&1 && GZIP_CMD="pigz -6"
tar --owner=0 --group=0 --numeric-owner --sort=name -I "$GZIP_CMD" -cf "$TARBALL" \
    --transform "s|^|$NAME/|" -C "$STAGE" README.txt install.sh pvdesk.desktop pvdesk.png pvdesk.svg \
    -C "$DIST" PVDesk
echo "build_linux: done in $(( $(date +%s) - START )) s"
"$PY" installer/bundle_report.py "$DIST/PVDesk" "$TARBALL"

#!/usr/bin/env bash
# Make PVDesk-<version>-<arch>.AppImage from the bundle that installer/build_linux.sh built.
#
#   bash installer/linux/make_appimage.sh
#
# Builds the AppDir dist/PVDesk.AppDir (AppRun, desktop entry, icon, the PVDesk folder) here, always;
# packs it only where appimagetool is installed (https://github.com/AppImage/appimagetool: download
# appimagetool-x86_64.AppImage, chmod +x, put it on PATH as appimagetool, or set APPIMAGETOOL).
# The AppImage runs on distributions at least as new as the build machine (glibc), like the tarball.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIST=${PVDESK_DIST_DIR:-dist}
WORK=${PVDESK_BUILD_DIR:-build}
if [ ! -x "$DIST/PVDesk/pvdesk" ]; then
    echo "make_appimage: $DIST/PVDesk/pvdesk not found; run installer/build_linux.sh first" >&2
    exit 1
fi
VERSION=$("$DIST/PVDesk/pvdesk" --version | sed 's/^PVDesk //')
ARCH=$(uname -m)
APPDIR="$DIST/PVDesk.AppDir"

rm -rf "$APPDIR"
mkdir -p "$APPDIR"
cp -al "$DIST/PVDesk" "$APPDIR/PVDesk" 2>/dev/null || cp -a "$DIST/PVDesk" "$APPDIR/PVDesk"
cat > "$APPDIR/AppRun" <<'APPRUN'
#!/bin/sh
HERE=$(dirname "$(readlink -f "$0")")
exec "$HERE/PVDesk/pvdesk" "$@"
APPRUN
chmod 755 "$APPDIR/AppRun"
grep -v '^TryExec=' installer/linux/pvdesk.desktop > "$APPDIR/pvdesk.desktop"
cp resources/icons/pvdesk.svg "$APPDIR/pvdesk.svg"
if [ -f "$WORK/icons/pvdesk.png" ]; then
    cp "$WORK/icons/pvdesk.png" "$APPDIR/pvdesk.png"
    ln -sfn pvdesk.png "$APPDIR/.DirIcon"
else
    ln -sfn pvdesk.svg "$APPDIR/.DirIcon"
fi
echo "make_appimage: AppDir ready: $APPDIR ($("$APPDIR/AppRun" --version))"

TOOL=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [ -z "$TOOL" ]; then
    echo "make_appimage: appimagetool not found; AppDir left for packing elsewhere:"
    echo "    ARCH=$ARCH appimagetool $APPDIR $DIST/PVDesk-$VERSION-$ARCH.AppImage"
    exit 0
fi
ARCH="$ARCH" "$TOOL" "$APPDIR" "$DIST/PVDesk-$VERSION-$ARCH.AppImage"
echo "make_appimage: $DIST/PVDesk-$VERSION-$ARCH.AppImage ($(du -h "$DIST/PVDesk-$VERSION-$ARCH.AppImage" | cut -f1))"

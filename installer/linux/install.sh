#!/usr/bin/env sh
# Install PVDesk for the current user (no root needed), from the unpacked release tarball:
#
#   ./install.sh              copy the app to ~/.local/opt/PVDesk, put `pvdesk` on ~/.local/bin,
#                             and add PVDesk to the applications menu
#   ./install.sh --uninstall  remove all of that again (your data, logs and settings stay)
#
# PVDESK_PREFIX changes where the app folder goes (default ~/.local/opt).
# Running it again replaces the installed version.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PVDESK_PREFIX:-$HOME/.local/opt}
APP_DIR=$PREFIX/PVDesk
BIN_DIR=$HOME/.local/bin
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
DESKTOP_FILE=$DATA_HOME/applications/pvdesk.desktop
ICON_SVG=$DATA_HOME/icons/hicolor/scalable/apps/pvdesk.svg
ICON_PNG=$DATA_HOME/icons/hicolor/256x256/apps/pvdesk.png

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA_HOME/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA_HOME/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
    if [ -L "$BIN_DIR/pvdesk" ]; then rm -f "$BIN_DIR/pvdesk"; fi
    rm -f "$DESKTOP_FILE" "$ICON_SVG" "$ICON_PNG"
    refresh_menus
    echo "PVDesk removed from $APP_DIR."
    echo "Your records, recordings, logs and settings are kept (see 'Where PVDesk keeps its files' in the README)."
    # last, and with exec: this script may itself live in $APP_DIR
    exec rm -rf "$APP_DIR"
fi
if [ -n "${1:-}" ]; then
    echo "usage: $0 [--uninstall]" >&2
    exit 2
fi
if [ ! -x "$HERE/PVDesk/pvdesk" ]; then
    echo "install.sh: $HERE/PVDesk/pvdesk not found; run install.sh from the unpacked PVDesk tarball." >&2
    exit 1
fi

# Copy beside the old version first, then swap, so a failed copy leaves the old one working.
mkdir -p "$PREFIX" "$BIN_DIR" "$DATA_HOME/applications" "$(dirname "$ICON_SVG")" "$(dirname "$ICON_PNG")"
rm -rf "$APP_DIR.new" "$APP_DIR.old"
cp -R "$HERE/PVDesk" "$APP_DIR.new"
[ -e "$APP_DIR" ] && mv "$APP_DIR" "$APP_DIR.old"
mv "$APP_DIR.new" "$APP_DIR"
rm -rf "$APP_DIR.old"

cp "$HERE/install.sh" "$APP_DIR/install.sh"  # so that --uninstall works after the tarball is gone
ln -sfn "$APP_DIR/pvdesk" "$BIN_DIR/pvdesk"
cp "$HERE/pvdesk.svg" "$ICON_SVG"
cp "$HERE/pvdesk.png" "$ICON_PNG"
sed -e "s|^Exec=pvdesk|Exec=\"$APP_DIR/pvdesk\"|" -e "s|^TryExec=pvdesk|TryExec=$APP_DIR/pvdesk|" \
    "$HERE/pvdesk.desktop" > "$DESKTOP_FILE"
chmod 644 "$DESKTOP_FILE"
refresh_menus

echo "PVDesk $("$APP_DIR/pvdesk" --version | sed 's/^PVDesk //') installed in $APP_DIR"
echo "  start it from the applications menu, or run: pvdesk   (pvdesk --demo for the simulated inverter)"
echo "  check the installation: pvdesk --self-test"
case ":$PATH:" in
    *":$BIN_DIR:"*) ;;
    *) echo "  note: $BIN_DIR is not on your PATH; add it, or run $APP_DIR/pvdesk" ;;
esac
if [ "$(uname -s)" = Linux ] && ! id -nG 2>/dev/null | grep -qw dialout; then
    echo "  RS-485 adapters: add yourself to the 'dialout' group (sudo usermod -aG dialout \$USER), then log in again"
fi
echo "  remove it again with: $APP_DIR/install.sh --uninstall"

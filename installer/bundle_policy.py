"""What goes into the PVDesk bundle and what is left out, and why: the policy installer/pvdesk.spec applies.

Runs inside PyInstaller's build process (imported by the spec), and in the
fast tests of tests/installer. Pure functions over PyInstaller's TOC entries
``(dest_name, src_name, typecode)``; nothing here imports Qt or PyInstaller.

The app uses QtCore, QtGui (QPdfWriter lives there) and QtWidgets, draws its
plots with pyqtgraph (without SVG export or the test helpers; pyqtgraph needs
QtOpenGL's Python module at import even with OpenGL off),
writes Parquet and CSV with pyarrow, and talks to one S3-compatible bucket
through boto3. Everything else those packages can do is left out of the bundle.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath

# Python modules the app never imports. Some are optional imports of the
# libraries we ship (pyqtgraph tries QtSvg/QtOpenGL/QtTest, pyarrow tries
# pandas and its cloud file systems); the rest are test or developer tools
# installed in the same environment. Excluding them here keeps them (and the
# Qt libraries and plugins they would pull in) out of the bundle.
EXCLUDED_MODULES = [
    # test and developer tools that live in the build environment
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "pydoc_data", "lib2to3", "ensurepip", "venv",
    "pytest", "_pytest", "pytestqt", "pluggy", "hypothesis", "moto", "responses", "keyrings", "pypdf",
    "PyInstaller", "setuptools", "pkg_resources", "pip", "docker", "cfnlint", "flask", "werkzeug",
    "sympy", "mpmath", "networkx", "pydantic", "pydantic_core", "IPython", "matplotlib", "scipy", "pandas",
    "cupy", "numba", "h5py", "jinja2", "yaml", "regex", "graphql", "aws_xray_sdk", "joserfc",
    "openapi_spec_validator", "openapi_schema_validator", "py_partiql_parser", "umodbus",
    # Qt modules the app does not use (PySide6-Essentials ships more than we need). QtOpenGL and
    # QtOpenGLWidgets stay: pyqtgraph's curve item imports them even when OpenGL is off.
    "PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2", "PySide6.QtQuickTest", "PySide6.QtSvg", "PySide6.QtSvgWidgets", "PySide6.QtTest",
    "PySide6.QtDBus", "PySide6.QtPrintSupport",
    "PySide6.QtSql", "PySide6.QtXml", "PySide6.QtHelp", "PySide6.QtUiTools", "PySide6.QtDesigner",
    "PySide6.QtConcurrent", "PySide6.scripts",
    # pyqtgraph parts the app does not reach: OpenGL 3D, the flowchart, the examples, Jupyter, remote plots
    "pyqtgraph.opengl", "pyqtgraph.flowchart", "pyqtgraph.examples", "pyqtgraph.jupyter",
    "pyqtgraph.canvas", "pyqtgraph.console",
    # pyarrow parts the app does not use: Flight RPC, cloud/HDFS file systems, ORC, Substrait, encryption, tests
    "pyarrow._flight", "pyarrow.flight", "pyarrow._s3fs", "pyarrow._gcsfs", "pyarrow._azurefs", "pyarrow._hdfs",
    "pyarrow._orc", "pyarrow.orc", "pyarrow._dataset_orc", "pyarrow._substrait", "pyarrow.substrait",
    "pyarrow._parquet_encryption", "pyarrow.parquet.encryption", "pyarrow._dataset_parquet_encryption",
    "pyarrow._pyarrow_cpp_tests", "pyarrow.tests", "pyarrow.cffi", "pyarrow.interchange", "pyarrow.benchmark",
    "pyarrow.jvm", "pyarrow.cuda", "pyarrow._cuda", "pyarrow.pandas_compat",
    # SunSpec's spreadsheet tooling and tests (the app reads the JSON model definitions only)
    "sunspec2.tests", "sunspec2.xlsx", "sunspec2.spreadsheet", "openpyxl",
]

# Qt plugins kept, by plugin folder -> plugin names (the file name without
# "lib" and the extension, so one list serves Linux, Windows and macOS).
# A folder not listed here is left out entirely.
QT_PLUGINS_KEPT = {
    # xcb (X11) and wayland for desktops; offscreen and minimal for the self-test
    # and headless use; windows and cocoa on those systems.
    "platforms": {"qxcb", "qwayland", "qwayland-egl", "qwayland-generic", "qoffscreen", "qminimal",
                  "qwindows", "qcocoa"},
    "xcbglintegrations": {"qxcb-egl-integration", "qxcb-glx-integration"},
    "wayland-shell-integration": {"xdg-shell", "wl-shell-plugin", "fullscreen-shell-v1", "qt-shell", "ivi-shell"},
    "wayland-decoration-client": {"bradient", "adwaita"},
    "wayland-graphics-integration-client": {"qt-plugin-wayland-egl", "shm-emulation-server"},
    # the portal theme gives native file dialogs on GNOME/KDE/Flatpak; the GTK3 theme is
    # left out because it would drag the build machine's GTK into the bundle.
    "platformthemes": {"qxdgdesktopportal"},
    # dead keys and compose sequences, and IBus input methods (accents, CJK)
    "platforminputcontexts": {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"},
    # PNG is built into QtGui; SVG (the app icon), ICO (Windows icon), JPEG (photos in reports)
    "imageformats": {"qsvg", "qico", "qjpeg"},
    "iconengines": {"qsvgicon"},
    # the native look on Windows (and macOS)
    "styles": {"qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"},
}

# botocore ships the API models of ~440 AWS services (28 MB). PVDesk's sync
# talks to S3 only; STS, SSO, SSO-OIDC and Sign-In are what botocore's
# credential chain may call when the user's AWS profile uses them.
BOTOCORE_SERVICES_KEPT = {"s3", "sts", "sso", "sso-oidc", "signin"}

# Libraries that only the left-out parts above need.
DROPPED_LIBRARIES = re.compile(
    r"(^|/)(libarrow_flight|libarrow_python_flight|libarrow_s3|libarrow_python_parquet_encryption"
    r"|libQt6EglFSDeviceIntegration|libQt6EglFsKmsSupport|libQt6WaylandCompositor"
    r"|libQt6WaylandEglCompositorHwIntegration|libQt6Network|libQt6Qml|libQt6Quick|libQt6Pdf"
    r"|libQt6VirtualKeyboard|libQt6Test|libQt6PrintSupport)[^/]*$"
    # pyarrow's wheel carries libarrow_python three times (link name, soname, full
    # version); the extension modules load the soname (libarrow_python.so.2600).
    r"|(^|/)libarrow_python\.so(\.\d+\.\d+\.\d+)?$")

# Data that is never read at run time: headers, Cython sources, type stubs, tests, Qt's own translations
# (PVDesk loads none yet: its strings are English and no Qt translation is installed at start-up).
DROPPED_DATA = re.compile(
    r"(^|/)(include|tests?|examples)/|^PySide6/(typesystems|glue|doc|support|scripts)/"
    r"|\.(pxd|pyx|pxi|h|hpp|pyi|cmake)$"
    r"|(^|/)PySide6/Qt/translations/|(^|/)PySide6/translations/")


def _plugin_parts(dest: str) -> tuple[str, str] | None:
    """(plugin folder, file name) when ``dest`` is a Qt plugin file, else None."""
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    if "plugins" not in parts or not parts[0].startswith("PySide6"):
        return None
    i = parts.index("plugins")
    if len(parts) < i + 3:
        return None
    return "/".join(parts[i + 1:-1]), parts[-1]


def keep_qt_plugin(folder: str, filename: str) -> bool:
    """Whether the Qt plugin ``filename`` of plugin folder ``folder`` (e.g. "platforms") is kept."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]
    if stem.startswith("lib") and not filename.lower().endswith(".dll"):
        stem = stem[3:]
    return stem in QT_PLUGINS_KEPT.get(folder, set())


def keep_binary(dest: str) -> bool:
    """Whether a binary (extension module, shared library, Qt plugin) belongs in the bundle."""
    plugin = _plugin_parts(dest)
    if plugin is not None:
        return keep_qt_plugin(*plugin)
    return not DROPPED_LIBRARIES.search(dest.replace("\\", "/"))


def keep_data(dest: str) -> bool:
    """Whether a data file belongs in the bundle."""
    path = dest.replace("\\", "/")
    if path.startswith("botocore/data/"):
        rest = path[len("botocore/data/"):]
        return "/" not in rest or rest.split("/", 1)[0] in BOTOCORE_SERVICES_KEPT
    if path.startswith(("resources/", "sunspec2/models/")):
        return True
    if _plugin_parts(path) is not None:
        return keep_binary(path)
    return not DROPPED_DATA.search(path)


def prune(toc, keep) -> tuple[list, list]:
    """Split a TOC into (kept, dropped) entries by ``keep(dest_name)``."""
    kept, dropped = [], []
    for entry in toc:
        (kept if keep(entry[0]) else dropped).append(entry)
    return kept, dropped


def prune_bundle(binaries, datas) -> tuple[list, list, list]:
    """(binaries, datas, dropped): the policy applied to both TOCs, then the symlinks left dangling removed.

    PyInstaller puts a symlink beside the top folder for libraries that live in
    a package folder (libarrow.so.2600 -> pyarrow/libarrow.so.2600); a symlink
    whose target was left out goes too.
    """
    binaries, dropped_binaries = prune(binaries, keep_binary)
    datas, dropped_datas = prune(datas, keep_data)
    present = {entry[0].replace("\\", "/") for entry in binaries + datas if entry[2] != "SYMLINK"}

    def alive(entry) -> bool:
        if entry[2] != "SYMLINK":
            return True
        link = entry[0].replace("\\", "/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(link), entry[1].replace("\\", "/"))) in present

    dangling = [e for e in binaries + datas if not alive(e)]
    binaries = [e for e in binaries if alive(e)]
    datas = [e for e in datas if alive(e)]
    return binaries, datas, dropped_binaries + dropped_datas + dangling

"""The bundle policy and the packaging files, checked without building anything (fast)."""

from __future__ import annotations

import configparser
import re
import shutil
from pathlib import Path

import pytest
from installer_helpers import ROOT

from installer import bundle_policy as policy
from installer import strip_linux

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize(("folder", "filename", "kept"), [
    ("platforms", "/qt/plugins/platforms/libqxcb.so", True),
    ("platforms", "/qt/plugins/platforms/libqwayland.so", True),
    ("platforms", "/qt/plugins/platforms/libqoffscreen.so", True),
    ("platforms", "C:\\Qt\\plugins\\platforms\\qwindows.dll", True),
    ("platforms", "/qt/plugins/platforms/libqcocoa.dylib", True),
    ("platforms", "/qt/plugins/platforms/libqvnc.so", False),
    ("platforms", "/qt/plugins/platforms/libqeglfs.so", False),
    ("platformthemes", "/qt/plugins/platformthemes/libqgtk3.so", False),
    ("imageformats", "/qt/plugins/imageformats/libqsvg.so", True),
    ("imageformats", "C:\\Qt\\plugins\\imageformats\\qico.dll", True),
    ("imageformats", "/qt/plugins/imageformats/libqpdf.so", False),
    ("iconengines", "/qt/plugins/iconengines/libqsvgicon.so", True),
    ("generic", "/qt/plugins/generic/libqtuiotouchplugin.so", False),
    ("tls", "/qt/plugins/tls/libqopensslbackend.so", False),
    ("sqldrivers", "/qt/plugins/sqldrivers/libqsqlite.so", False),
])
def test_qt_plugins_are_chosen_by_folder_and_name_on_every_platform(folder, filename, kept):
    assert policy.keep_qt_plugin(folder, filename) is kept


def test_botocore_keeps_s3_and_the_credential_services_only():
    assert policy.keep_data("botocore/data/s3/2006-03-01/service-2.json.gz")
    assert policy.keep_data("botocore/data/sts/2011-06-15/service-2.json.gz")
    assert policy.keep_data("botocore/data/endpoints.json")
    assert policy.keep_data("botocore/data/_retry.json")
    assert not policy.keep_data("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not policy.keep_data("botocore/data/s3control/2018-08-20/service-2.json.gz")


def test_app_data_is_always_kept_and_headers_and_qt_translations_are_not():
    assert policy.keep_data("resources/profiles/pvdesk-hybrid.toml")
    assert policy.keep_data("sunspec2/models/json/model_1.json")
    assert not policy.keep_data("pyarrow/include/arrow/api.h")
    assert not policy.keep_data("PySide6/Qt/translations/qtbase_de.qm")


def test_a_dropped_library_takes_its_symlink_with_it():
    binaries = [("pyarrow/libarrow.so.2600", "/src/libarrow.so.2600", "BINARY"),
                ("pyarrow/libarrow_flight.so.2600", "/src/libarrow_flight.so.2600", "BINARY"),
                ("PySide6/Qt/plugins/platforms/libqvnc.so", "/src/libqvnc.so", "BINARY")]
    datas = [("libarrow.so.2600", "pyarrow/libarrow.so.2600", "SYMLINK"),
             ("libarrow_flight.so.2600", "pyarrow/libarrow_flight.so.2600", "SYMLINK")]
    kept_bins, kept_datas, dropped = policy.prune_bundle(binaries, datas)
    assert [e[0] for e in kept_bins] == ["pyarrow/libarrow.so.2600"]
    assert [e[0] for e in kept_datas] == ["libarrow.so.2600"]
    assert {e[0] for e in dropped} == {"pyarrow/libarrow_flight.so.2600", "libarrow_flight.so.2600",
                                       "PySide6/Qt/plugins/platforms/libqvnc.so"}


def test_test_tools_and_unused_qt_modules_are_excluded_but_what_the_app_imports_is_not():
    excluded = set(policy.EXCLUDED_MODULES)
    assert {"tkinter", "pytest", "hypothesis", "moto", "PySide6.QtNetwork", "PySide6.QtQml"} <= excluded
    # pyqtgraph imports QtOpenGL at import time; the app imports these directly
    assert not excluded & {"PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtCore", "PySide6.QtGui",
                           "PySide6.QtWidgets", "pyarrow.parquet", "pyarrow.csv", "boto3", "keyring", "bleak"}


def test_the_version_comes_from_desktop_version_py_only():
    from desktop.version import __version__
    literal = re.escape(__version__)
    for path in [ROOT / "installer" / "pvdesk.spec", ROOT / "installer" / "build_linux.sh",
                 ROOT / "installer" / "windows" / "pvdesk.iss", ROOT / "installer" / "windows" / "build.ps1"]:
        assert path.exists(), path
        assert not re.search(rf"(?<![\d.]){literal}(?![\d.])", path.read_text()), f"{path} hard-codes the version"


def test_desktop_entry_has_what_menus_need():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "installer" / "linux" / "pvdesk.desktop")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name"] == "PVDesk"
    assert main["Exec"] == "pvdesk" and main["Icon"] == "pvdesk"  # install.sh makes Exec absolute
    assert main["StartupWMClass"] == "pvdesk"  # matches app.setDesktopFileName("pvdesk")
    assert main["Categories"].endswith(";")


@pytest.mark.skipif(not shutil.which("readelf"), reason="binutils not installed")
def test_load_segment_check_accepts_a_working_library():
    import _ssl  # an extension module of this interpreter, loaded, so certainly loadable
    assert strip_linux.is_elf(Path(_ssl.__file__))
    assert strip_linux.load_segments_aligned(Path(_ssl.__file__))
    assert not strip_linux.load_segments_aligned(ROOT / "pyproject.toml")

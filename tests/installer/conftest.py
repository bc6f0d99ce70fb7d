"""Fixtures for the installer tests: the built Linux bundle, and a clean user to run it as.

The bundle is what the README's build command makes (installer/build_linux.sh
into build/ and dist/). A bundle newer than every source file is reused (set
PVDESK_TEST_REBUILD=1 to force a build); otherwise it is built once per test
session, which takes about 1.5 minutes on a 2-core machine. It is a release build
trusting only the tests' release key (kept outside the repository, see
installer_helpers.make_test_release_key), so it must refuse the development key. The frozen app
then runs as a user with an empty temporary HOME, no display, and none of the
PVDESK_*/XDG_* overrides the rest of the suite sets, so it finds its folders
the way it would on a customer's laptop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from installer_helpers import APP, BUILD_TIMEOUT_S, EXE, ROOT, build_is_current, clean_env, make_test_release_key


@pytest.fixture(scope="session")
def bundle() -> Path:
    """dist/PVDesk, built by installer/build_linux.sh unless a current build is there."""
    if os.environ.get("PVDESK_TEST_REBUILD") == "1" or not build_is_current():
        t0 = time.monotonic()
        _, public_dir = make_test_release_key()
        env = {k: v for k, v in os.environ.items() if k not in ("PVDESK_DEV_BUILD", "PVDESK_RELEASE_KEYS")}
        if not (ROOT / ".venv" / "bin" / "python").exists():
            env.setdefault("PYTHON", sys.executable)  # a worktree without its own .venv
        result = subprocess.run(["bash", str(ROOT / "installer" / "build_linux.sh"), "--release-keys",
                                 str(public_dir)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if result.returncode != 0 or not EXE.exists():
            pytest.fail(f"installer/build_linux.sh failed (exit {result.returncode}):\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        print(f"\nbundle built in {time.monotonic() - t0:.0f} s\n{result.stdout[-1200:]}")
    return APP


@pytest.fixture
def user_home(tmp_path) -> Path:
    home = tmp_path / "home"
    (home / "cwd").mkdir(parents=True)
    return home


@pytest.fixture
def run_app(bundle, user_home):
    """Run the frozen ``pvdesk`` as the clean user, from an empty working folder."""
    def run(*args: str, timeout_s: float = 60, exe: Path = EXE, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args], cwd=user_home / "cwd", env=clean_env(user_home, **env),
                              capture_output=True, text=True, timeout=timeout_s)
    return run


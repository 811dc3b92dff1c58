"""The README's first command on a fresh machine: `scripts/demo` checks the Debian packages the build needs
before building (issue 12: "two commands, either order, fresh machine").

What is checked here, cheaply and without a second build: with packages missing and no way to install them
(SVAR_NO_INSTALL=1, as for a user without root or a sudo that asks no password), scripts/demo stops at once with
the exact `sudo apt-get install -y …` line and exit code 1, having started no build and no install; when it can
install, it runs apt-get (update, then install -y of just the missing packages, non-interactive) before the build.
scripts/setup-test-env shares the check. Stand-ins for dpkg, apt-get, sudo and swift come first on PATH and
write what they were asked to a log. The real path (install, build, serve) is .ci/run's scripts/demo-smoke.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, clean_env

BUILD_PACKAGES = ["libsqlite3-dev", "libssl-dev", "libcurl4-openssl-dev", "pkg-config"]
AT_ONCE = 10  # seconds: far below a build's minutes

# dpkg -s PKG: "installed" unless PKG is listed in FAKE_MISSING, or in FAKE_CONFIG_ONLY (removed, configuration
# files left: dpkg -s succeeds but the status is not "install ok installed").
FAKE_DPKG = """#!/bin/sh
echo "dpkg $*" >> "$FAKE_LOG"
[ "$1" = -s ] || exit 2
for p in $FAKE_MISSING; do
  [ "$p" = "$2" ] && { echo "dpkg-query: package '$2' is not installed" >&2; exit 1; }
done
for p in $FAKE_CONFIG_ONLY; do
  [ "$p" = "$2" ] && { printf 'Package: %s\\nStatus: deinstall ok config-files\\n' "$2"; exit 0; }
done
printf 'Package: %s\\nStatus: install ok installed\\n' "$2"
"""
FAKE_APT_GET = """#!/bin/sh
echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "$FAKE_LOG"
"""
# sudo -n true works; sudo -n CMD… runs CMD.
FAKE_SUDO = """#!/bin/sh
echo "sudo $*" >> "$FAKE_LOG"
[ "$1" = -n ] && shift
exec "$@"
"""
# A build that fails at once with a code of its own, so scripts/demo never reaches the real binary.
FAKE_SWIFT = """#!/bin/sh
echo "swift $*" >> "$FAKE_LOG"
exit 42
"""


@pytest.fixture
def fake(tmp_path):
    """(run, log): run(script, *args, **env) runs a repository script with the stand-ins first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"dpkg": FAKE_DPKG, "apt-get": FAKE_APT_GET, "sudo": FAKE_SUDO, "swift": FAKE_SWIFT}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()

    def run(script: str, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
        environment = clean_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(log), **env})
        started = time.monotonic()
        proc = subprocess.run([str(REPO / "scripts" / script), *args], cwd=tmp_path, env=environment,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        return proc, time.monotonic() - started

    return run, log


def calls(log: Path, program: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.split(" ", 1)[0] == program]


def test_missing_package_stops_at_once_with_the_apt_get_line(fake):
    run, log = fake
    proc, elapsed = run("demo", "--no-serve", FAKE_MISSING="libcurl4-openssl-dev", SVAR_NO_INSTALL="1")
    assert proc.returncode == 1, proc
    lines = (proc.stdout + proc.stderr).splitlines()
    assert "  sudo apt-get install -y libcurl4-openssl-dev" in lines, proc
    assert "libcurl4-openssl-dev" in proc.stderr and "Missing Debian packages" in proc.stderr, proc
    assert elapsed < AT_ONCE, elapsed
    # It asked dpkg about every build package, and started no build and no install.
    assert sorted(c.split()[-1] for c in calls(log, "dpkg")) == sorted(BUILD_PACKAGES), log.read_text()
    assert not calls(log, "swift") and not calls(log, "apt-get") and not calls(log, "sudo"), log.read_text()


def test_every_missing_package_is_on_the_line_and_config_files_only_counts_as_missing(fake):
    run, log = fake
    proc, elapsed = run("demo", FAKE_MISSING="libsqlite3-dev libcurl4-openssl-dev", FAKE_CONFIG_ONLY="libssl-dev",
                        SVAR_NO_INSTALL="1")
    assert proc.returncode == 1, proc
    assert "  sudo apt-get install -y libsqlite3-dev libssl-dev libcurl4-openssl-dev" in proc.stderr.splitlines(), proc
    assert elapsed < AT_ONCE, elapsed
    assert not calls(log, "swift") and not calls(log, "apt-get"), log.read_text()


def test_installs_the_missing_packages_before_building_when_it_can(fake):
    """As root (CI) or with a sudo that asks no password (the stand-in): apt-get update, apt-get install -y of
    just the missing packages, non-interactive, then `swift build --product svar`."""
    run, log = fake
    proc, _ = run("demo", "--no-serve", FAKE_MISSING="libssl-dev libcurl4-openssl-dev")
    assert proc.returncode == 42, proc  # the stand-in build's code: the install succeeded, the build started
    apt = calls(log, "apt-get")
    assert apt == ["apt-get update -qq DEBIAN_FRONTEND=noninteractive",
                   "apt-get install -y -qq libssl-dev libcurl4-openssl-dev DEBIAN_FRONTEND=noninteractive"], log.read_text()
    assert calls(log, "swift") == [f"swift build --package-path {REPO} --product svar"], log.read_text()
    order = [line.split(" ", 1)[0] for line in log.read_text().splitlines() if not line.startswith("dpkg")]
    assert order.index("swift") > max(i for i, p in enumerate(order) if p == "apt-get"), order
    if os.geteuid() == 0:
        assert not calls(log, "sudo"), log.read_text()


def test_all_packages_present_goes_straight_to_the_build(fake):
    run, log = fake
    proc, _ = run("demo", SVAR_NO_INSTALL="1")
    assert proc.returncode == 42, proc
    assert not calls(log, "apt-get") and not calls(log, "sudo"), log.read_text()
    assert calls(log, "swift") == [f"swift build --package-path {REPO} --product svar"], log.read_text()


def test_setup_test_env_shares_the_check(fake):
    """scripts/setup-test-env uses the same check, with the test packages added to the build's."""
    run, log = fake
    proc, elapsed = run("setup-test-env", FAKE_MISSING="chromium libssl-dev", SVAR_NO_INSTALL="1")
    assert proc.returncode == 1, proc
    assert "  sudo apt-get install -y libssl-dev chromium" in proc.stderr.splitlines(), proc
    assert elapsed < AT_ONCE, elapsed
    asked = {c.split()[-1] for c in calls(log, "dpkg")}
    assert asked == set(BUILD_PACKAGES) | {"python3-venv", "chromium", "chromium-driver", "postgresql"}, asked
    assert not calls(log, "apt-get"), log.read_text()


def test_scripts_are_executable_and_strict():
    for name in ("demo", "demo-smoke", "setup-test-env"):
        path = REPO / "scripts" / name
        assert os.access(path, os.X_OK), path
        assert "set -euo pipefail" in path.read_text(), path
    assert "scripts/demo-smoke" in (REPO / ".ci" / "run").read_text()

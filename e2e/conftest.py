"""Shared fixtures for Svar's end-to-end tests.

The tests treat the built `svar` executable as a black box. Which binary: the environment variable SVAR_BIN, or
<repo>/.build/debug/svar. A missing binary is a test failure with a clear message, never a skip.

Every run happens in a temporary working directory outside the repository (proving that the bundled
instruments and templates are found from anywhere), with every SVAR_* variable of the caller's environment
removed, so only what a test sets explicitly reaches the binary.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO / ".build" / "debug" / "svar"
RUN_TIMEOUT = 120  # seconds per invocation; generous for a debug build on a busy 2-core machine


@dataclass
class Result:
    args: list[str]
    rc: int
    stdout: str
    stderr: str

    def __str__(self) -> str:  # shown by pytest when an assertion mentions the result
        return f"svar {' '.join(self.args)} -> exit {self.rc}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any SVAR_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVAR_")}
    if extra:
        env.update(extra)
    return env


class Svar:
    """Runs the svar binary with stdin text, in a working directory that is not the repository."""

    def __init__(self, binary: str, cwd: Path) -> None:
        self.binary = binary
        self.cwd = cwd

    def run(self, *args: str, stdin: str | None = "", env: dict[str, str] | None = None,
            cwd: Path | str | None = None, timeout: float = RUN_TIMEOUT) -> Result:
        workdir = Path(cwd) if cwd is not None else self.cwd
        assert_outside_repo(workdir)
        proc = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True,
                              encoding="utf-8", env=clean_env(env), cwd=workdir, timeout=timeout)
        return Result(list(args), proc.returncode, proc.stdout, proc.stderr)


def assert_outside_repo(path: Path) -> None:
    resolved = Path(path).resolve()
    assert resolved != REPO and REPO not in resolved.parents, \
        f"test working directory {resolved} must not be inside the repository {REPO}"


@pytest.fixture(scope="session")
def svar_bin() -> str:
    configured = os.environ.get("SVAR_BIN")
    path = Path(configured) if configured else DEFAULT_BIN
    if not path.is_file() or not os.access(path, os.X_OK):
        how = f"SVAR_BIN={configured}" if configured else f"the default {DEFAULT_BIN}"
        pytest.fail(f"svar binary not found or not executable ({how}); build it with `swift build` "
                    f"or point SVAR_BIN at a built svar", pytrace=False)
    return str(path.resolve())


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    """An empty working directory outside the repository, shared by the whole session."""
    path = tmp_path_factory.mktemp("svar-cwd")
    assert_outside_repo(path)
    return path


@pytest.fixture(scope="session")
def svar(svar_bin, work_dir) -> Svar:
    return Svar(svar_bin, work_dir)

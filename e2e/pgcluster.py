"""A private PostgreSQL cluster for the end-to-end tests that run Svar on PostgreSQL.

`scripts/test` starts one (`scripts/postgres-test-cluster start`) and passes its URL in SVAR_TEST_POSTGRES_URL; a
test run without it starts its own for the session and stops it at the end. Either way each test asks for a new,
empty database of its own (`PostgresCluster.new_database()`), owned by the unprivileged `svar` role, and reads
it with `psql` (no Python driver needed). PostgreSQL missing is a test failure with the command to install it,
never a skip.
"""
from __future__ import annotations

import glob
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "postgres-test-cluster"


def pg_bin(name: str) -> str:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    pytest.fail(f"PostgreSQL's {name} is not installed: apt-get install -y postgresql (15 or later)")


class PostgresCluster:
    def __init__(self, url: str) -> None:
        self.url = url

    def new_database(self, prefix: str = "e2e") -> str:
        """The URL of a new, empty database owned by the `svar` role."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        done = subprocess.run([str(SCRIPT), "createdb", self.url, name], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    @staticmethod
    def query(url: str, sql: str) -> list[list[str]]:
        """Rows of `sql` as lists of text (NULL as ''), through psql."""
        done = subprocess.run([pg_bin("psql"), "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"psql: {done.stderr}"
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    @staticmethod
    def password(url: str) -> str:
        return re.match(r"postgres(?:ql)?://[^:@/]+:([^@]+)@", url).group(1)


@pytest.fixture(scope="session")
def postgres():
    url = os.environ.get("SVAR_TEST_POSTGRES_URL", "")
    if url:
        yield PostgresCluster(url)
        return
    pg_bin("initdb")
    started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    exports = dict(re.findall(r"export (\w+)=(\S+)", started.stdout))
    try:
        yield PostgresCluster(exports["SVAR_TEST_POSTGRES_URL"])
    finally:
        subprocess.run([str(SCRIPT), "stop", exports["SVAR_TEST_POSTGRES_DIR"]], capture_output=True, timeout=120)

"""Shared fixtures for Svar's end-to-end tests.

The tests treat the built `svar` executable as a black box. Which binary: the environment variable SVAR_BIN, or
<repo>/.build/debug/svar. A missing binary is a test failure with a clear message, never a skip.

Every run happens in a temporary working directory outside the repository (proving that the bundled
instruments and templates are found from anywhere), with every SVAR_* variable of the caller's environment
removed, so only what a test sets explicitly reaches the binary.

Helpers for the service tests: synthetic identity numbers (month + 80, valid mod-11 control digits), fresh vault
keys and API tokens, `server_env()` (a complete environment: test mode, no workers, a database in a temporary
folder), `Server` / `running_server()` / the `start_server` fixture (a live `svar serve` on a free loopback port
with a JSON client), read-only SQLite access, and the parser of `svar tick`'s report line.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

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


# ---------------------------------------------------------------------------------------------------------------
# Synthetic identity numbers, keys, dates
# ---------------------------------------------------------------------------------------------------------------
K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
OSLO = ZoneInfo("Europe/Oslo")


def control_digits(body: list[int]) -> tuple[int, int] | None:
    """(K1, K2) for nine digits by the 1964 rule, or None when either would be 10 (no valid number)."""
    k1 = (11 - sum(d * w for d, w in zip(body, K1_WEIGHTS)) % 11) % 11
    if k1 == 10:
        return None
    k2 = (11 - sum(d * w for d, w in zip(body + [k1], K2_WEIGHTS)) % 11) % 11
    if k2 == 10:
        return None
    return k1, k2


def synthetic_number(birth: dt.date, individual: int) -> str | None:
    """Skatteetaten's synthetic test number (month + 80) for a birth date and individual number, or None."""
    yy = birth.year % 100
    month = birth.month + 80
    body = [birth.day // 10, birth.day % 10, month // 10, month % 10, yy // 10, yy % 10,
            individual // 100 % 10, individual // 10 % 10, individual % 10]
    k = control_digits(body)
    return None if k is None else "".join(map(str, body + list(k)))


def synthetic_numbers(count: int, seed_date: dt.date = dt.date(1971, 1, 1)):
    """`count` distinct valid synthetic numbers (a different birth date every 37 numbers)."""
    out: list[str] = []
    birth, individual = seed_date, 100
    while len(out) < count:
        individual += 1
        if individual > 499:
            birth, individual = birth + dt.timedelta(days=37), 100
            continue
        number = synthetic_number(birth, individual)
        if number:
            out.append(number)
    return out


def is_valid_synthetic(digits: str) -> bool:
    """True for an 11-digit string with valid K1/K2 (1964 rule) and a month + 80 (what Svar accepts in test mode)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    k = control_digits(d[:9])
    return k == (d[9], d[10]) and 81 <= d[2] * 10 + d[3] <= 92


def vault_key() -> str:
    """base64 of 32 random bytes: a fresh SVAR_VAULT_KEY."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def api_token() -> str:
    return "e2e-" + secrets.token_hex(16)


def oslo_today() -> dt.date:
    return dt.datetime.now(OSLO).date()


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months, clamping to the month's last day (2028-02-29 + 12 months = 2029-02-28)."""
    index = d.year * 12 + d.month - 1 + months
    y, m = divmod(index, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


def oslo_iso(day: dt.date, hour: int = 0, minute: int = 0) -> str:
    """The instant day hh:mm in Europe/Oslo as Svar prints it: 2027-03-28T09:00:00+02:00."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO).isoformat()


# ---------------------------------------------------------------------------------------------------------------
# A running `svar serve` on a free loopback port, and a small JSON client
# ---------------------------------------------------------------------------------------------------------------
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0):
    """(status, headers, body text) for any status, 4xx/5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode("utf-8", "replace")


@dataclass
class Reply:
    status: int
    headers: object
    text: str

    @property
    def json(self):
        return json.loads(self.text)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.content_type}\n{self.text}"


class Api:
    """A small JSON client for Svar's API at `base`, sending `token` as the bearer token."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.token = token

    def request(self, method: str, path: str, body=None, token: str | None = "default",
                headers: dict[str, str] | None = None, raw: bytes | None = None, timeout: float = 15.0) -> Reply:
        """One API call; `token="default"` sends the server's token, None sends no Authorization header."""
        url = self.base + path
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None and not (headers and "Content-Type" in headers):
            req.add_header("Content-Type", "application/json")
        if token == "default":
            token = self.token
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Reply(resp.status, resp.headers, resp.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read().decode("utf-8", "replace"))

    def post(self, path: str, body=None, **kw) -> Reply:
        return self.request("POST", path, body if body is not None else {}, **kw)

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    # Shortcuts that assert success, for building up data.
    def ok(self, method: str, path: str, body=None, expect: int = 201):
        reply = self.request(method, path, body)
        assert reply.status == expect, f"{method} {path} {body} -> {reply}"
        return reply.json

    def create_unit(self, resh: str, name: str):
        return self.ok("POST", "/api/v1/units", {"resh": resh, "name": name})

    def enrol(self, number: str, **extra) -> str:
        return self.ok("POST", "/api/v1/patients", {"identityNumber": number, **extra})["id"]

    def start_course(self, patient: str, unit: str, type_: str = "D01") -> str:
        return self.ok("POST", f"/api/v1/patients/{patient}/courses", {"unit": unit, "type": type_})["id"]

    def event(self, course: str, type_: str, date: dt.date | str) -> dict:
        return self.ok("POST", f"/api/v1/courses/{course}/events", {"type": type_, "date": str(date)})

    def course(self, course: str) -> dict:
        return self.ok("GET", f"/api/v1/courses/{course}", expect=200)


class Server(Api):
    """`svar serve` as a child process with its own port, log file and (unless given) a fresh environment."""

    def __init__(self, binary: str, cwd: Path, logs: Path, env: dict[str, str] | None = None) -> None:
        assert_outside_repo(cwd)
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.env = dict(env or {})
        self.token = self.env.get("SVAR_API_TOKEN")
        self.log_path = logs
        self._log = open(logs, "w+", encoding="utf-8")
        full_env = clean_env({"SVAR_PORT": str(self.port), **self.env})
        self.proc = subprocess.Popen([binary, "serve"], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_until_healthy(self) -> "Server":
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"svar serve exited with {self.proc.returncode} before answering /health:\n{self.logs()}")
            try:
                status, _, _ = http_get(self.base + "/health", timeout=2)
                if status == 200:
                    return self
                last = f"HTTP {status}"
            except (urllib.error.URLError, ConnectionError, socket.timeout) as err:
                last = repr(err)
            time.sleep(0.1)
        pytest.fail(f"/health did not answer 200 within {START_TIMEOUT} s (last: {last}):\n{self.logs()}")

    def stop(self, sig=signal.SIGTERM) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                return None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()

def server_env(db_path: Path, **overrides: str) -> dict[str, str]:
    """A complete environment for `svar serve`/`svar tick` on `db_path`: test mode, no workers, fresh keys."""
    env = {
        "SVAR_VAULT_KEY": vault_key(),
        "SVAR_DATABASE_URL": f"sqlite:{db_path}",
        "SVAR_API_TOKEN": api_token(),
        "SVAR_MODE": "test",
        "SVAR_WORKERS": "none",
        "SVAR_PUBLIC_URL": "https://svar.e2e.invalid/base",
    }
    env.update(overrides)
    return env


@contextlib.contextmanager
def running_server(binary: str, cwd: Path, env: dict[str, str], log: Path | None = None):
    """`with running_server(...) as srv:` a healthy server; on leaving, SIGTERM and a check that it exited 0
    (so the database is closed and complete before anything else opens it)."""
    srv = Server(binary, cwd, log or cwd / f"serve-{secrets.token_hex(3)}.log", env=env)
    try:
        srv.wait_until_healthy()
        yield srv
        rc = srv.stop()
        assert rc == 0, f"svar serve exited with {rc} on SIGTERM:\n{srv.logs()}"
    finally:
        srv.kill()


@pytest.fixture
def start_server(svar_bin, tmp_path):
    """Factory: start_server(env) -> a healthy Server (killed at teardown). Each call gets its own log file."""
    started: list[Server] = []

    def start(env: dict[str, str], cwd: Path | None = None) -> Server:
        workdir = cwd or tmp_path
        srv = Server(svar_bin, workdir, tmp_path / f"serve-{len(started)}.log", env=env)
        started.append(srv)
        return srv.wait_until_healthy()

    yield start
    for srv in started:
        srv.kill()


# ---------------------------------------------------------------------------------------------------------------
# Reading a Svar SQLite file (read-only) and parsing `svar tick`
# ---------------------------------------------------------------------------------------------------------------
def open_ro(db_path: Path) -> sqlite3.Connection:
    """A read-only connection (never changes the file Svar wrote)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def query(db_path: Path, sql: str, args=()) -> list[sqlite3.Row]:
    conn = open_ro(db_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


TICK_RE = re.compile(r"^tick at (\S+): invited (\d+), reminded (\d+), expired (\d+), "
                     r"cancelled (\d+) stale reminder\(s\), nudges (\d+)$", re.M)


def parse_tick(stdout: str) -> dict:
    m = TICK_RE.search(stdout)
    assert m, f"svar tick printed no report line:\n{stdout}"
    return {"at": m.group(1), "invited": int(m.group(2)), "reminded": int(m.group(3)), "expired": int(m.group(4)),
            "cancelled": int(m.group(5)), "nudges": int(m.group(6))}

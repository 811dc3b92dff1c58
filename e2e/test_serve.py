"""End-to-end tests of `svar serve` (the built binary as a black box, only on 127.0.0.1, only urllib).

Contract: `svar serve` starts a Hummingbird server (`/health`, `/metrics` in Prometheus format) configured from
environment variables (SVAR_HOST default 127.0.0.1, SVAR_PORT default 8080). It refuses to start without
SVAR_VAULT_KEY, and an invalid value of any variable stops start-up with the variable's name.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import (HOST, STOP_TIMEOUT, Server, clean_env, free_port, http_get, oslo_today, server_env,
                      synthetic_numbers, vault_key)

INSTRUMENTS = ["eq5d-3l", "eq5d-5l", "kvarus-followup", "rand36"]


@pytest.fixture(scope="module")
def server(svar_bin, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("serve-cwd")
    env = {"SVAR_VAULT_KEY": vault_key(), "SVAR_DATABASE_URL": f"sqlite:{cwd / 'svar.sqlite'}", "SVAR_WORKERS": "none"}
    srv = Server(svar_bin, cwd, tmp_path_factory.mktemp("serve-logs") / "serve.log", env=env)  # SVAR_HOST unset: default
    try:
        srv.wait_until_healthy()
        yield srv
    finally:
        srv.kill()


def parse_prometheus(text: str):
    """{(name, frozenset(labels)): value} and {name: type} from the Prometheus text format (0.0.4)."""
    samples, types = {}, {}
    sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = sample_re.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(label_re.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def request_counter(samples, types, route: str, status: str) -> tuple[str, float]:
    """The counter sample counting GET requests to `route` with response `status`."""
    found = []
    for (name, labels), value in samples.items():
        if types.get(name) != "counter":
            continue
        d = dict(labels)
        has = lambda part, want: any(part in k and v == want for k, v in d.items())  # noqa: E731
        if has("route", route) and has("status", status) and has("method", "GET") and "request" in name:
            found.append((name, value))
    assert len(found) == 1, f"expected one request counter for GET {route} {status}, found {found}"
    return found[0]


# ---------------------------------------------------------------------------------------------------------------
def test_health(server, svar):
    status, headers, body = http_get(server.base + "/health")
    assert status == 200
    assert headers.get("Content-Type", "").startswith("application/json")
    data = json.loads(body)
    assert data["status"] == "ok"
    assert sorted(data["instruments"]) == INSTRUMENTS
    version = svar.run("--version").stdout.strip()
    assert version and data["version"] == version


def test_listens_on_loopback_by_default(server):
    """SVAR_HOST is unset in the fixture: the listening socket must be bound to 127.0.0.1 only."""
    port_hex = f"{server.port:04X}"
    if os.path.exists("/proc/net/tcp"):
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(table):
                continue
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                addr, port = fields[1].split(":")
                if port == port_hex and fields[3] == "0A":  # 0A = LISTEN
                    listening.append(addr)
        assert listening == ["0100007F"], f"listening addresses for port {server.port}: {listening}"
    else:
        assert f"{HOST}:{server.port}" in server.logs()


def test_metrics(server):
    status, headers, body = http_get(server.base + "/metrics")
    assert status == 200
    content_type = headers.get("Content-Type", "")
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type, content_type
    samples, types = parse_prometheus(body)
    assert samples.get(("svar_instruments_loaded", frozenset())) == 4.0, body
    assert samples.get(("svar_value_sets_loaded", frozenset())) == 14.0, body
    assert types.get("svar_instruments_loaded") == "gauge"


def test_metrics_count_requests(server):
    _, _, body = http_get(server.base + "/metrics")
    samples, types = parse_prometheus(body)
    _, before = request_counter(samples, types, "/health", "200")
    for _ in range(3):
        assert http_get(server.base + "/health")[0] == 200
    _, _, body = http_get(server.base + "/metrics")
    samples, types = parse_prometheus(body)
    name, after = request_counter(samples, types, "/health", "200")
    assert after - before == 3, f"{name}: {before} -> {after}"
    duration = [k for k in samples if "duration" in k[0] and k[0].endswith("_count")
                and ("http_route", "/health") in k[1]]
    assert duration and samples[duration[0]] >= 3, [k for k in samples if "duration" in k[0]][:5]


def test_metrics_do_not_label_unknown_paths(server):
    """Arbitrary paths must not become label values (unbounded cardinality, and they can carry data)."""
    secret = f"no-such-page-{uuid.uuid4().hex}"
    status, _, _ = http_get(f"{server.base}/{secret}")
    assert status == 404
    _, _, body = http_get(server.base + "/metrics")
    assert secret not in body


@pytest.mark.parametrize("path", ["/health", "/metrics", "/no-such-page"])
def test_security_headers(server, path):
    _, headers, _ = http_get(server.base + path)
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "no-referrer"
    assert headers.get("Cache-Control") == "no-store"
    csp = headers.get("Content-Security-Policy")
    assert csp, "no Content-Security-Policy header"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()}
    assert "default-src" in directives, csp
    assert "*" not in directives["default-src"], csp


# ---------------------------------------------------------------------------------------------------------------
# configuration errors and shutdown
# ---------------------------------------------------------------------------------------------------------------
def refused_start(svar_bin, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Runs `svar serve` with `env` (plus a free port) and returns the finished process; fails if it keeps running."""
    full_env = clean_env({"SVAR_PORT": str(free_port()), **env})
    try:
        return subprocess.run([svar_bin, "serve"], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"svar serve with {env} did not exit (it should refuse to start)")


def test_refuses_to_start_without_vault_key(svar_bin, tmp_path):
    proc = refused_start(svar_bin, tmp_path, {"SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}",
                                              "SVAR_API_TOKEN": "0123456789abcdef0123"})
    assert proc.returncode != 0, proc
    assert "SVAR_VAULT_KEY" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "Fatal error" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("env", [
    {"SVAR_PORT": "abc"}, {"SVAR_PORT": "70000"}, {"SVAR_PORT": "-1"},
    {"SVAR_INSTRUMENTS_DIR": "/nonexistent/svar-instruments"},
    {"SVAR_WEB_DIR": "/nonexistent/svar-web"},
    {"SVAR_MODE": "prod"}, {"SVAR_MODE": "TEST"},
    {"SVAR_WORKERS": "scheduler,mailer"}, {"SVAR_WORKERS": "everything"},
    {"SVAR_DATABASE_URL": "postgres://localhost/svar"}, {"SVAR_DATABASE_URL": "sqlite:"},
    {"SVAR_DATABASE_URL": "sqlite:/nonexistent/svar-dir/svar.sqlite"},
    {"SVAR_VAULT_KEY": "not base64 at all!"},
    {"SVAR_VAULT_KEY_FILE": "/nonexistent/svar-vault.key"},
    {"SVAR_API_TOKEN": "short"},
    {"SVAR_PUBLIC_URL": "ftp://svar.example"},
    {"SVAR_PROTOCOL": "no-such-protocol"},
    {"SVAR_CONTACT_TEXT": "x" * 201}, {"SVAR_CONTACT_TEXT": "Ring oss\u202e44 33 22 11"},
], ids=["port-abc", "port-70000", "port-negative", "instruments-dir", "web-dir", "mode-prod", "mode-uppercase",
        "workers-unknown", "workers-word", "database-postgres", "database-empty-path", "database-missing-dir",
        "vault-key-not-base64", "vault-key-file-missing", "api-token-short", "public-url-ftp", "protocol-unknown",
        "contact-text-too-long", "contact-text-bidi-override"])
def test_invalid_configuration_refuses_to_start(svar_bin, tmp_path, env):
    """Everything else is valid (a vault key included), so the only possible reason to refuse is `env`."""
    variable = next(iter(env))
    base = {"SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}", "SVAR_WORKERS": "none"}
    if variable != "SVAR_VAULT_KEY_FILE":
        base["SVAR_VAULT_KEY"] = vault_key()
    proc = refused_start(svar_bin, tmp_path, {**base, **env})
    assert proc.returncode != 0, proc
    assert variable in proc.stderr, proc.stderr


def test_vault_key_of_wrong_length_names_the_variable(svar_bin, tmp_path):
    short_key = base64.b64encode(secrets.token_bytes(16)).decode()
    proc = refused_start(svar_bin, tmp_path, {"SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}",
                                              "SVAR_VAULT_KEY": short_key})
    assert proc.returncode != 0, proc
    assert "SVAR_VAULT_KEY" in proc.stderr, proc.stderr


def test_bad_host_names_the_variable(svar_bin, tmp_path):
    proc = refused_start(svar_bin, tmp_path, {"SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}",
                                              "SVAR_VAULT_KEY": vault_key(), "SVAR_HOST": "256.1.1.1"})
    assert proc.returncode != 0, proc
    assert "SVAR_HOST" in proc.stderr, proc.stderr


def test_bad_log_level_names_the_variable(svar_bin, tmp_path):
    env = {"SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}", "SVAR_VAULT_KEY": vault_key(),
           "SVAR_WORKERS": "none", "LOG_LEVEL": "loud"}
    full_env = clean_env({"SVAR_PORT": str(free_port()), **env})
    proc = subprocess.Popen([svar_bin, "serve"], cwd=tmp_path, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode not in (0, -signal.SIGKILL) and "LOG_LEVEL" in err, (proc.returncode, out, err)


@pytest.mark.parametrize("workers", ["all", "none", "scheduler", "outbox", "scheduler,outbox", " outbox , scheduler "])
def test_valid_workers_start(svar_bin, tmp_path, workers):
    srv = Server(svar_bin, tmp_path, tmp_path / "serve.log",
                 env={"SVAR_VAULT_KEY": vault_key(), "SVAR_WORKERS": workers,
                      "SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}"})
    try:
        srv.wait_until_healthy()
    finally:
        srv.kill()


def test_default_database_is_svar_sqlite_in_the_working_directory(svar_bin, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    srv = Server(svar_bin, cwd, tmp_path / "serve.log", env={"SVAR_VAULT_KEY": vault_key(), "SVAR_WORKERS": "none"})
    try:
        srv.wait_until_healthy()
        assert (cwd / "svar.sqlite").is_file(), sorted(p.name for p in cwd.iterdir())
    finally:
        srv.kill()


def test_relative_database_url_is_relative_to_the_working_directory(svar_bin, tmp_path):
    cwd = tmp_path / "cwd"
    (cwd / "data").mkdir(parents=True)
    srv = Server(svar_bin, cwd, tmp_path / "serve.log",
                 env={"SVAR_VAULT_KEY": vault_key(), "SVAR_WORKERS": "none", "SVAR_DATABASE_URL": "sqlite:data/x.sqlite"})
    try:
        srv.wait_until_healthy()
        assert (cwd / "data" / "x.sqlite").is_file(), sorted(str(p) for p in cwd.rglob("*"))
        assert not (cwd / "svar.sqlite").exists()
    finally:
        srv.kill()


def _course_with_open_baseline(svar_bin, tmp_path, env) -> str:
    """Creates (through the API, no workers) a course whose baseline window is open now; returns the course id."""
    srv = Server(svar_bin, tmp_path, tmp_path / "populate.log", env={**env, "SVAR_WORKERS": "none"})
    try:
        srv.wait_until_healthy()
        srv.create_unit("100", "Unit")
        patient = srv.enrol(synthetic_numbers(1)[0])
        course = srv.start_course(patient, "100")
        srv.event(course, "start", oslo_today() - dt.timedelta(days=2))
        assert srv.stop() == 0, srv.logs()
    finally:
        srv.kill()
    return course


@pytest.mark.parametrize("workers,invites", [("scheduler", True), ("all", True), ("none", False), ("outbox", False)])
def test_workers_decide_whether_serve_runs_the_scheduler(svar_bin, tmp_path, workers, invites):
    """The scheduler's first pass runs at start-up: with it, an open baseline window is invited at once."""
    env = server_env(tmp_path / "svar.sqlite")
    course = _course_with_open_baseline(svar_bin, tmp_path, env)
    srv = Server(svar_bin, tmp_path, tmp_path / "serve.log", env={**env, "SVAR_WORKERS": workers})
    try:
        srv.wait_until_healthy()
        deadline = time.monotonic() + (10 if invites else 2.5)
        state = None
        while time.monotonic() < deadline:
            state = srv.course(course)["invitations"][0]["state"]
            if state != "scheduled":
                break
            time.sleep(0.2)
        if invites:
            # With the delivery worker too ("all"), the invited patient (no address) may already be unreachable.
            history = [h["to"] for h in srv.course(course)["invitations"][0]["history"]]
            assert state in ("invited", "unreachable") and "invited" in history, (workers, state, history, srv.logs())
        else:
            assert state == "scheduled", (workers, state, srv.logs())
    finally:
        srv.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(svar_bin, tmp_path, sig):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    srv = Server(svar_bin, cwd, tmp_path / "serve.log",
                 env={"SVAR_HOST": HOST, "SVAR_VAULT_KEY": vault_key(), "SVAR_WORKERS": "none"})
    try:
        srv.wait_until_healthy()
        started = time.monotonic()
        rc = srv.stop(sig)
        elapsed = time.monotonic() - started
        assert rc is not None, f"svar serve still running {STOP_TIMEOUT} s after {sig.name}"
        assert rc == 0, f"exit status {rc} after {sig.name}:\n{srv.logs()}"
        assert elapsed < STOP_TIMEOUT
        with pytest.raises(OSError):
            with socket.create_connection((HOST, srv.port), timeout=2):
                pass
    finally:
        srv.kill()


def test_sigterm_stops_cleanly_with_the_scheduler_running(svar_bin, tmp_path):
    srv = Server(svar_bin, tmp_path, tmp_path / "serve.log",
                 env={"SVAR_VAULT_KEY": vault_key(), "SVAR_DATABASE_URL": f"sqlite:{tmp_path / 'svar.sqlite'}"})
    try:
        srv.wait_until_healthy()
        time.sleep(0.5)   # let the scheduler's first pass finish
        srv.proc.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        assert rc == 0, f"exit status {rc} 5 s after SIGTERM (None: still running):\n{srv.logs()}"
    finally:
        srv.kill()


def test_wrong_vault_key_for_an_existing_database_names_the_variable(svar_bin, tmp_path):
    db = tmp_path / "svar.sqlite"
    first = Server(svar_bin, tmp_path, tmp_path / "first.log",
                   env={"SVAR_VAULT_KEY": vault_key(), "SVAR_DATABASE_URL": f"sqlite:{db}", "SVAR_WORKERS": "none"})
    try:
        first.wait_until_healthy()
        assert first.stop() == 0
    finally:
        first.kill()
    proc = refused_start(svar_bin, tmp_path, {"SVAR_VAULT_KEY": vault_key(), "SVAR_DATABASE_URL": f"sqlite:{db}",
                                              "SVAR_WORKERS": "none"})
    assert proc.returncode != 0, proc
    assert "SVAR_VAULT_KEY" in proc.stderr, proc.stderr

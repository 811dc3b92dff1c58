"""Svar's commands on PostgreSQL, and moving an installation there from SQLite.

- Every command takes `SVAR_DATABASE_URL=postgres://…` (the password optionally from SVAR_DATABASE_PASSWORD_FILE),
  and no password ever shows in what the command prints.
- A database that cannot be reached is named by host and port after a bounded wait, with a non-zero exit; a
  refused password fails at once.
- `svar store copy` moves a demo installation and its local registry store into an empty database with
  matching per-table counts and checksums (the registry's export is then the same files from both engines), refuses a target that is not empty, and the copy keeps working: the patient link printed by the demo
  opens, the signing key is the same, the vault opens (the clinician sees the fictional names), and the API finds
  a known patient by number.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time

from conftest import api_token, free_port, http_get, running_server, synthetic_number, vault_key
from pgcluster import PostgresCluster, postgres  # noqa: F401  (the fixture)
from test_demo import CLINICIAN_RE, CSRF_FIELD_RE, PATIENT_LINK_RE, Browser


def test_every_command_runs_on_postgres_without_showing_the_password(svar, postgres, tmp_path):
    url = postgres.new_database()
    password = PostgresCluster.password(url)
    # The password from a file, the URL without it.
    secret = tmp_path / "db-password"
    secret.write_text(password + "\n")
    env = {"SVAR_DATABASE_URL": url.replace(":" + password + "@", "@"), "SVAR_DATABASE_PASSWORD_FILE": str(secret),
           "SVAR_VAULT_KEY": vault_key(), "SVAR_MODE": "test"}

    status = svar.run("migrate", "--status", env=env)
    pending = re.search(r"database postgres://svar:\*\*\*@127\.0\.0\.1:\d+/e2e_\w+: 0 applied, (\d+) pending\n",
                        status.stdout)
    # Every migration is listed by name, the first one carrying the whole schema.
    named = re.findall(r"^  pending  (\d{4}-\d{2}-\d{2}-\d{2}-[a-z0-9-]+)$", status.stdout.split("registry store")[0], re.M)
    assert status.rc == 0 and pending and int(pending.group(1)) == len(named) >= 1, status
    assert named[0] == "2026-12-05-11-nudges-by-milestone", named
    assert svar.run("migrate", env=env).rc == 0
    status = svar.run("migrate", "--status", env=env)
    assert f": {len(named)} applied, 0 pending" in status.stdout, status
    assert PostgresCluster.query(url, "SELECT count(*) FROM schema_migrations") == [[str(len(named))]]

    added = svar.run("users", "add", "--username", "anne", "--role", "registry-admin", "--password-stdin",
                     stdin="a-long-enough-passphrase\n", env=env)
    totp = svar.run("users", "totp", "--username", "anne", env=env)
    tick = svar.run("tick", "--now", "2026-12-05T08:00:00Z", env=env)
    keys = svar.run("keys", "list", env=env)
    for result in (added, totp, tick, keys):
        assert result.rc == 0, result
        assert password not in result.stdout + result.stderr, result
    assert "otpauth://totp/anne?secret=" in totp.stdout, totp
    assert PostgresCluster.query(url, "SELECT username, role FROM users") == [["anne", "registry-admin"]]
    assert re.match(r"tick at 2026-12-05T09:00:00\+01:00: invited 0", tick.stdout), tick

    # The password in the URL and in the file: refused, naming the variables, showing neither.
    both = svar.run("tick", env={**env, "SVAR_DATABASE_URL": url})
    assert both.rc != 0 and "SVAR_DATABASE_URL" in both.stderr and password not in both.stdout + both.stderr, both


def test_an_unreachable_database_is_named_and_a_wrong_password_fails_at_once(svar, postgres):
    port = free_port()  # nothing listens here
    started = time.monotonic()
    gone = svar.run("tick", env={"SVAR_DATABASE_URL": f"postgres://svar:pw-not-shown-1@127.0.0.1:{port}/svar",
                                 "SVAR_DATABASE_CONNECT_TIMEOUT": "3", "SVAR_MODE": "test"})
    waited = time.monotonic() - started
    assert gone.rc != 0, gone
    assert f"cannot reach PostgreSQL database 'svar' at 127.0.0.1:{port}" in gone.stderr, gone
    assert re.search(r"\((\d+) attempts\)", gone.stderr) and int(re.search(r"\((\d+) attempts\)", gone.stderr).group(1)) >= 3
    assert "pw-not-shown-1" not in gone.stdout + gone.stderr, gone
    assert 2.5 <= waited < 30, f"gave up after {waited:.1f} s with a 3 s limit"

    url = postgres.new_database()
    wrong = re.sub(r"(://svar:)[^@]+@", r"\1wrong-password-2@", url)
    started = time.monotonic()
    refused = svar.run("tick", env={"SVAR_DATABASE_URL": wrong, "SVAR_DATABASE_CONNECT_TIMEOUT": "60", "SVAR_MODE": "test"})
    assert refused.rc != 0 and "password authentication failed" in refused.stderr, refused
    assert "(1 attempt)" in refused.stderr and "wrong-password-2" not in refused.stdout + refused.stderr, refused
    assert time.monotonic() - started < 30, "a refused password is not worth waiting for"


def sqlite_counts(path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_store_copy_moves_a_demo_installation_that_keeps_working(svar, svar_bin, postgres, tmp_path):
    demo = tmp_path / "demo"
    made = svar.run("demo", "--directory", str(demo), "--no-serve", env={"SVAR_PORT": "8080"}, timeout=300)
    assert made.rc == 0, made
    source = demo / "svar.sqlite"
    key_env = {"SVAR_VAULT_KEY_FILE": str(demo / "vault.key"), "SVAR_MODE": "demo"}
    # The demo's answers forwarded to the local registry store beside it, so the copy has one to move too.
    forwarded = svar.run("forward", env={**key_env, "SVAR_DATABASE_URL": f"sqlite:{source}"})
    assert forwarded.rc == 0 and re.search(r"forwarded [1-9]", forwarded.stdout), forwarded
    counts = sqlite_counts(source)
    registry_counts = sqlite_counts(demo / "registry.sqlite")
    assert counts["patients"] >= 10 and counts["responses"] >= 1 and registry_counts["results"] == counts["responses"], \
        (counts, registry_counts)

    url = postgres.new_database()
    copied = svar.run("store", "copy", "--from", f"sqlite:{source}", "--to", url)
    assert copied.rc == 0, copied
    assert PostgresCluster.password(url) not in copied.stdout + copied.stderr
    svar_part, _, registry_part = copied.stdout.partition("local registry store:")
    for part, expected, schema in ((svar_part, counts, "public"), (registry_part, registry_counts, "registry")):
        printed = {m["table"]: (int(m["source"]), int(m["target"]), m["sum"])
                   for m in re.finditer(r"^(?P<table>\w+)\s+(?P<source>\d+)\s+(?P<target>\d+)\s+(?P<sum>[0-9a-f]{64})$", part, re.M)}
        assert set(printed) == set(expected), (sorted(printed), sorted(expected))
        for table, n in expected.items():
            assert printed[table][:2] == (n, n), (table, printed[table], n)
            assert PostgresCluster.query(url, f'SELECT count(*) FROM {schema}."{table}"') == [[str(n)]], table
    assert copied.stdout.count("every count and checksum matches") == 2, copied

    again = svar.run("store", "copy", "--from", f"sqlite:{source}", "--to", url)
    assert again.rc != 0 and "not empty" in again.stderr, again
    assert PostgresCluster.query(url, "SELECT count(*) FROM patients") == [[str(counts["patients"])]]

    # The registry store's export is the same file from both engines (its own vault opens: the numbers are sealed).
    for engine, db in (("sqlite", f"sqlite:{source}"), ("postgres", url)):
        exported = svar.run("export", "--format", "csv", "--out", str(tmp_path / f"export-{engine}"),
                            env={**key_env, "SVAR_DATABASE_URL": db})
        assert exported.rc == 0, exported
    files = sorted(p.name for p in (tmp_path / "export-sqlite").glob("results-*.csv"))
    assert files and files == sorted(p.name for p in (tmp_path / "export-postgres").glob("results-*.csv"))
    for name in files:
        assert (tmp_path / "export-sqlite" / name).read_bytes() == (tmp_path / "export-postgres" / name).read_bytes(), name

    # The anonymous report, the dead-letter list and the disclosure log read the same from both engines.
    for args in (("report",), ("report", "--format", "json"), ("forwarding", "failed"),
                 ("forwarding", "disclosures", "--limit", "1000")):
        on_sqlite = svar.run(*args, env={**key_env, "SVAR_DATABASE_URL": f"sqlite:{source}"})
        on_postgres = svar.run(*args, env={**key_env, "SVAR_DATABASE_URL": url})
        assert on_sqlite.rc == 0 and on_postgres.rc == 0, (on_sqlite, on_postgres)
        assert on_sqlite.stdout == on_postgres.stdout, (args, on_sqlite.stdout[:2000], on_postgres.stdout[:2000])
    assert "answered" in svar.run("report", env={**key_env, "SVAR_DATABASE_URL": url}).stdout
    assert svar.run("forwarding", "disclosures", "--limit", "1000",
                    env={**key_env, "SVAR_DATABASE_URL": url}).stdout.count("\n") == counts["disclosure_log"]

    # The same signing key on both sides.
    sqlite_keys = svar.run("keys", "list", env={**key_env, "SVAR_DATABASE_URL": f"sqlite:{source}"})
    pg_keys = svar.run("keys", "list", env={**key_env, "SVAR_DATABASE_URL": url})
    assert sqlite_keys.rc == 0 and pg_keys.rc == 0 and sqlite_keys.stdout == pg_keys.stdout and sqlite_keys.stdout, pg_keys

    # The copied installation serves: the demo's patient link opens, the clinician sees names from the vault.
    token = api_token()
    env = {**key_env, "SVAR_DATABASE_URL": url, "SVAR_API_TOKEN": token, "SVAR_WORKERS": "none"}
    with running_server(svar_bin, tmp_path, env) as srv:
        link = PATIENT_LINK_RE.search(made.stdout)
        assert link, made.stdout
        path = re.sub(r"^http://[^/]+", "", link["url"])
        status, _, landing = http_get(srv.base + path)
        assert status == 200 and 'class="actions"' in landing, (status, landing[:600])

        clinician = CLINICIAN_RE.search(made.stdout)
        browser = Browser()
        status, _, page = browser.open(srv.base + "/login")
        csrf = CSRF_FIELD_RE.search(page).group(1)
        status, url_after, page = browser.open(srv.base + "/login", {"csrf": csrf, "username": clinician["user"],
                                                                      "password": clinician["password"]})
        assert status == 200 and url_after == srv.base + "/", (status, page[:800])
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as db:
            patient = db.execute("SELECT p.id FROM patients p JOIN courses c ON c.patient_id = p.id "
                                 "WHERE c.unit = '4208' ORDER BY p.id LIMIT 1").fetchone()[0]
        status, _, page = browser.open(srv.base + f"/pasient/{patient}")
        assert status == 200, (status, page[:500])
        # The name is sealed in the vault: it shows only if the copied vault opens with the installation's key.
        name = re.search(r'<p class="identity">[^<]*<strong>([^<]+)</strong>', page)
        assert name and re.fullmatch(r"\w+ (Demo|Prøve|Test|Eksempel|Fiktiv|Oppdiktet|Forløp|Utenkontakt)", name.group(1)), page[:2000]

        # The vault's lookup hash finds a known patient again by number: 409 naming the existing patient.
        known = srv.post("/api/v1/patients", {"identityNumber": first_demo_number(), "language": "nb"})
        assert known.status == 409 and known.json.get("id") in patient_ids(source), known
        assert PostgresCluster.query(url, "SELECT count(*) FROM patients") == [[str(counts["patients"])]]


def first_demo_number() -> str:
    """The demo's first fictional patient's number (born 1960-01-01, the first valid individual number after 100)."""
    individual = 100
    while True:
        individual += 1
        number = synthetic_number(dt.date(1960, 1, 1), individual)
        if number:
            return number


def patient_ids(source) -> set[str]:
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as db:
        return {r[0] for r in db.execute("SELECT id FROM patients")}

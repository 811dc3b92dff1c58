"""End-to-end security tests against the built `svar` binary, only on
127.0.0.1, with the repository's test peers (aiosmtpd, the FHIR registry receiver).

1. Secrets never printed: a whole installation's life with LOG_LEVEL=trace (accounts with a password and TOTP,
   patients enrolled, invited, mailed over SMTP with AUTH, answered, forwarded to a FHIR registry with a bearer
   token, wrong logins, a wrong code, forged links, bad configuration) and not one secret, identity number, name
   or e-mail address in anything any svar process printed.
3. A locked account and an unknown name look the same, and parallel guesses do not get past the lock.
4. Files at rest: 0600 files, 0700 folders, whatever the umask of the caller.
5. Transport: SVAR_SMTP_TLS, the loopback exemption, production mode refusing an http:// public URL.
6. /metrics behind SVAR_METRICS_TOKEN.
7. The failed-link limiter behind a trusted proxy (X-Forwarded-For), and without one.
(2, /health under a login flood, is in test_login_load.py.)

The helpers of the other e2e tests are reused: conftest (servers, numbers, keys), test_delivery (the SMTP peer,
the mail's plain text), test_forwarding (answering through the patient pages, the registry peer), test_serve
(a refused start), test_users (a cookie-keeping client).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import os
import random
import re
import secrets
import stat
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import (OSLO, Server, api_token, oslo_today, running_server, server_env, synthetic_numbers,
                      vault_key)
from test_delivery import SMTPPeer, plain_text
from test_forwarding import RegistryPeer, answer_link, parse_forward
from test_serve import refused_start
from test_users import Client

UNIT = "4208"
BEHANDLER, KONTAKT = "kari.behandler", "ola.kontakt"
LINK_RE = re.compile(r"/a/([A-Za-z0-9_-]{20,})")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
SENT_RE = re.compile(r"deliver at \S+: sent (\d+), retrying (\d+)")


# ---------------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------------
def secret_word(prefix: str) -> str:
    """A fresh, unmistakable secret: nothing else in any output can contain it by chance."""
    return f"{prefix}-{secrets.token_hex(10)}"


def now_text() -> str:
    """Now in Oslo, as `svar tick --now` takes it."""
    return dt.datetime.now(OSLO).strftime("%Y-%m-%dT%H:%M")


def totp(secret_b32: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s): what an authenticator app shows."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def wrong_totp(secret_b32: str) -> str:
    """A six-digit code that is none of the codes of the previous, current and next time step."""
    now = time.time()
    valid = {totp(secret_b32, now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 124000)) if c not in valid)


def login(client: Client, username: str, password: str, code: str | None = None):
    """GET /login (the CSRF cookie and field, as a browser gets them), then POST the form: (status, headers, page)."""
    _, _, page = client.request("/login")
    form = {"csrf": CSRF_FIELD.search(page).group(1), "username": username, "password": password}
    if code is not None:
        form["code"] = code
    return client.request("/login", form)


def csrf_of(client: Client) -> str:
    """The login form's CSRF field for this client (its cookie is set by the same request)."""
    _, _, page = client.request("/login")
    return CSRF_FIELD.search(page).group(1)


def add_user(svar, env, cwd, username: str, password: str, role: str, *extra: str):
    return svar.run("users", "add", "--username", username, "--password-stdin", "--role", role, "--unit", UNIT, *extra,
                    stdin=password + "\n", env=env, cwd=cwd)


def enrol_started(srv: Server, number: str, **identity) -> str:
    """A patient (with `identity`: name, email…) with a course at UNIT whose `start` was yesterday (the baseline
    invitation is due now). Returns the patient id."""
    patient = srv.enrol(number, **identity)
    srv.event(srv.start_course(patient, UNIT), "start", oslo_today() - dt.timedelta(days=1))
    return patient


def tokens_in(text: str) -> list[str]:
    return LINK_RE.findall(text)


def mailbox_tokens(folder: Path) -> list[str]:
    """The link tokens of every .eml the file mailbox holds."""
    out = []
    for path in sorted(folder.glob("*.eml")):
        out += tokens_in(plain_text(path.read_text(encoding="utf-8")))
    return out


def prepare_due_invitations(svar_bin, svar, cwd: Path, env: dict, emails: list[str], logs: Path) -> list[str]:
    """Through the API (a server with no workers): the unit and one patient per e-mail address with a baseline
    invitation due now; then `svar tick` invites them. Returns the identity numbers."""
    numbers = synthetic_numbers(len(emails), dt.date(1968, 5, 17))
    with running_server(svar_bin, cwd, {**env, "SVAR_WORKERS": "none"}, log=logs / "prepare.log") as srv:
        srv.create_unit(UNIT, "Poliklinikk")
        for number, address in zip(numbers, emails):
            enrol_started(srv, number, email=address)
    tick = svar.run("tick", "--now", now_text(), env=env, cwd=cwd)
    assert tick.rc == 0 and f"invited {len(emails)}," in tick.stdout, tick
    return numbers


def assert_delivered(result, sent: int) -> None:
    m = SENT_RE.search(result.stdout)
    assert result.rc == 0 and m and int(m.group(1)) == sent, result


@pytest.fixture
def logs(tmp_path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


# ---------------------------------------------------------------------------------------------------------------
# 1. Secrets never printed
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Transcript:
    """Everything every svar process printed, labelled by where it came from."""
    parts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, label: str, text: str) -> None:
        self.parts.append((label, text))

    def run(self, svar, *args: str, **kw):
        result = svar.run(*args, **kw)
        self.add(f"svar {' '.join(args)}", result.stdout + result.stderr)
        return result

    def refused(self, svar_bin, cwd: Path, env: dict, variable: str) -> None:
        """`svar serve` with `env` must refuse to start, naming `variable`."""
        proc = refused_start(svar_bin, cwd, env)
        self.add(f"svar serve refused ({variable})", proc.stdout + proc.stderr)
        assert proc.returncode != 0 and variable in proc.stderr, proc

    def leaks(self, needles: dict[str, str]) -> list[str]:
        found = []
        for what, needle in needles.items():
            for label, text in self.parts:
                at = text.find(needle)
                if at >= 0:
                    found.append(f"{what} in [{label}]: ...{text[max(0, at - 120):at + len(needle) + 40]!r}...")
        return found


def test_no_secret_or_personal_data_in_any_output(svar, svar_bin, tmp_path, logs):
    key = vault_key()
    raw_key = base64.b64decode(key)
    token = api_token()
    smtp_password, registry_token = secret_word("smtp-pw"), secret_word("registry-tok")
    passwords = {BEHANDLER: secret_word("pw-behandler"), KONTAKT: secret_word("pw-kontakt")}
    wrong = [secret_word("wrong-pw"), passwords[BEHANDLER] + "x", secret_word("wrong-pw")]
    wrong_bearer = secret_word("not-the-api-token")
    numbers = synthetic_numbers(3, dt.date(1959, 11, 3))
    bad_number = numbers[0][:-1] + str((int(numbers[0][-1]) + 1) % 10)     # a typo: wrong control digit
    people = [("Kari Testesen Nordmann", "kari.testesen@example.no"), ("Ola Prøvesen Fjellstad", "ola.fjellstad@example.no"),
              ("Berit Vikenes Solbakken", "berit.solbakken@example.no")]

    smtp = SMTPPeer(tmp_path, "--auth", f"svar:{smtp_password}")
    registry = RegistryPeer(tmp_path / "registry", "--token", registry_token)
    transcript = Transcript()
    try:
        env = server_env(tmp_path / "svar.sqlite", SVAR_VAULT_KEY=key, SVAR_API_TOKEN=token, LOG_LEVEL="trace",
                         SVAR_PUBLIC_URL="http://127.0.0.1",   # plain http: the session cookie goes back over loopback
                         SVAR_SMTP_URL=f"smtp://svar:{smtp_password}@127.0.0.1:{smtp.port}",
                         SVAR_SMTP_CA_FILE=str(smtp.tls / "cert.pem"), SVAR_MAIL_FROM="svar@hospital.e2e.invalid",
                         SVAR_REGISTRY_URL=registry.url, SVAR_REGISTRY_TOKEN=registry_token)
        serve_log = logs / "serve.log"
        with running_server(svar_bin, tmp_path, env, log=serve_log) as srv:
            srv.create_unit(UNIT, "Poliklinikk")
            # Accounts: the password only on standard input; the TOTP secret only in the otpauth:// URL.
            added = add_user(svar, env, tmp_path, BEHANDLER, passwords[BEHANDLER], "behandler")
            transcript.add("svar users add", added.stdout + added.stderr)
            assert added.rc == 0, added
            with_totp = add_user(svar, env, tmp_path, KONTAKT, passwords[KONTAKT], "kvarus-kontakt", "--totp")
            assert with_totp.rc == 0, with_totp
            url = re.search(r"otpauth://\S+", with_totp.stdout).group(0)
            totp_secret = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["secret"][0]
            # The URL is the one place the secret may appear: scan the rest of that command's output.
            transcript.add("svar users add --totp (without its otpauth line)", with_totp.stdout.replace(url, "") + with_totp.stderr)

            # Logins: wrong passwords, an unknown name, the right one; TOTP missing, wrong, right.
            assert login(Client(srv.base), BEHANDLER, wrong[0])[0] == 401
            assert login(Client(srv.base), BEHANDLER, wrong[1])[0] == 401
            assert login(Client(srv.base), "nobody.here", wrong[2])[0] == 401
            behandler = Client(srv.base)
            assert login(behandler, BEHANDLER, passwords[BEHANDLER])[0] == 303
            assert login(Client(srv.base), KONTAKT, passwords[KONTAKT])[0] == 401, "a TOTP account without its code"
            assert login(Client(srv.base), KONTAKT, passwords[KONTAKT], wrong_totp(totp_secret))[0] == 401
            kontakt = Client(srv.base)
            status, _, page = login(kontakt, KONTAKT, passwords[KONTAKT], totp(totp_secret))
            assert status == 303, (status, page[:500])

            # Patients through the API: identity numbers, names, e-mail addresses; a typo'd number; a wrong token.
            patients = [enrol_started(srv, n, name=name, email=address) for n, (name, address) in zip(numbers[:2], people)]
            assert srv.post("/api/v1/patients", {"identityNumber": bad_number}).status in (400, 422)
            assert srv.get("/api/v1/units", token=wrong_bearer).status == 401
            for client in (behandler, kontakt):
                assert client.request("/")[0] == 200
                assert client.request(f"/pasient/{patients[0]}")[0] == 200

            # Invite, mail over SMTP (STARTTLS + AUTH), open and answer, forward to the FHIR registry.
            tick = transcript.run(svar, "tick", "--now", now_text(), env=env, cwd=tmp_path)
            assert tick.rc == 0 and "invited 2," in tick.stdout, tick
            assert_delivered(transcript.run(svar, "deliver", env=env, cwd=tmp_path), sent=2)
            mails = smtp.messages()
            assert len(mails) == 2 and all(m["tls"] and m["auth_user"] == "svar" for m in mails), mails
            link_tokens = [t for m in mails for t in tokens_in(plain_text(m["data"]))]
            assert len(set(link_tokens)) == 2, link_tokens
            answer_link(srv.base, "/a/" + link_tokens[0], random.Random(11))
            assert srv.get(f"/a/{link_tokens[1]}", token=None).status == 200
            forged = link_tokens[1][:-10] + ("A" if link_tokens[1][-10] != "A" else "B") + link_tokens[1][-9:]
            link_tokens.append(forged)
            assert srv.get(f"/a/{forged}", token=None).status == 404
            forward = transcript.run(svar, "forward", env=env, cwd=tmp_path)
            assert forward.rc == 0 and parse_forward(forward.stdout)["forwarded"] >= 1, forward
            assert registry.resources("QuestionnaireResponse"), "nothing reached the registry"

            # One more invitation, and a delivery with the wrong SMTP password (AUTH refused: retried later).
            enrol_started(srv, numbers[2], name=people[2][0], email=people[2][1])
            assert transcript.run(svar, "tick", "--now", now_text(), env=env, cwd=tmp_path).rc == 0
            wrong_smtp = secret_word("wrong-smtp-pw")
            bad_auth = transcript.run(svar, "deliver", cwd=tmp_path,
                                      env={**env, "SVAR_SMTP_URL": f"smtp://svar:{wrong_smtp}@127.0.0.1:{smtp.port}"})
            assert_delivered(bad_auth, sent=0)
            assert len(smtp.messages()) == 2
        transcript.add("svar serve (LOG_LEVEL=trace)", serve_log.read_text(encoding="utf-8", errors="replace"))

        # Bad configuration: refused, naming the variable, never echoing the secret in it.
        # (Everything is checked at the end, so one run lists every leak.)
        # A database that is not there (after a 1 s wait, with the retries logged at trace level) and a URL that
        # does not parse: both named, neither with its password.
        transcript.refused(svar_bin, tmp_path, {**env, "SVAR_DATABASE_URL": "postgres://svar:S3cretPw@127.0.0.1:1/x",
                                                "SVAR_DATABASE_CONNECT_TIMEOUT": "1"}, "SVAR_DATABASE_URL")
        transcript.refused(svar_bin, tmp_path, {**env, "SVAR_DATABASE_URL": "postgres://svar:S3cretPw@127.0.0.1:1/"},
                           "SVAR_DATABASE_URL")
        other_key, short_key = vault_key(), base64.b64encode(secrets.token_bytes(16)).decode()
        short_token = "short-" + secrets.token_hex(4) + "x"            # 15 characters: one too few
        transcript.refused(svar_bin, tmp_path, {**env, "SVAR_VAULT_KEY": other_key}, "SVAR_VAULT_KEY")
        transcript.refused(svar_bin, tmp_path, {**env, "SVAR_VAULT_KEY": short_key}, "SVAR_VAULT_KEY")
        transcript.refused(svar_bin, tmp_path, {**env, "SVAR_API_TOKEN": short_token}, "SVAR_API_TOKEN")
        bad_smtp = transcript.run(svar, "deliver", cwd=tmp_path,
                                  env={**env, "SVAR_SMTP_URL": f"http://svar:{smtp_password}@127.0.0.1:{smtp.port}"})
        assert bad_smtp.rc == 1 and "SVAR_SMTP_URL" in bad_smtp.stderr, bad_smtp
        bad_registry = transcript.run(svar, "forward", cwd=tmp_path, env={**env, "SVAR_REGISTRY_TOKEN": registry_token + " x"})
        assert bad_registry.rc == 1 and "SVAR_REGISTRY_TOKEN" in bad_registry.stderr, bad_registry
    finally:
        smtp.stop()
        registry.stop()
        registry.kill()

    needles = {
        "vault key (base64)": key, "vault key (hex)": raw_key.hex(), "vault key (HEX)": raw_key.hex().upper(),
        "vault key (base64url)": base64.urlsafe_b64encode(raw_key).decode().rstrip("="),
        "other vault key": other_key, "short vault key": short_key,
        "API token": token, "wrong bearer token": wrong_bearer, "short API token": short_token,
        "SMTP password": smtp_password, "wrong SMTP password": wrong_smtp, "registry token": registry_token,
        "database password": "S3cretPw", "TOTP secret": totp_secret,
        **{f"password of {u}": p for u, p in passwords.items()},
        **{f"wrong password {i}": p for i, p in enumerate(wrong)},
        **{f"link token {i}": t for i, t in enumerate(link_tokens)},
        **{f"identity number {i}": n for i, n in enumerate(numbers + [bad_number])},
        **{f"name {i}": name for i, (name, _) in enumerate(people)},
        **{f"family name {i}": name.split()[-1] for i, (name, _) in enumerate(people)},
        **{f"e-mail {i}": address for i, (_, address) in enumerate(people)},
    }
    serve_text = dict(transcript.parts)["svar serve (LOG_LEVEL=trace)"]
    assert " trace " in serve_text, f"the server did not log at trace level, so the scan proves little:\n{serve_text[:2000]}"
    leaks = transcript.leaks(needles)
    assert not leaks, f"{len(leaks)} secret(s) or personal data printed:\n" + "\n".join(leaks)


# ---------------------------------------------------------------------------------------------------------------
# 3. A locked account and an unknown name give the same answer; parallel guesses do not get past the lock
# ---------------------------------------------------------------------------------------------------------------
PASSWORD = "correct horse battery staple"
UNKNOWN = "ukjent.person"
TIME_RE = re.compile(r"\b(\d\d):(\d\d)\b")


@pytest.fixture
def login_server(svar, start_server, tmp_path):
    """A server (plain http public URL, so the cookie jar sends the CSRF cookie back) with one behandler account."""
    env = server_env(tmp_path / "svar.sqlite", SVAR_PUBLIC_URL="http://127.0.0.1")
    srv = start_server(env)
    srv.create_unit(UNIT, "Poliklinikk")
    added = add_user(svar, env, tmp_path, BEHANDLER, PASSWORD, "behandler")
    assert added.rc == 0, added
    return srv


def post_login(client: Client, csrf: str, username: str, password: str, headers: dict[str, str] | None = None):
    """One login POST with a known CSRF field: (status, page, seconds)."""
    started = time.monotonic()
    status, _, page = client.request("/login", {"csrf": csrf, "username": username, "password": password}, headers)
    return status, page, time.monotonic() - started


def without_name(page: str, username: str) -> tuple[str, list[int]]:
    """The page with the user name taken out and clock times (kl. HH:MM) replaced; the times in minutes."""
    page = page.replace(html.escape(username, quote=True), "NAME").replace(username, "NAME")
    minutes = [int(h) * 60 + int(m) for h, m in TIME_RE.findall(page)]
    return TIME_RE.sub("HH:MM", page), minutes


def test_a_locked_account_looks_like_an_unknown_name(login_server):
    client = Client(login_server.base)
    csrf = csrf_of(client)
    real, unknown = [], []
    for i in range(7):                     # interleaved, so both names reach their lock within a second or two
        real.append(post_login(client, csrf, BEHANDLER, f"wrong password {i}"))
        unknown.append(post_login(client, csrf, UNKNOWN, f"wrong password {i}"))
    statuses = ([s for s, _, _ in real], [s for s, _, _ in unknown])
    assert statuses[0] == statuses[1], f"the answers tell a real account from an unknown name: {statuses}"
    assert statuses[0][0] == 401 and statuses[0].count(401) <= 5, statuses
    last_real = post_login(client, csrf, BEHANDLER, "wrong again")
    last_unknown = post_login(client, csrf, UNKNOWN, "wrong again")
    right_password = post_login(client, csrf, BEHANDLER, PASSWORD)     # a locked account refuses even its password
    assert (last_real[0], last_unknown[0], right_password[0]) == (429, 429, 429), (last_real[0], last_unknown[0], right_password[0])
    real_text, real_times = without_name(last_real[1], BEHANDLER)
    unknown_text, unknown_times = without_name(last_unknown[1], UNKNOWN)
    assert real_text == unknown_text, "the locked page differs between a real account and an unknown name"
    assert without_name(right_password[1], BEHANDLER)[0] == unknown_text, "the right password on a locked account shows more"
    assert all(abs(a - b) <= 1 for a, b in zip(real_times, unknown_times)), (real_times, unknown_times)
    # No bcrypt once locked: the locked answers come much faster than a refused password (the same for both).
    refusals = sorted(seconds for status, _, seconds in real + unknown if status == 401)
    bcrypt_seconds = refusals[len(refusals) // 2]
    for name, (_, _, seconds) in {"real": last_real, "unknown": last_unknown, "right password": right_password}.items():
        assert seconds < bcrypt_seconds / 2, f"locked answer for the {name} name took {seconds:.3f} s (a refusal {bcrypt_seconds:.3f} s)"


def test_parallel_guesses_get_no_more_than_five_refusals(login_server):
    clients = [Client(login_server.base) for _ in range(20)]
    forms = [csrf_of(c) for c in clients]
    start = threading.Barrier(len(clients), timeout=30)
    statuses: list[int] = [0] * len(clients)

    def guess(i: int) -> None:
        start.wait()
        statuses[i] = post_login(clients[i], forms[i], BEHANDLER, f"guess {i}")[0]

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a login did not answer within 120 s"
    # 401 is the wrong-password refusal (bcrypt ran); 429 the lock; 503 would be a hasher that is busy.
    assert set(statuses) <= {401, 429, 503} and 429 in statuses, statuses
    assert statuses.count(401) <= 5, f"{statuses.count(401)} wrong-password refusals before the lock: {sorted(statuses)}"


# ---------------------------------------------------------------------------------------------------------------
# 4. Files at rest: 0600 files, 0700 folders, even when started with umask 022
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    """{path relative to root (folders end with /): permission bits} of everything below root."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = str(path.relative_to(root)) + ("/" if name in dirs else "")
            out[relative] = stat.S_IMODE(path.lstat().st_mode)
    return out


def test_files_at_rest_are_private_whatever_the_umask(svar, svar_bin, tmp_path, logs, umask_022):
    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)            # the test's own folders (0755 under umask 022)
    env = server_env(run / "data" / "svar.sqlite", SVAR_MAILBOX_DIR=str(run / "mail" / "box"))
    prepare_due_invitations(svar_bin, svar, run, env, ["kari@example.no", "ola@example.no"], logs)
    assert_delivered(svar.run("deliver", env=env, cwd=run), sent=2)
    seen: dict[str, int] = {}
    # A server holding both databases open (the forwarder worker uses the local registry store), so their
    # -wal and -shm files exist while the CLI passes run beside it.
    with running_server(svar_bin, run, {**env, "SVAR_WORKERS": "forwarder"}, log=logs / "serve.log") as srv:
        answer_link(srv.base, "/a/" + mailbox_tokens(run / "mail" / "box")[0], random.Random(4))
        forward = svar.run("forward", env=env, cwd=run)
        assert forward.rc == 0, forward
        export = svar.run("export", "--format", "csv", "--out", str(run / "exports"), env=env, cwd=run)
        assert export.rc == 0, export
        seen.update(modes(run))
    seen.update(modes(run))
    for expected in ["data/svar.sqlite", "data/svar.sqlite-wal", "data/svar.sqlite-shm", "data/registry.sqlite", "mail/", "mail/box/", "exports/"]:
        assert expected in seen, f"{expected} was never seen: {sorted(seen)}"
    assert any(p.endswith(".eml") for p in seen) and any(p.startswith("exports/") and not p.endswith("/") for p in seen), sorted(seen)
    created = {p: m for p, m in seen.items() if p != "data/"}
    wrong = {p: oct(m) for p, m in created.items() if m != (0o700 if p.endswith("/") else 0o600)}
    assert not wrong, f"not private (files must be 0600, folders 0700): {wrong}"


# ---------------------------------------------------------------------------------------------------------------
# 5. Transport: SMTP TLS, the loopback exemption, production mode and an http:// public URL
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def plain_smtp(tmp_path):
    """aiosmtpd on loopback offering no STARTTLS and no AUTH. (SMTPPeer always passes --tls-dir; a second, empty
    --tls-dir overrides it, and the peer offers TLS only for a non-empty one.)"""
    peer = SMTPPeer(tmp_path, "--tls-dir", "")
    yield peer
    peer.stop()


@pytest.mark.parametrize("tls", ["required", None], ids=["SVAR_SMTP_TLS=required", "loopback-default"])
def test_smtp_tls(svar, svar_bin, tmp_path, logs, plain_smtp, tls):
    env = server_env(tmp_path / "svar.sqlite", SVAR_SMTP_URL=f"smtp://127.0.0.1:{plain_smtp.port}",
                     SVAR_MAIL_FROM="svar@hospital.e2e.invalid", **({"SVAR_SMTP_TLS": tls} if tls else {}))
    prepare_due_invitations(svar_bin, svar, tmp_path, env, ["kari@example.no"], logs)
    result = svar.run("deliver", env=env, cwd=tmp_path)
    if tls == "required":
        sent = SENT_RE.search(result.stdout)
        assert sent is None or int(sent.group(1)) == 0, result      # a retry later, or the command fails: not sent
        assert "tls" in (result.stdout + result.stderr).lower(), f"no clear error about TLS:\n{result}"
        assert plain_smtp.messages() == [], "a message went out in clear although TLS was required"
    else:
        assert_delivered(result, sent=1)                  # STARTTLS only tried on loopback
        assert [m["tls"] for m in plain_smtp.messages()] == [False]


def test_a_bad_smtp_tls_value_names_the_variable(svar, tmp_path):
    env = server_env(tmp_path / "svar.sqlite", SVAR_SMTP_URL="smtp://127.0.0.1:25", SVAR_MAIL_FROM="svar@example.no",
                     SVAR_SMTP_TLS="sometimes")
    result = svar.run("deliver", env=env, cwd=tmp_path)
    assert result.rc == 1 and "SVAR_SMTP_TLS" in result.stderr, result


@pytest.mark.parametrize("mode", ["production", None], ids=["SVAR_MODE=production", "SVAR_MODE-unset"])
def test_production_refuses_a_plain_http_public_url(svar_bin, tmp_path, mode):
    env = server_env(tmp_path / "svar.sqlite", SVAR_PUBLIC_URL="http://svar.example.no")
    if mode:
        env["SVAR_MODE"] = mode
    else:
        del env["SVAR_MODE"]
    proc = refused_start(svar_bin, tmp_path, env)
    assert proc.returncode != 0 and "SVAR_PUBLIC_URL" in proc.stderr, proc


@pytest.mark.parametrize("url", ["https://svar.example.no", "http://127.0.0.1", "http://127.0.0.1:8080/svar", "http://[::1]:8080"])
def test_production_starts_with_https_or_a_loopback_public_url(start_server, tmp_path, url):
    srv = start_server(server_env(tmp_path / "svar.sqlite", SVAR_MODE="production", SVAR_PUBLIC_URL=url))
    assert srv.get("/health", token=None).status == 200


# ---------------------------------------------------------------------------------------------------------------
# 6. /metrics behind SVAR_METRICS_TOKEN
# ---------------------------------------------------------------------------------------------------------------
def test_metrics_need_the_metrics_token_when_it_is_set(start_server, tmp_path):
    metrics_token = secret_word("metrics")
    srv = start_server(server_env(tmp_path / "svar.sqlite", SVAR_METRICS_TOKEN=metrics_token))
    assert srv.get("/metrics", token=None).status == 401
    assert srv.get("/metrics", token="wrong-" + metrics_token).status == 401
    assert srv.get("/metrics", token=srv.token).status == 401, "the API token is not the metrics token"
    reply = srv.get("/metrics", token=metrics_token)
    assert reply.status == 200 and "svar_instruments_loaded" in reply.text, reply
    assert srv.get("/health", token=None).status == 200, "/health stays public"


def test_metrics_are_public_without_the_metrics_token(start_server, tmp_path):
    srv = start_server(server_env(tmp_path / "svar.sqlite"))
    reply = srv.get("/metrics", token=None)
    assert reply.status == 200 and "svar_instruments_loaded" in reply.text, reply


# ---------------------------------------------------------------------------------------------------------------
# 7. The failed-link limiter behind a trusted proxy
# ---------------------------------------------------------------------------------------------------------------
JUNK_TRIES = 40


@pytest.fixture(scope="module")
def mailed_link(svar, svar_bin, tmp_path_factory):
    """A database with one invited patient and the valid link token mailed to them (the file mailbox)."""
    cwd = tmp_path_factory.mktemp("link-limiter")
    logs = cwd / "logs"
    logs.mkdir()
    env = server_env(cwd / "svar.sqlite", SVAR_MAILBOX_DIR=str(cwd / "box"))
    prepare_due_invitations(svar_bin, svar, cwd, env, ["kari@example.no"], logs)
    assert_delivered(svar.run("deliver", env=env, cwd=cwd), sent=1)
    [token] = mailbox_tokens(cwd / "box")
    return {"cwd": cwd, "env": env, "token": token}


def open_link(srv: Server, token: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return srv.get(f"/a/{token}", token=None, headers=headers).status


def junk_until_refused(srv: Server, forwarded_for: str | None, tag: str) -> list[int]:
    """Junk link tokens from one client until it is refused (at most JUNK_TRIES); the statuses seen."""
    statuses = []
    for i in range(JUNK_TRIES):
        statuses.append(open_link(srv, f"junk-{tag}-{i:02d}", forwarded_for))
        if statuses[-1] != 404:
            break
    first_refusal = statuses.index(429) if 429 in statuses else None
    assert first_refusal is not None and first_refusal > 0 and set(statuses[:first_refusal]) == {404}, \
        f"junk links from {forwarded_for or 'the peer'}: expected 404s and then 429, got {statuses}"
    return statuses


@pytest.fixture
def link_server(svar_bin, mailed_link, tmp_path):
    """Factory: a server on the mailed link's database with extra environment (each with a fresh limiter)."""
    started: list[Server] = []

    def start(**extra: str) -> Server:
        srv = Server(svar_bin, mailed_link["cwd"], tmp_path / f"serve-{len(started)}.log", env={**mailed_link["env"], **extra})
        started.append(srv)
        return srv.wait_until_healthy()

    yield start
    for srv in started:
        srv.kill()


def test_link_limiter_counts_the_forwarded_client_behind_a_trusted_proxy(link_server, mailed_link):
    srv = link_server(SVAR_TRUSTED_PROXIES="127.0.0.1/32")
    junk_until_refused(srv, "203.0.113.7", "a")
    assert open_link(srv, "junk-a-more", "203.0.113.7") == 429
    assert open_link(srv, mailed_link["token"], "203.0.113.7") == 200, "a valid link is never limited"
    assert open_link(srv, "junk-b-0", "198.51.100.9") == 404, "another client is not blocked by the first one's failures"
    # A client cannot hide behind addresses it writes itself: the right-most untrusted address counts.
    assert open_link(srv, "junk-c-0", "198.51.100.9, 203.0.113.7") == 429
    assert open_link(srv, "junk-d-0", "198.51.100.10") == 404


def test_link_limiter_groups_ipv6_clients_by_64(link_server):
    srv = link_server(SVAR_TRUSTED_PROXIES="127.0.0.1/32")
    junk_until_refused(srv, "2001:db8:1:2::1", "v6")
    assert open_link(srv, "junk-v6-same", "2001:db8:1:2:ffff:ffff:ffff:fffe") == 429, "the same /64"
    assert open_link(srv, "junk-v6-other", "2001:db8:1:3::1") == 404, "another /64"


def test_link_limiter_ignores_forwarded_for_from_an_untrusted_peer(link_server, mailed_link):
    srv = link_server()                                 # no SVAR_TRUSTED_PROXIES
    junk_until_refused(srv, "203.0.113.7", "a")
    assert open_link(srv, "junk-b-0", "198.51.100.9") == 429, "X-Forwarded-For from an untrusted peer must be ignored"
    assert open_link(srv, "junk-c-0") == 429
    assert open_link(srv, mailed_link["token"]) == 200, "a valid link is never limited"


def test_oversized_request_headers_are_refused_and_the_server_goes_on(start_server, tmp_path):
    """Request headers are limited (16 KiB in all): a bloated request is refused, and nothing else suffers."""
    import http.client
    srv = start_server(server_env(tmp_path / "svar.sqlite"))
    host, port = urllib.parse.urlsplit(srv.base).hostname, urllib.parse.urlsplit(srv.base).port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest("GET", "/health")
        for i in range(3):
            connection.putheader(f"X-Padding-{i}", "x" * 8000)
        connection.endheaders()
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        status = None          # the server may close the connection instead of answering
    finally:
        connection.close()
    assert status != 200, "24 KB of headers were accepted"
    assert srv.get("/health", token=None).status == 200


def test_idle_and_half_sent_connections_are_closed_after_the_idle_timeout(start_server, tmp_path):
    """SVAR_HTTP_IDLE_TIMEOUT closes a connection that sends nothing, or stops in the middle of its headers (a
    slow client holding connections open), while a normal client is served throughout."""
    import socket
    import time
    srv = start_server(server_env(tmp_path / "svar.sqlite", SVAR_HTTP_IDLE_TIMEOUT="2"))
    host, port = urllib.parse.urlsplit(srv.base).hostname, urllib.parse.urlsplit(srv.base).port

    def seconds_until_closed(first_bytes: bytes) -> float:
        with socket.create_connection((host, port), timeout=15) as sock:
            sock.sendall(first_bytes)
            started = time.monotonic()
            while True:
                try:
                    chunk = sock.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    return time.monotonic() - started

    silent = seconds_until_closed(b"")
    half_sent = seconds_until_closed(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert 1.0 <= silent < 10, f"an idle connection was closed after {silent:.1f} s (timeout 2 s)"
    assert 1.0 <= half_sent < 10, f"a half-sent request was closed after {half_sent:.1f} s (timeout 2 s)"
    assert srv.get("/health", token=None).status == 200


def test_a_bad_idle_timeout_is_refused_naming_the_variable(svar_bin, tmp_path):
    result = refused_start(svar_bin, tmp_path, server_env(tmp_path / "svar.sqlite", SVAR_HTTP_IDLE_TIMEOUT="0"))
    assert result.returncode != 0
    assert "SVAR_HTTP_IDLE_TIMEOUT" in result.stderr and "1 to 3600" in result.stderr, result.stderr

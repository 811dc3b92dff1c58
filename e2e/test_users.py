"""`svar users add|disable` (issue #7, a contract) and login through the real server: the password only on
standard input, errors naming the option, bcrypt in the database, a disabled account locked out at once."""
from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import query, running_server, server_env

PASSWORD = "correct horse battery staple"


class Client:
    """A cookie-keeping HTTP client that does not follow redirects (to see the 303s)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self.NoRedirect())

    def request(self, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=data, headers=headers or {}), timeout=10) as reply:
                return reply.status, reply.headers, reply.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode()

    def login(self, username: str, password: str):
        _, _, page = self.request("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return self.request("/login", {"csrf": csrf, "username": username, "password": password})


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    # Plain http here, so the cookies are not marked Secure (a Secure cookie is never sent back over http).
    return server_env(tmp_path / "svar.sqlite", SVAR_PUBLIC_URL="http://127.0.0.1")


def add(svar, env, tmp_path, *args: str, password: str = PASSWORD):
    return svar.run("users", "add", *args, stdin=password + "\n", env=env, cwd=tmp_path)


def test_users_add_and_disable_follow_the_contract(svar, svar_bin, tmp_path, env):
    with running_server(svar_bin, tmp_path, env) as srv:
        srv.create_unit("4208", "Poliklinikk")
        ok = add(svar, env, tmp_path, "--username", "kari", "--password-stdin", "--role", "behandler", "--unit", "4208")
        assert ok.rc == 0 and ok.stdout.strip() == "user kari added (behandler, units 4208)", ok
        assert PASSWORD not in ok.stdout + ok.stderr
        stored = query(tmp_path / "svar.sqlite", "SELECT password_hash FROM users WHERE username = 'kari'")[0][0]
        assert stored.startswith("$2") and PASSWORD not in stored, "bcrypt, never the password"
        client = Client(srv.base)
        status, headers, _ = client.login("kari", PASSWORD)
        assert status == 303 and headers["Location"] == "/"
        status, _, page = client.request("/")
        assert status == 200 and "Poliklinikk (4208)" in page
        assert svar.run("users", "disable", "kari", env=env, cwd=tmp_path).rc == 0
        status, headers, _ = client.request("/")
        assert status == 303 and headers["Location"].startswith("/login"), "the session ended with the account"
        status, _, _ = Client(srv.base).login("kari", PASSWORD)
        assert status == 401
        log = srv.logs()
    assert PASSWORD not in log


@pytest.mark.parametrize("args,password,named", [
    (["--username", "ola", "--role", "behandler", "--unit", "4208"], PASSWORD, "--password-stdin"),
    (["--username", "ola", "--password-stdin", "--role", "doctor", "--unit", "4208"], PASSWORD, "--role"),
    (["--username", "ola", "--password-stdin", "--role", "behandler", "--unit", "9999"], PASSWORD, "--unit"),
    (["--username", "ola", "--password-stdin", "--role", "behandler"], PASSWORD, "--unit"),
    (["--username", "o", "--password-stdin", "--role", "behandler", "--unit", "4208"], PASSWORD, "--username"),
    (["--username", "ola", "--password-stdin", "--role", "behandler", "--unit", "4208"], "short", "password"),
])
def test_users_add_refuses_bad_input_naming_the_option(svar, svar_bin, tmp_path, env, args, password, named):
    with running_server(svar_bin, tmp_path, env) as srv:
        srv.create_unit("4208", "Poliklinikk")
    result = add(svar, env, tmp_path, *args, password=password)
    assert result.rc == 1 and named in result.stderr, result
    assert query(tmp_path / "svar.sqlite", "SELECT count(*) FROM users")[0][0] == 0


def test_a_second_account_with_the_same_name_and_disabling_a_stranger_are_refused(svar, svar_bin, tmp_path, env):
    with running_server(svar_bin, tmp_path, env) as srv:
        srv.create_unit("4208", "Poliklinikk")
    assert add(svar, env, tmp_path, "--username", "kari", "--password-stdin", "--role", "registry-admin").rc == 0
    again = add(svar, env, tmp_path, "--username", "kari", "--password-stdin", "--role", "behandler", "--unit", "4208")
    assert again.rc == 1 and "--username" in again.stderr and "exists" in again.stderr, again
    stranger = svar.run("users", "disable", "nobody", env=env, cwd=tmp_path)
    assert stranger.rc == 1 and "nobody" in stranger.stderr, stranger


def test_totp_prints_an_authenticator_url(svar, svar_bin, tmp_path, env):
    with running_server(svar_bin, tmp_path, env) as srv:
        srv.create_unit("4208", "Poliklinikk")
    result = add(svar, env, tmp_path, "--username", "kari", "--password-stdin", "--role", "behandler", "--unit", "4208", "--totp")
    assert result.rc == 0 and re.search(r"authenticator: otpauth://totp/kari\?secret=[A-Z2-7]+", result.stdout), result
    sealed = query(tmp_path / "svar.sqlite", "SELECT totp_sealed FROM users WHERE username = 'kari'")[0][0]
    secret = re.search(r"secret=([A-Z2-7]+)", result.stdout).group(1)
    assert sealed and secret.encode() not in bytes(sealed), "the TOTP secret is stored sealed"

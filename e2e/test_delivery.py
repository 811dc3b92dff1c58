"""End-to-end delivery (issue #5): `svar serve` with its workers sends the invitation through a real SMTP
server on loopback (aiosmtpd with STARTTLS, AUTH and a self-signed CA trusted explicitly), the link in the
mail opens the patient's landing page, and `svar deliver` reports what it did. Nothing identifying or secret
reaches the log."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (free_port, http_get, oslo_today, running_server, server_env, synthetic_numbers)

PEERS = Path(__file__).parent / "peers"


class SMTPPeer:
    def __init__(self, folder: Path, *flags: str) -> None:
        self.port = free_port()
        self.record = folder / "smtp.ndjson"
        self.tls = folder / "tls"
        self.out = folder / "smtp.out"
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen([sys.executable, str(PEERS / "smtp_server.py"), "--port", str(self.port),
                                          "--record", str(self.record), "--tls-dir", str(self.tls), *flags],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while f"READY {self.port}" not in self.out.read_text():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.out.read_text()
            time.sleep(0.05)

    def messages(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def plain_text(raw: str) -> str:
    message = email.message_from_string(raw, policy=email.policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp_peer(tmp_path):
    peer = SMTPPeer(tmp_path, "--auth", "svar:e2e-secret")
    yield peer
    peer.stop()


def test_serve_sends_the_invitation_by_smtp_and_its_link_opens(svar, svar_bin, tmp_path, smtp_peer):
    number = synthetic_numbers(1)[0]
    env = server_env(tmp_path / "svar.sqlite", SVAR_WORKERS="scheduler,outbox",
                     SVAR_SMTP_URL=f"smtp://svar:e2e-secret@127.0.0.1:{smtp_peer.port}",
                     SVAR_SMTP_CA_FILE=str(smtp_peer.tls / "cert.pem"), SVAR_MAIL_FROM="svar@hospital.e2e.invalid")
    with running_server(svar_bin, tmp_path, env) as srv:
        env["SVAR_PUBLIC_URL"] = srv.base
        srv.ok("POST", "/api/v1/units", {"resh": "4208", "name": "Poliklinikk"})
        patient = srv.enrol(number, email="kari.nordmann@example.no", language="nn")
        course = srv.start_course(patient, "4208")
        srv.event(course, "start", oslo_today() - dt.timedelta(days=1))   # its window opened yesterday 09:00
        tick = svar.run("tick", env=env, cwd=tmp_path)                    # (the server's own pass runs each minute)
        assert tick.rc == 0 and "invited 1" in tick.stdout, tick
        deadline = time.monotonic() + 40                                  # the delivery worker runs every 10 s
        while not smtp_peer.messages() and time.monotonic() < deadline:
            time.sleep(0.5)
        messages = smtp_peer.messages()
        assert len(messages) == 1, srv.logs()
        log = srv.logs()
    sent = messages[0]
    assert sent["tls"] and sent["auth_user"] == "svar" and sent["rcpt_tos"] == ["kari.nordmann@example.no"]
    assert re.fullmatch(r"<[0-9a-f-]{36}\.0\.1@hospital\.e2e\.invalid>", sent["message_id"]), sent["message_id"]
    text = plain_text(sent["data"])
    assert "spørjeskjema" in text, text                                   # nynorsk, the patient's language
    link = re.search(r"https://svar\.e2e\.invalid/base/a/\S+", text).group(0)
    # Nothing personal or secret in the log: no address, identity number, link token or SMTP password.
    token = link.rsplit("/", 1)[1]
    for secret in ["kari.nordmann@example.no", number, token, "e2e-secret"]:
        assert secret not in log, f"{secret!r} in the log"
    # The link opens the patient's landing page (same database, a server whose public URL is the link's base).
    env2 = dict(env, SVAR_WORKERS="none")
    with running_server(svar_bin, tmp_path, env2) as srv2:
        status, _, body = http_get(srv2.base + "/a/" + token)
        assert status == 200, body[:300]


def test_deliver_command_reports_and_uses_the_file_mailbox(svar, tmp_path):
    env = server_env(tmp_path / "svar.sqlite", SVAR_MAILBOX_DIR=str(tmp_path / "box"))
    result = svar.run("deliver", "--now", "2027-05-01T09:00", env=env, cwd=tmp_path)
    assert result.rc == 0, result
    assert result.stdout.strip() == "deliver at 2027-05-01T09:00:00+02:00: sent 0, retrying 0, next channel 0, undeliverable 0, skipped 0"


@pytest.mark.parametrize("variable,value,words", [
    ("SVAR_SMTP_URL", "http://mail.example.no", "SVAR_SMTP_URL"),
    ("SVAR_SMS_URL", "http://sms.example.com/send", "SVAR_SMS_URL"),
    ("SVAR_SMS_BODY", '{"to": {{to}}}', "SVAR_SMS_BODY"),
    ("SVAR_CHANNEL_ORDER", "sms,fax", "SVAR_CHANNEL_ORDER"),
])
def test_bad_delivery_settings_stop_with_the_variable_named(svar, tmp_path, variable, value, words):
    extra = {"SVAR_SMS_URL": "https://sms.example.com/send"} if variable == "SVAR_SMS_BODY" else {}
    env = server_env(tmp_path / "svar.sqlite", **extra, **{variable: value}, SVAR_MAIL_FROM="svar@example.no")
    result = svar.run("deliver", env=env, cwd=tmp_path)
    assert result.rc == 1 and words in result.stderr, result

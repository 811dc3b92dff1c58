"""Scale-out on PostgreSQL: two `svar serve` instances on one database, one of them SIGKILLed three times while
invitations go out by SMTP and results are forwarded to a FHIR registry, and still every invitation is e-mailed
once, every answered instrument reaches the registry once, and no invitation is doubled.

What runs (all on 127.0.0.1, every peer a real server):
- a private PostgreSQL cluster (`pgcluster.postgres`) and a fresh database of the unprivileged role;
- the SMTP peer (aiosmtpd, STARTTLS with a CA trusted through SVAR_SMTP_CA_FILE), which records every message it
  accepts with its Message-ID, and the FHIR R4 registry peer (transaction Bundles of conditional creates, a
  bearer token, a SQLite store that logs every POST);
- instances A and B of `svar serve` on different ports with the same SVAR_DATABASE_URL, vault key and API token,
  both running the delivery worker and the forwarder (SVAR_WORKERS=outbox,forwarder: the scheduler is the two
  `svar tick` processes below, so their reports can be added up).

What happens:
1. 300 patients (synthetic numbers, an e-mail address each) are enrolled with a course and a `start` event of
   yesterday (the baseline invitation: RAND-36 + EQ-5D-5L), the API calls alternating between A and B (the
   patient on one, the course on the other, the event on the first again).
2. `svar tick --now T` is started twice at the same moment with the same T, once with A's and once with B's
   settings: together they must invite 300, and the database must hold one baseline invitation per course, one
   `invited` transition and one outbox row per invitation.
3. The delivery workers of both instances send. Meanwhile A is SIGKILLed and restarted on its port three times:
   the first kill when a random number of messages has arrived at the SMTP peer, the others at random moments
   after each restart (the test checks that kills landed while invitations were unsent and while forwards were
   queued). As soon as a patient's e-mail arrives, the patient (three in four; the rest answer late, after the
   drain below) opens the link in that e-mail and answers every question through the HTML pages of A (even
   patients) or B (odd patients), waiting for A when it is down, so the forwarders of both instances forward
   while A is being killed.
4. Drain. A killed instance's claims keep a 10-minute lease (DeliveryPolicy/ForwardingPolicy.lease) before any
   other pass may take them; instead of waiting, the test stops both instances (SIGTERM, exit 0), runs
   `svar deliver --now T+11min`, restarts both, lets the late patients answer through their e-mails, waits for
   the forwarders, stops both again and runs `svar forward --now T+11min`.
5. Checks: every invitation outbox row is e-mailed under exactly one Message-ID, the one Svar recorded
   (`<outbox-id.channel.attempt@domain>`), and is `sent` with exactly one copy at the SMTP peer — except the
   messages in doubt: SMTP cannot be exactly-once across a SIGKILL that falls between the server's 250 and
   Svar's commit, so each kill may leave at most one message that went out again under the same Message-ID (the
   same e-mail to the recipient's software) or that is recorded "sending was interrupted (the message may have
   gone out)". Their number (at most one per kill) is checked and printed. Every response (600: two instruments per patient) has one `sent` forward and one
   disclosure-log row, and the registry holds exactly one QuestionnaireResponse per response (no more, none
   unknown), 300 Patients and the Observations of every stored score; POSTs per response are counted and
   printed, so a resend after a kill shows (the registry's conditional create answers it with "existing").
   One `svar deliver` pass sends everything due at its instant (DeliveryPass.run "runs until nothing more is
   due"). No serve log has an error line. Every check is collected, so one run reports all that fail.

The random seed is printed first; SCALEOUT_SEED=N repeats a run's choices (the timing of the processes still
varies). The figures (sent, answered, forwarded, resent, kills and what each one interrupted) are printed.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import email
import email.policy
import html
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conftest import (OSLO, REPO, Api, api_token, clean_env, free_port, http_get, oslo_today, parse_tick,
                      synthetic_numbers, vault_key)
from pgcluster import PostgresCluster, postgres  # noqa: F401  (the session fixture)
from test_delivery import SMTPPeer
from test_forwarding import (CSRF_RE, FORM_RE, NUMBER_RE, RADIO_RE, REGISTRY_TOKEN, RESPONSE_SYSTEM, random_number,
                             PatientBrowser, RegistryPeer)

PATIENTS = 300
KILLS = 3
LATE_SHARE = 0.25            # patients who answer only after the drain (their e-mail may be sent twice by then)
ANSWER_THREADS = 6
UNIT = "4720"
MAIL_DOMAIN = "scaleout.e2e.invalid"
PUBLIC_URL = "https://svar.scaleout.e2e.invalid"
LEASE_PASSED = dt.timedelta(minutes=11)    # DeliveryPolicy.lease = ForwardingPolicy.lease = 600 s
PHASE_DEADLINE = 150.0
MESSAGE_ID_RE = re.compile(r"^<([0-9a-fA-F-]{36})\.(\d+)\.(\d+)@" + re.escape(MAIL_DOMAIN) + r">$")
LINK_RE = re.compile(re.escape(PUBLIC_URL) + r"(/a/[A-Za-z0-9_-]+)")
DELIVER_RE = re.compile(r"^deliver at (\S+): sent (\d+), retrying (\d+), next channel (\d+), undeliverable (\d+), "
                        r"skipped (\d+)$", re.M)
FORWARD_RE = re.compile(r"^forward at (\S+): forwarded (\d+), retrying (\d+), dead-lettered (\d+), erased (\d+)$", re.M)
LOG_LEVEL_RE = re.compile(r"^\S+ (trace|debug|info|notice|warning|error|critical) ", re.M)
ANSWERED_HEADINGS = [json.loads((REPO / "web" / "i18n" / f"{lang}.json").read_text("utf-8"))["answeredHeading"]
                     for lang in ("nb", "nn", "en")]


def oslo_now() -> dt.datetime:
    return dt.datetime.now(OSLO).replace(microsecond=0)


def at(instant: dt.datetime) -> str:
    """An instant as `svar tick/deliver/forward --now` takes it (Oslo wall-clock time)."""
    return instant.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------------------------------------------------------
# One `svar serve` instance on a fixed port, killed and restarted any number of times
# ---------------------------------------------------------------------------------------------------------------
class Instance:
    def __init__(self, name: str, binary: str, cwd: Path, env: dict[str, str]) -> None:
        self.name, self.binary, self.cwd = name, binary, cwd
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(env, SVAR_PORT=str(self.port))
        self.api = Api(self.base, env["SVAR_API_TOKEN"])
        self.proc: subprocess.Popen | None = None
        self.logs: list[Path] = []
        self.up = threading.Event()

    def start(self) -> float:
        """Starts a new incarnation on the same port; returns the seconds until /health answered 200."""
        log = self.cwd / f"serve-{self.name}-{len(self.logs) + 1}.log"
        self.logs.append(log)
        started = time.monotonic()
        with open(log, "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen([self.binary, "serve"], cwd=self.cwd, env=clean_env(self.env),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = started + 30
        while True:
            assert self.proc.poll() is None, f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}"
            try:
                if http_get(self.base + "/health", timeout=2)[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            assert time.monotonic() < deadline, f"{self.name} did not become healthy:\n{self.log_text()[-3000:]}"
            time.sleep(0.05)
        self.up.set()
        return time.monotonic() - started

    def kill(self) -> None:
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM; the exit status (None if it did not exit within 30 s, then it is killed)."""
        self.up.clear()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None

    def log_text(self) -> str:
        return "".join(f"=== {p.name} ===\n{p.read_text('utf-8', 'replace')}" for p in self.logs if p.exists())


# ---------------------------------------------------------------------------------------------------------------
# The SMTP peer's record, read as it grows, every message stamped with when the test first saw it
# ---------------------------------------------------------------------------------------------------------------
class MailWatch:
    def __init__(self, record: Path, t0: float) -> None:
        self.record, self.t0 = record, t0
        self.offset = 0
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.poll()
            time.sleep(0.02)

    def poll(self) -> None:
        with self.lock:
            if not self.record.exists():
                return
            with open(self.record, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
            end = chunk.rfind(b"\n")
            if end < 0:
                return
            self.offset += end + 1
            now = round(time.monotonic() - self.t0, 2)
            for line in chunk[:end].decode("utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    record["seen"] = now
                    self.messages.append(record)

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.poll()


def link_path(record: dict) -> str:
    """The patient link's path from a recorded message's plain-text part."""
    message = email.message_from_string(record["data"], policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = LINK_RE.search(text)
    assert found, f"no link to {PUBLIC_URL}/a/… in the message {record['message_id']}:\n{text}"
    return found.group(1)


# ---------------------------------------------------------------------------------------------------------------
# A patient answering through the HTML pages, through whichever instance serves them, across kills
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Patient:
    index: int
    number: str
    email: str
    late: bool
    id: str = ""
    course: str = ""
    invitation: str = ""
    outcome: str = ""                 # "submitted" | "already answered" (a retry found the submission done)
    tries: int = 0
    errors: list[str] = field(default_factory=list)


class AlreadyAnswered(Exception):
    pass


def is_answered_page(page: str) -> bool:
    text = html.unescape(page)
    return any(heading in text for heading in ANSWERED_HEADINGS)


def fill_in(base: str, path: str, rng: random.Random) -> None:
    """Landing page, every step (a random option of each question, a random whole number in range), review,
    submit, thank-you page. Raises AlreadyAnswered when a page says the invitation is answered (the submission
    went through before the instance died), OSError/HTTPException when the instance is unreachable."""
    browser = PatientBrowser(base)
    try:
        status, _, page = browser.request("GET", path)
        if is_answered_page(page):
            raise AlreadyAnswered
        assert status == 200 and "svar_csrf" in browser.cookies, (status, page[:300])
        location = path + "/s/1"
        for _ in range(40):
            if "/review" in location:
                break
            if "/done" in location:
                raise AlreadyAnswered
            status, _, page = browser.request("GET", location)
            if is_answered_page(page):
                raise AlreadyAnswered
            assert status == 200, (location, status, page[:300])
            form: dict[str, str] = {"csrf": CSRF_RE.search(page).group(1)}
            options: dict[str, list[str]] = {}
            for name, code in RADIO_RE.findall(page):
                options.setdefault(html.unescape(name), []).append(code)
            for name, codes in options.items():
                form[name] = rng.choice(codes)
            for tag in NUMBER_RE.findall(page):
                name, number = random_number(tag, rng)
                form[name] = number
            assert len(form) > 1, f"no question found on {location}:\n{page[:2000]}"
            status, headers, page = browser.request("POST", html.unescape(FORM_RE.search(page).group(1)), form)
            if is_answered_page(page):
                raise AlreadyAnswered
            assert status == 303, (location, status, page[:500])
            location = headers["Location"]
        else:
            raise AssertionError("the steps never reach the review page")
        status, _, page = browser.request("GET", location)
        if is_answered_page(page):
            raise AlreadyAnswered
        assert status == 200, (location, status, page[:300])
        action = html.unescape(FORM_RE.search(page).group(1))
        status, headers, page = browser.request("POST", action, {"csrf": CSRF_RE.search(page).group(1)})
        assert status == 303 and "/done" in headers["Location"], (status, dict(headers), page[:300])
        status, _, page = browser.request("GET", headers["Location"])
        assert status == 200, (status, page[:300])
    finally:
        browser.close()


def answer(patient: Patient, instance: Instance, path: str, seed: int, t0: float) -> Patient:
    """The patient answers through `instance`, waiting for it while it is down and starting again from the
    link after a lost connection (the drafts of the steps already saved are simply overwritten)."""
    rng = random.Random(seed * 1000 + patient.index)
    for _ in range(20):
        patient.tries += 1
        assert instance.up.wait(timeout=60), f"{instance.name} stayed down for a minute"
        try:
            fill_in(instance.base, path, random.Random(rng.random()))
            patient.outcome = "submitted"
        except AlreadyAnswered:
            patient.outcome = "already answered"
        except (OSError, http.client.HTTPException, AttributeError, AssertionError) as error:
            # AttributeError/AssertionError: a page cut off by the kill (no form found, a 5xx while dying)
            patient.errors.append(f"{instance.name} at {time.monotonic() - t0:.2f}s: {type(error).__name__}: "
                                  f"{str(error)[:200]}")
            time.sleep(0.2)
            continue
        return patient
    raise AssertionError(f"patient {patient.index} could not answer through {instance.name}: {patient.errors}")


# ---------------------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------------------
def test_two_instances_on_postgres_send_and_forward_everything_once_through_three_kills(
        svar, svar_bin, postgres, tmp_path, capsys):  # noqa: F811  (postgres: the imported fixture)
    seed = int(os.environ.get("SCALEOUT_SEED") or secrets.randbelow(10**9))
    rng = random.Random(seed)
    with capsys.disabled():
        print(f"\n[scaleout] seed {seed} (SCALEOUT_SEED={seed} repeats the choices)", flush=True)
    t0 = time.monotonic()
    pg = PostgresCluster
    url = postgres.new_database("scaleout")

    def sql(text: str) -> list[list[str]]:
        return pg.query(url, text)

    def one(text: str) -> int:
        return int(sql(text)[0][0])

    (tmp_path / "smtp").mkdir()
    smtp = SMTPPeer(tmp_path / "smtp")  # STARTTLS offered, with its own CA
    registry = RegistryPeer(tmp_path / "registry", "--token", REGISTRY_TOKEN)
    mail = MailWatch(smtp.record, t0)
    env = {
        "SVAR_DATABASE_URL": url, "SVAR_VAULT_KEY": vault_key(), "SVAR_API_TOKEN": api_token(), "SVAR_MODE": "test",
        "SVAR_WORKERS": "outbox,forwarder", "SVAR_PUBLIC_URL": PUBLIC_URL,
        "SVAR_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "SVAR_SMTP_CA_FILE": str(smtp.tls / "cert.pem"),
        "SVAR_MAIL_FROM": f"svar@{MAIL_DOMAIN}", "SVAR_CHANNEL_ORDER": "email",
        "SVAR_REGISTRY_URL": registry.url, "SVAR_REGISTRY_TOKEN": REGISTRY_TOKEN,
        "SVAR_FORWARD_RETRY_FIRST": "1", "SVAR_FORWARD_RETRY_LONGEST": "5",
    }
    migrated = svar.run("migrate", env=env, cwd=tmp_path)
    assert migrated.rc == 0, migrated
    a = Instance("A", svar_bin, tmp_path, env)
    b = Instance("B", svar_bin, tmp_path, env)
    instances = (a, b)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=ANSWER_THREADS)
    cli_outputs: list[str] = []
    try:
        a.start()
        b.start()

        # ---- 1. enrolment, alternating between the instances --------------------------------------------------
        a.api.create_unit(UNIT, "E2E skalering")
        numbers = synthetic_numbers(PATIENTS, dt.date(1958, 4, 4))
        late = set(rng.sample(range(PATIENTS), int(PATIENTS * LATE_SHARE)))
        patients = [Patient(i, n, f"pasient{i:03d}@example.no", i in late) for i, n in enumerate(numbers)]
        by_email = {p.email: p for p in patients}
        yesterday = oslo_today() - dt.timedelta(days=1)

        def enrol(p: Patient) -> Patient:
            first, other = instances[p.index % 2], instances[(p.index + 1) % 2]
            p.id = first.api.enrol(p.number, email=p.email)
            p.course = other.api.start_course(p.id, UNIT)
            reply = first.api.event(p.course, "start", yesterday)
            baseline = [i for i in reply["invitations"] if i["milestone"] == "baseline"]
            assert len(baseline) == 1 and baseline[0]["instruments"] == ["rand36", "eq5d-5l"], reply
            p.invitation = baseline[0]["id"]
            return p

        list(pool.map(enrol, patients))
        enrolled_at = time.monotonic() - t0
        assert one("SELECT count(*) FROM outbox") == 0, "something was queued before the tick"

        # ---- 2. two ticks at the same instant -----------------------------------------------------------------
        tick_at = oslo_now()
        ticks = [subprocess.Popen([svar_bin, "tick", "--now", at(tick_at)], env=clean_env(i.env), cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in instances]
        tick_out = [p.communicate(timeout=120) for p in ticks]
        assert [p.returncode for p in ticks] == [0, 0], tick_out
        cli_outputs += [out + err for out, err in tick_out]
        reports = [parse_tick(out) for out, _ in tick_out]
        ticked_at = time.monotonic() - t0
        assert reports[0]["at"] == reports[1]["at"], reports
        assert sum(r["invited"] for r in reports) == PATIENTS, f"the two ticks invited {reports}"
        assert all(r["reminded"] == r["expired"] == 0 for r in reports), reports
        per_course = sql("SELECT course_id, count(*) FROM invitations WHERE milestone = 'baseline' "
                         "GROUP BY course_id HAVING count(*) <> 1")
        assert per_course == [], f"courses without exactly one baseline invitation: {per_course[:5]}"
        assert one("SELECT count(*) FROM invitations") == PATIENTS
        assert one("SELECT count(*) FROM invitations WHERE state = 'invited'") == PATIENTS
        doubled = sql("SELECT invitation_id, count(*) FROM invitation_history WHERE to_state = 'invited' "
                      "GROUP BY invitation_id HAVING count(*) <> 1")
        assert doubled == [], f"invitations moved to invited more than once: {doubled[:5]}"
        assert one("SELECT count(DISTINCT invitation_id) FROM invitation_history WHERE to_state = 'invited'") == PATIENTS
        queued = sql("SELECT invitation_id, count(*) FROM outbox WHERE kind = 'invitation' GROUP BY invitation_id")
        assert len(queued) == PATIENTS and {n for _, n in queued} == {"1"}, f"outbox rows per invitation: {queued[:5]}"
        assert {inv for inv, _ in queued} == {p.invitation for p in patients}

        # ---- 3. sending, answering and forwarding while A is killed three times -------------------------------
        kills: list[dict] = []
        chaos_errors: list[BaseException] = []

        def outbox_state() -> dict:
            row = sql("""SELECT count(*) FILTER (WHERE kind = 'invitation' AND state <> 'sent'),
                                count(*) FILTER (WHERE kind = 'forward' AND state = 'queued'),
                                count(*) FILTER (WHERE kind = 'forward' AND state = 'sent') FROM outbox""")[0]
            return {"invitations_unsent": int(row[0]), "forwards_queued": int(row[1]), "forwarded": int(row[2])}

        chaos_rng = random.Random(seed + 1)   # its own stream: the main thread draws meanwhile

        def chaos() -> None:
            try:
                first_at = chaos_rng.randint(15, 150)
                for k in range(KILLS):
                    if k == 0:
                        deadline = time.monotonic() + 60
                        while mail.count() < first_at and time.monotonic() < deadline:
                            time.sleep(0.01)
                    else:
                        time.sleep(chaos_rng.uniform(0.5, 4.0))
                    state = outbox_state()
                    mails = mail.count()
                    a.kill()
                    killed = round(time.monotonic() - t0, 2)
                    time.sleep(chaos_rng.uniform(0.1, 1.5))
                    restart = a.start()
                    kills.append({"at": killed, "mails": mails, **state, "down": round(time.monotonic() - t0 - killed, 2),
                                  "restart": round(restart, 2)})
            except BaseException as error:  # noqa: BLE001  (reported by the main thread)
                chaos_errors.append(error)

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        answering: dict[int, concurrent.futures.Future] = {}
        first_mail: dict[str, dict] = {}

        def dispatch(include_late: bool) -> None:
            for record in mail.snapshot():
                for recipient in record["rcpt_tos"]:
                    first_mail.setdefault(recipient, record)
            for recipient, record in first_mail.items():
                p = by_email.get(recipient)
                if p is None or p.index in answering or (p.late and not include_late):
                    continue
                answering[p.index] = pool.submit(answer, p, instances[p.index % 2], link_path(record), seed, t0)

        def settled(include_late: bool) -> bool:
            """Every answer that can be given now is given, and the mail has been quiet for 12 s."""
            dispatch(include_late)
            if any(not f.done() for f in answering.values()):
                return False
            for f in answering.values():
                f.result()  # raises the failure of a patient who could not answer
            last_mail = max((m["seen"] for m in mail.snapshot()), default=0.0)
            if time.monotonic() - t0 - last_mail < 12:
                return False
            due = one(f"SELECT count(*) FROM outbox WHERE kind = 'invitation' AND state = 'queued' "
                      f"AND next_attempt_at <= {int(time.time())}")
            return due == 0

        deadline = time.monotonic() + PHASE_DEADLINE
        while chaos_thread.is_alive() or not settled(False):
            assert not chaos_errors, chaos_errors
            assert time.monotonic() < deadline, (f"phase 1 did not settle: kills {kills}, {mail.count()} mails, "
                                                 f"{outbox_state()}\n{a.log_text()[-2000:]}\n{b.log_text()[-2000:]}")
            dispatch(False)
            time.sleep(0.2)
        assert not chaos_errors, chaos_errors
        phase1_at = time.monotonic() - t0
        before_drain = outbox_state()
        stranded_invitations = sql("SELECT id, state FROM outbox WHERE kind = 'invitation' AND state <> 'sent'")
        mails_before_drain = mail.count()

        # ---- 4. drain: the killed incarnations' leases, as if 11 minutes had passed ----------------------------
        assert [i.stop() for i in instances] == [0, 0], "an instance did not exit 0 on SIGTERM"
        # One `svar deliver` pass "runs until nothing more is due at `now`" (DeliveryPass.run); should one pass
        # leave rows due, that is recorded as a problem below and further passes take the rest, so the other
        # checks still see every message.
        drain_at = oslo_now() + LEASE_PASSED
        due_sql = (f"SELECT count(*) FROM outbox WHERE kind = 'invitation' AND state IN ('queued', 'sending') "
                   f"AND next_attempt_at <= {int(drain_at.timestamp())}")
        due_at_drain = one(due_sql)
        deliver_reports: list[str] = []
        left_after_first: int | None = None
        for _ in range(5):
            delivered = svar.run("deliver", "--now", at(drain_at), env=env, cwd=tmp_path)
            cli_outputs.append(delivered.stdout + delivered.stderr)
            assert delivered.rc == 0, delivered
            deliver_report = DELIVER_RE.search(delivered.stdout)
            assert deliver_report, delivered
            deliver_reports.append(deliver_report.group(0))
            left = one(due_sql)
            left_after_first = left if left_after_first is None else left_after_first
            if left == 0:
                break
        mail.poll()
        drained_at = time.monotonic() - t0
        a.start()
        b.start()
        deadline = time.monotonic() + PHASE_DEADLINE
        while True:
            dispatch(True)
            if len(answering) == PATIENTS and all(f.done() for f in answering.values()):
                break
            if time.monotonic() > deadline:
                missing = sorted(p.email for p in patients if p.email not in first_mail)
                raise AssertionError(f"patients without an e-mail or an answer after the drain: {missing[:10]} "
                                     f"({len(missing)} without e-mail, {len(answering)} answering)")
            time.sleep(0.2)
        for f in answering.values():
            f.result()
        assert one("SELECT count(*) FROM responses") == 2 * PATIENTS
        all_answered_at = time.monotonic() - t0
        # the forwarders of both instances take the rest, except what the killed incarnations still lease
        deadline = time.monotonic() + PHASE_DEADLINE
        last, stable_since = -1, time.monotonic()
        while True:
            now = int(time.time())
            due, forwarded = sql(f"""SELECT count(*) FILTER (WHERE state = 'queued' AND next_attempt_at <= {now}),
                                            count(*) FILTER (WHERE state = 'sent')
                                     FROM outbox WHERE kind = 'forward'""")[0]
            if forwarded != last:
                last, stable_since = forwarded, time.monotonic()
            if due == "0" and time.monotonic() - stable_since > 6:
                break
            assert time.monotonic() < deadline, f"forwards still due: {due}, {forwarded} forwarded"
            time.sleep(0.5)
        assert [i.stop() for i in instances] == [0, 0], "an instance did not exit 0 on SIGTERM"
        forwarders_done_at = time.monotonic() - t0
        leased_forwards = one("SELECT count(*) FROM outbox WHERE kind = 'forward' AND state <> 'sent'")
        forwarded_cli = svar.run("forward", "--now", at(oslo_now() + LEASE_PASSED), env=env, cwd=tmp_path)
        cli_outputs.append(forwarded_cli.stdout + forwarded_cli.stderr)
        assert forwarded_cli.rc == 0, forwarded_cli
        forward_report = FORWARD_RE.search(forwarded_cli.stdout)
        assert forward_report, forwarded_cli
        finished_at = time.monotonic() - t0
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for instance in instances:
            if instance.proc and instance.proc.poll() is None:
                instance.proc.kill()
                instance.proc.wait(timeout=10)
        mail.stop()
        smtp.stop()
        registry.stop()
        registry.kill()

    # ---- 5. what the peers hold ----------------------------------------------------------------------------------
    messages = mail.snapshot()
    outbox = {r[0]: {"invitation": r[1], "state": r[2], "message_id": r[3], "attempts": int(r[4]), "patient": r[5]}
              for r in sql("SELECT id, invitation_id, state, message_id, attempts, patient_id FROM outbox "
                           "WHERE kind = 'invitation'")}
    per_message_id = Counter(m["message_id"] for m in messages)
    per_row: dict[str, list[dict]] = {}
    strangers = []
    for m in messages:
        found = MESSAGE_ID_RE.match(m["message_id"] or "")
        if found and found.group(1) in outbox:
            per_row.setdefault(found.group(1), []).append(m)
        else:
            strangers.append(m["message_id"])
    per_recipient = Counter(r for m in messages for r in m["rcpt_tos"])
    twice = {mid: n for mid, n in per_message_id.items() if n > 1}
    # A row whose one e-mail arrived twice (in doubt after a kill, the same Message-ID) is judged by the doubt
    # checks below; this one is about a row sent as two different e-mails.
    several = {oid: ms for oid, ms in per_row.items() if len({m["message_id"] for m in ms}) > 1}
    kill_times = [k["at"] for k in kills]

    responses = {r[0]: r[1] for r in sql("SELECT id, instrument FROM responses")}
    forwards = sql("SELECT response_id, state, count(*) OVER (PARTITION BY response_id) FROM outbox WHERE kind = 'forward'")
    disclosures = Counter(r[0] for r in sql("SELECT response_id FROM disclosure_log"))
    held = registry.rows("SELECT identifier_system, identifier_value FROM resources WHERE type = 'QuestionnaireResponse'")
    held_ids = [v for _, v in held]
    registry_patients = registry.rows("SELECT count(*) FROM resources WHERE type = 'Patient'")[0][0]
    observations = registry.rows("SELECT count(*) FROM resources WHERE type = 'Observation'")[0][0]
    scores = one("SELECT count(*) FROM scores")
    posts = registry.rows("SELECT idempotency_key, status, outcome FROM requests ORDER BY id")
    posts_per_key = Counter(k for k, _, _ in posts)
    outcomes = Counter(o for _, _, o in posts)
    resent = {k: n for k, n in posts_per_key.items() if n > 1}

    logs = {f"{i.name}": i.log_text() for i in instances}
    bad_lines = [f"{name}: {line}" for name, text in list(logs.items()) + [("cli", "\n".join(cli_outputs))]
                 for line in text.splitlines() if LOG_LEVEL_RE.match(line)
                 and LOG_LEVEL_RE.match(line).group(1) in ("error", "critical")]
    warnings = [line for text in logs.values() for line in text.splitlines()
                if LOG_LEVEL_RE.match(line) and LOG_LEVEL_RE.match(line).group(1) == "warning"]
    answered_by = Counter((instances[p.index % 2].name, p.outcome) for p in patients)
    retried = [p for p in patients if p.tries > 1]

    with capsys.disabled():
        print(f"[scaleout] {PATIENTS} patients enrolled in {enrolled_at:.1f} s; ticks {reports[0]['invited']} + "
              f"{reports[1]['invited']} invited at {reports[0]['at']} ({ticked_at:.1f} s)")
        for n, k in enumerate(kills, 1):
            print(f"[scaleout] kill {n} of A at {k['at']:.2f} s: {k['mails']} mails arrived, {k['invitations_unsent']} "
                  f"invitations unsent, {k['forwards_queued']} forwards queued, {k['forwarded']} forwarded; down "
                  f"{k['down']:.2f} s (restart {k['restart']:.2f} s)")
        print(f"[scaleout] phase 1 settled at {phase1_at:.1f} s: {mails_before_drain} mails, {before_drain}; "
              f"invitation rows left to the drain: {Counter(s for _, s in stranded_invitations)}")
        print(f"[scaleout] drain: {due_at_drain} invitation rows due at {at(drain_at)}: {deliver_reports}; "
              f"{leased_forwards} forwards left → {forward_report.group(0)}")
        print(f"[scaleout] mails {len(messages)} for {len(outbox)} invitation rows "
              f"({Counter(r['state'] for r in outbox.values())}); Message-IDs received twice: {len(twice)}; "
              f"rows with more than one Message-ID: {len(several)}; in doubt after a kill: "
              f"{sum(1 for r in outbox.values() if r['state'] == 'cancelled')} cancelled")
        print(f"[scaleout] answered {sum(1 for p in patients if p.outcome)} patients ({dict(answered_by)}), "
              f"{len(retried)} needed more than one try; {len(responses)} responses, "
              f"{sum(1 for _, s, _ in forwards if s == 'sent')} forwards sent")
        print(f"[scaleout] registry: {len(posts)} POSTs {dict(outcomes)}, {len(resent)} responses POSTed more than "
              f"once; holds {len(held)} QuestionnaireResponses, {registry_patients} Patients, {observations} "
              f"Observations ({scores} scores in Svar)")
        print(f"[scaleout] {len(warnings)} warning lines, {len(bad_lines)} error lines in the logs; drained at "
              f"{drained_at:.1f} s, all answered at {all_answered_at:.1f} s, forwarders done at {forwarders_done_at:.1f} s, "
              f"finished at {finished_at:.1f} s")
        for line in warnings[:10]:
            print(f"[scaleout]   warning: {line[:300]}")

    # Every check below is collected, so one run reports every way it fails.
    problems: list[str] = []

    def check(ok: bool, message) -> None:
        if not ok:
            problems.append(message() if callable(message) else message)

    # The kills landed where they matter.
    check(len(kills) == KILLS, f"{len(kills)} kills: {kills}")
    check(any(k["invitations_unsent"] > 0 for k in kills), f"no kill while invitations were unsent: {kills}")
    check(any(k["forwards_queued"] > 0 for k in kills), f"no kill while forwards were queued: {kills}")

    # No invitation doubled, after everything.
    check(sql("SELECT course_id FROM invitations GROUP BY course_id HAVING count(*) <> 1") == []
          and one("SELECT count(*) FROM invitations") == PATIENTS, "not one invitation per course at the end")
    check(sql("SELECT invitation_id FROM invitation_history WHERE to_state = 'invited' GROUP BY invitation_id "
              "HAVING count(*) <> 1") == [], "an invitation moved to invited twice")

    # One delivery pass sends everything due at its instant.
    check(left_after_first == 0, lambda: (
        f"`svar deliver --now {at(drain_at)}` left {left_after_first} of the {due_at_drain} invitation rows due at "
        f"that instant unsent ({deliver_reports[0]}); {len(deliver_reports)} passes were needed: {deliver_reports}"))

    # Every invitation e-mailed exactly once, under the Message-ID Svar recorded.
    def describe(mid: str) -> str:
        found = MESSAGE_ID_RE.match(mid or "")
        row = outbox.get(found.group(1), {}) if found else {}
        seen = [m["seen"] for m in messages if m["message_id"] == mid]
        return f"  {mid}: row {row}, seen at {seen} s"

    # SMTP cannot be exactly-once across a SIGKILL: between the server's 250 and the commit that records it, one
    # message is in doubt. Svar records each message before sending the next, so each kill may leave at most one
    # such message, and it is the same e-mail (the same Message-ID) if it goes out again. Those rows are named and
    # counted; every other row must have arrived exactly once and be recorded as sent.
    in_doubt_reason = "sending was interrupted (the message may have gone out)"
    doubt = {oid for oid, r in outbox.items() if r["state"] == "cancelled"
             and in_doubt_reason in (sql(f"SELECT last_error FROM outbox WHERE id = '{oid}'")[0][0] or "")}
    doubt |= {MESSAGE_ID_RE.match(mid).group(1) for mid in twice if MESSAGE_ID_RE.match(mid or "")}
    check(len(doubt) <= len(kills), lambda: f"{len(doubt)} messages in doubt for {len(kills)} kills (at most one each):\n"
          + "\n".join(describe(outbox[oid]["message_id"] or "") + f" (row {oid})" for oid in list(doubt)[:15]))
    for mid in twice:
        first = min(m["seen"] for m in messages if m["message_id"] == mid)
        check(any(first <= k["at"] for k in kills), f"{mid} arrived twice but its first copy came after every kill")
    check(not several, lambda: f"{len(several)} outbox rows e-mailed under more than one Message-ID:\n" + "\n".join(
        f"  {oid} {outbox[oid]}: {[(m['message_id'], m['seen']) for m in ms]}" for oid, ms in list(several.items())[:15]))
    check(not strangers, f"messages that belong to no invitation row: {strangers[:10]}")
    not_sent = {oid: r for oid, r in outbox.items() if r["state"] != "sent" and oid not in doubt}
    check(not not_sent, lambda: (
        f"{len(not_sent)} invitation rows not recorded as sent ({Counter(r['state'] for r in not_sent.values())}), "
        f"{sum(1 for oid in not_sent if oid in per_row)} of them e-mailed all the same, e.g.:\n" + "\n".join(
            f"  {oid} {r} e-mailed: {[(m['message_id'], m['seen']) for m in per_row.get(oid, [])]}"
            for oid, r in list(not_sent.items())[:8])))
    unmailed = [oid for oid in outbox if oid not in per_row]
    check(not unmailed, lambda: f"{len(unmailed)} invitation rows without a message at the SMTP peer: "
          f"{[(o, outbox[o]) for o in unmailed[:8]]}")
    mismatched = [(oid, r["message_id"], per_row[oid][0]["message_id"]) for oid, r in outbox.items()
                  if r["state"] == "sent" and oid in per_row and per_row[oid][0]["message_id"] != r["message_id"]]
    check(not mismatched, f"the Message-ID Svar recorded is not the one the SMTP peer got: {mismatched[:10]}")
    doubt_patients = {outbox[oid]["patient"] for oid in doubt}
    more_than_one = {r for r, n in per_recipient.items() if n > 1 and by_email[r].id not in doubt_patients}
    check(set(per_recipient) == set(by_email) and not more_than_one, lambda: (
        f"patients with other than one e-mail: {len(set(by_email) - set(per_recipient))} with none, "
        f"{len(more_than_one)} with more than one (not counting the {len(doubt)} in doubt)"))

    # Every answered instrument forwarded exactly once.
    check(one("SELECT count(*) FROM invitations WHERE state = 'completed'") == PATIENTS, "not every invitation completed")
    check(len(responses) == 2 * PATIENTS and Counter(responses.values()) == {"rand36": PATIENTS, "eq5d-5l": PATIENTS},
          f"responses: {Counter(responses.values())}")
    check({r for r, _, _ in forwards} == set(responses) and {n for _, _, n in forwards} == {"1"},
          "not one forward row per response")
    check({s for _, s, _ in forwards} == {"sent"}, f"forward rows: {Counter(s for _, s, _ in forwards)}")
    check(set(disclosures) == set(responses) and set(disclosures.values()) == {1},
          lambda: f"disclosure-log rows per response: {[(r, n) for r, n in disclosures.items() if n != 1][:10]}, "
                  f"{len(set(responses) - set(disclosures))} responses without one")
    check({s for s, _ in held} <= {RESPONSE_SYSTEM}, f"QuestionnaireResponse identifier systems: {set(s for s, _ in held)}")
    check(len(held_ids) == len(set(held_ids)) == len(responses) and set(held_ids) == set(responses), lambda: (
        f"registry: {len(held_ids)} QuestionnaireResponses held, missing {sorted(set(responses) - set(held_ids))[:5]}, "
        f"unknown {sorted(set(held_ids) - set(responses))[:5]}"))
    check(registry_patients == PATIENTS and observations == scores,
          f"registry: {registry_patients} Patients, {observations} Observations for {scores} scores")
    check(set(posts_per_key) == {f"svar-forward-{r}" for r in responses}, "POSTs under unexpected Idempotency-Keys")
    stored = {k for k, _, o in posts if o == "stored"}
    check(len(stored) == len(responses), f"{len(responses) - len(stored)} responses never stored by a POST")
    check(set(outcomes) <= {"stored", "existing"}, f"registry outcomes: {outcomes}")

    # Nothing went wrong that only a log would tell.
    check(not bad_lines, lambda: "error lines in the logs:\n" + "\n".join(bad_lines[:20]))

    assert not problems, f"seed {seed}:\n" + "\n".join(f"- {p}" for p in problems)

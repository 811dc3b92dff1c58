"""End-to-end tests of forwarding: every submitted questionnaire response goes to the medical quality registry
exactly once, as a FHIR R4 transaction Bundle (a FHIR server at SVAR_REGISTRY_URL, else the local registry store
beside Svar's database), with a disclosure-log row per success, a dead-letter list for what the registry refuses,
and the patient's reservation and deletion respected.

The answers reach Svar the real way: through the JSON API (patient, course, `start` event, link) and the patient
pages over HTTP (landing, every step with its CSRF field and cookie, review, submit). The FHIR registry is the
test peer e2e/peers/registry_server.py (R4B validation of every Bundle, injected failures, a SQLite store that
survives SIGKILL). Bundles printed by `svar score --fhir` are validated here with fhir.resources' R4B models.

Run: .venv/bin/python3 -m pytest e2e/test_forwarding.py -q -p no:cacheprovider   (SVAR_BIN unset = .build/debug/svar)
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import html
import http.client
import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from conftest import OSLO, REPO, Server, clean_env, free_port, oslo_today, query, server_env, synthetic_numbers

PEERS = Path(__file__).parent / "peers"
sys.path.insert(0, str(PEERS))
import registry_server  # noqa: E402  (the peer's own Bundle checks, reused as a second opinion)

INSTRUMENTS = REPO / "instruments"
RESPONSE_SYSTEM = "urn:svar:response"
OBSERVATION_SYSTEM = "urn:svar:observation"
PSEUDONYM_SYSTEM = "urn:svar:registry-pseudonym"
ALGORITHM_SYSTEM = "urn:svar:algorithm"
VALUE_SET_SYSTEM = "urn:svar:value-set"
SCORE_SYSTEM = "urn:svar:score"
NIN_OID = "urn:oid:2.16.578.1.12.4.1.4.1"
EQ5D = ("eq5d-5l", "eq5d-3l")
DIMS = ("MO", "SC", "UA", "PD", "AD")
REGISTRY_TOKEN = "registry-e2e-9f3c51d0a7b24e66"
FORWARD_RE = re.compile(r"^forward at (\S+): forwarded (\d+), retrying (\d+), dead-lettered (\d+), erased (\d+)$", re.M)


def loads(text: str):
    """JSON with exact numbers (Decimal for every number with a fraction or exponent)."""
    return json.loads(text, parse_float=Decimal)


def parse_forward(stdout: str) -> dict:
    m = FORWARD_RE.search(stdout)
    assert m, f"svar forward printed no report line:\n{stdout}"
    return {"at": m.group(1), "forwarded": int(m.group(2)), "retrying": int(m.group(3)),
            "deadLettered": int(m.group(4)), "erased": int(m.group(5))}


# ---------------------------------------------------------------------------------------------------------------
# The questionnaires (the repository's instruments/, which Svar bundles), and answer vectors for them
# ---------------------------------------------------------------------------------------------------------------
def questionnaire(instrument: str) -> dict:
    return json.loads((INSTRUMENTS / instrument / "questionnaire.json").read_text("utf-8"))


def leaf_items(instrument: str) -> list[dict]:
    out = []

    def walk(items):
        for item in items:
            if item["type"] == "group":
                walk(item.get("item", []))
            else:
                out.append(item)
    walk(questionnaire(instrument)["item"])
    return out


def bounds(item: dict) -> tuple[int, int]:
    ext = {e["url"].rsplit("/", 1)[-1]: e.get("valueInteger") for e in item.get("extension", [])}
    return ext["minValue"], ext["maxValue"]


def enabled(item: dict, answers: dict) -> bool:
    """FHIR enableWhen (the operators the bundled questionnaires use), enableBehavior 'all' by default."""
    conditions = item.get("enableWhen")
    if not conditions:
        return True
    results = []
    for c in conditions:
        given = answers.get(c["question"])
        expected = next(v for k, v in c.items() if k.startswith("answer"))
        if isinstance(expected, dict):
            expected = int(expected.get("code"))
        op = c["operator"]
        if op == "exists":
            results.append((given is not None) == expected)
        elif given is None:
            results.append(False)
        else:
            results.append({"=": given == expected, "!=": given != expected, ">": given > expected,
                            "<": given < expected, ">=": given >= expected, "<=": given <= expected}[op])
    return any(results) if item.get("enableBehavior") == "any" else all(results)


def answer_vector(instrument: str, pick) -> dict:
    """{linkId: int} for every enabled item, `pick(item, index)` giving the value (None leaves it out)."""
    answers: dict[str, int] = {}
    for index, item in enumerate(leaf_items(instrument)):
        if not enabled(item, answers):
            continue
        if item["type"] == "choice":
            codes = [int(o["valueCoding"]["code"]) for o in item["answerOption"]]
            value = pick(item, index, codes[0], codes[-1])
        else:
            low, high = bounds(item)
            value = pick(item, index, low, high)
        if value is not None:
            answers[item["linkId"]] = value
    return answers


def vectors(instrument: str) -> dict[str, dict]:
    return {
        "all-first": answer_vector(instrument, lambda item, i, first, last: first),
        "all-last": answer_vector(instrument, lambda item, i, first, last: last),
        # every third item left out (for EQ-5D: MO, PD — the index cannot be computed, VAS stays)
        "some-missing": answer_vector(instrument, lambda item, i, first, last: None if i % 3 == 0 else (first + last) // 2),
    }


def expected_observations(instrument: str, plain: dict, answers: dict) -> dict:
    """Score key -> expected value (Decimal/int, bool, or None) from `svar score` without --fhir (for EQ-5D: the
    index and VAS, and each dimension's level, which is the state's digit when the state is complete)."""
    if instrument in EQ5D:
        state = plain["state"]
        out = {"index": plain["index"], "vas": plain["vas"]}
        for d in DIMS:
            out[d] = int(state[DIMS.index(d)]) if state is not None else answers.get(d)
        return out
    if instrument == "rand36":
        return {k: v for k, v in plain.items() if k not in ("itemsAnswered", "halfRuleMet")}
    return dict(plain)


def flatten_qr_items(items) -> dict:
    """{linkId: int} from a QuestionnaireResponse's (nested) items."""
    out = {}
    for item in items or []:
        if "item" in item:
            out.update(flatten_qr_items(item["item"]))
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                out[item["linkId"]] = int(answer["valueCoding"]["code"])
            elif "valueInteger" in answer:
                out[item["linkId"]] = answer["valueInteger"]
            else:
                out[item["linkId"]] = ("unexpected answer type", answer)
    return out


def fhir_errors(bundle_text: str) -> list[str]:
    """Every validation error of a Bundle: R4B Bundle model, each resource with its own model class, and the
    registry peer's checks (conditional creates, fullUrls, references)."""
    errors = []
    try:
        Bundle.model_validate_json(bundle_text)
    except Exception as error:  # pydantic.ValidationError, or a KeyError for an unknown resourceType
        errors.append(f"Bundle: {error}")
    bundle = json.loads(bundle_text)
    for i, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource", {})
        try:
            get_fhir_model_class(resource.get("resourceType")).model_validate(resource)
        except Exception as error:
            errors.append(f"entry[{i}] {resource.get('resourceType')}: {error}")
    _, _, peer_errors = registry_server.check_bundle(bundle_text.encode())
    errors += [f"peer: {e}" for e in peer_errors]
    return errors


def check_bundle_structure(bundle: dict, instrument: str, value_set: str | None, answers: dict, plain: dict) -> None:
    """The shape of one forwarded response: Patient, QuestionnaireResponse, one Observation per score."""
    where = f"{instrument} {value_set} {answers}"
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction", where
    entries = bundle["entry"]
    by_type: dict[str, list[dict]] = {}
    for entry in entries:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry)
    assert set(by_type) == {"Patient", "QuestionnaireResponse", "Observation"}, (where, set(by_type))
    assert len(by_type["Patient"]) == 1 and len(by_type["QuestionnaireResponse"]) == 1, where
    urls = [e["fullUrl"] for e in entries]
    assert len(set(urls)) == len(urls), where
    for entry in entries:
        resource, request = entry["resource"], entry["request"]
        ids = resource["identifier"] if isinstance(resource["identifier"], list) else [resource["identifier"]]
        assert request["method"] == "POST" and request["url"] == resource["resourceType"], (where, request)
        assert request["ifNoneExist"] == f"identifier={ids[0]['system']}|{ids[0]['value']}", (where, request)

    patient = by_type["Patient"][0]
    assert patient["resource"]["identifier"][0]["system"] == PSEUDONYM_SYSTEM, (where, patient)
    assert set(patient["resource"]) == {"resourceType", "identifier"}, f"the Patient carries more than an identifier: {patient}"
    qr_entry = by_type["QuestionnaireResponse"][0]
    qr = qr_entry["resource"]
    assert qr["identifier"]["system"] == RESPONSE_SYSTEM and qr["identifier"]["value"], (where, qr["identifier"])
    assert qr["status"] == "completed", where
    assert qr["questionnaire"] == f"{questionnaire(instrument)['url']}|{questionnaire(instrument)['version']}", qr["questionnaire"]
    assert qr["subject"]["reference"] == patient["fullUrl"], where
    assert flatten_qr_items(qr.get("item")) == answers, f"{where}: the QuestionnaireResponse's answers differ"

    expected = expected_observations(instrument, plain, answers)
    observations = {}
    for entry in by_type["Observation"]:
        obs = entry["resource"]
        code = obs["code"]["coding"][0]
        assert code["system"] == SCORE_SYSTEM and code["code"].startswith(instrument + "."), (where, code)
        key = code["code"][len(instrument) + 1:]
        assert key not in observations, f"{where}: two Observations for {key}"
        observations[key] = obs
        assert obs["identifier"][0] == {"system": OBSERVATION_SYSTEM, "value": f"{qr['identifier']['value']}/{key}"}, obs
        assert obs["status"] == "final" and obs["subject"]["reference"] == patient["fullUrl"], (where, obs)
        assert obs["derivedFrom"] == [{"reference": qr_entry["fullUrl"]}], (where, obs)
        methods = {c["system"]: c["code"] for c in obs["method"]["coding"]}
        assert methods.get(ALGORITHM_SYSTEM), f"{where}: Observation {key} has no {ALGORITHM_SYSTEM} coding: {obs['method']}"
        if instrument in EQ5D and key == "index":
            assert methods.get(VALUE_SET_SYSTEM) == (value_set or plain["valueSet"]) == plain["valueSet"], (where, obs["method"])
        else:
            assert VALUE_SET_SYSTEM not in methods, (where, key, obs["method"])
        want = expected.get(key, "(no such score)")
        if want is None:
            assert "dataAbsentReason" in obs and not any(k.startswith("value") for k in obs), (where, key, obs)
        elif isinstance(want, bool):
            assert obs.get("valueBoolean") is want, (where, key, obs)
        else:
            got = obs.get("valueQuantity", {}).get("value")
            assert got is not None and Decimal(str(got)) == Decimal(str(want)), (where, key, got, want)
    assert set(observations) == set(expected), f"{where}: Observations {sorted(observations)} != scores {sorted(expected)}"


# ---------------------------------------------------------------------------------------------------------------
# Answering through the patient pages over HTTP (one keep-alive connection and its own cookies per patient)
# ---------------------------------------------------------------------------------------------------------------
RADIO_RE = re.compile(r'<input type="radio" name="([^"]+)" id="[^"]*" value="([^"]*)"')
NUMBER_RE = re.compile(r'<input class="input-number" type="text" inputmode="numeric"[^>]*>')
ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')
CSRF_RE = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
FORM_RE = re.compile(r'<form method="post" action="([^"]+)"')


def _number_ranges() -> dict[str, tuple[int, int]]:
    """(min, max) of every integer item of the bundled instruments, by linkId: the number field is plain text
    (inputmode numeric) and carries no range of its own."""
    ranges: dict[str, tuple[int, int]] = {}

    def walk(items):
        for item in items or []:
            if item.get("type") == "integer":
                ext = {e["url"].rsplit("/", 1)[-1]: e["valueInteger"] for e in item.get("extension", [])}
                ranges[item["linkId"]] = (ext["minValue"], ext["maxValue"])
            walk(item.get("item"))

    for path in sorted((REPO / "instruments").glob("*/questionnaire.json")):
        walk(json.loads(path.read_text("utf-8")).get("item"))
    return ranges


NUMBER_RANGES = _number_ranges()


def random_number(tag: str, rng: random.Random) -> tuple[str, str]:
    """(name, a random whole number in its range) for a number field's tag."""
    name = html.unescape(dict(ATTR_RE.findall(tag))["name"])
    low, high = NUMBER_RANGES[name]
    return name, str(rng.randint(low, high))


class PatientBrowser:
    """A minimal browser for the patient pages: one HTTP/1.1 connection, cookies kept by hand (Svar's are
    `Secure` when its public URL is https, which a cookie jar would not send over plain loopback HTTP)."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: once more on a fresh one
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        text = response.read().decode("utf-8")
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, response.headers, text

    def close(self) -> None:
        self.conn.close()


def answer_link(base: str, url: str, rng: random.Random) -> dict[str, int]:
    """Opens the link `url` on the server at `base` and answers the whole invitation the way a person would:
    landing page, every step (a random option of each question shown, a random whole number in range), review,
    submit, thank-you page. Returns every answer given, {linkId: value} (the instruments' linkIds differ)."""
    path = "/a/" + url.split("/a/", 1)[1]
    browser = PatientBrowser(base)
    given: dict[str, int] = {}
    try:
        status, _, page = browser.request("GET", path)
        assert status == 200 and "svar_csrf" in browser.cookies, (status, page[:300])
        location = path + "/s/1"
        steps = 0
        while "/review" not in location:
            status, _, page = browser.request("GET", location)
            assert status == 200, (location, status, page[:300])
            csrf = CSRF_RE.search(page).group(1)
            assert csrf == browser.cookies["svar_csrf"], "the form's CSRF field is not the cookie's value"
            form: dict[str, str] = {"csrf": csrf}
            options: dict[str, list[str]] = {}
            for name, code in RADIO_RE.findall(page):
                options.setdefault(html.unescape(name), []).append(code)
            for name, codes in options.items():
                form[name] = rng.choice(codes)
            for tag in NUMBER_RE.findall(page):
                name, number = random_number(tag, rng)
                form[name] = number
            assert len(form) > 1, f"no question found on {location}:\n{page[:2000]}"
            action = html.unescape(FORM_RE.search(page).group(1))
            status, headers, page = browser.request("POST", action, form)
            assert status == 303, (action, status, page[:500])
            given.update({k: int(v) for k, v in form.items() if k != "csrf"})
            location = headers["Location"]
            steps += 1
            assert steps < 40, "the steps never reach the review page"
        status, _, page = browser.request("GET", location)
        assert status == 200, (location, status, page[:300])
        action = html.unescape(FORM_RE.search(page).group(1))
        status, headers, page = browser.request("POST", action, {"csrf": CSRF_RE.search(page).group(1)})
        assert status == 303 and "/done" in headers["Location"], (status, dict(headers), page[:300])
        status, _, page = browser.request("GET", headers["Location"])
        assert status == 200, (status, page[:300])
    finally:
        browser.close()
    return given


def start_svar(svar_bin: str, cwd: Path, env: dict[str, str], log_name: str) -> Server:
    """A healthy `svar serve` on a free loopback port, logging to cwd/log_name."""
    return Server(svar_bin, cwd, cwd / log_name, env=env).wait_until_healthy()


def stop_svar(srv: Server) -> str:
    """SIGTERM; the server must exit 0 (its database closed and complete). Returns its log."""
    rc = srv.stop()
    log = srv.logs()
    srv.kill()
    assert rc == 0, f"svar serve exited with {rc} on SIGTERM:\n{log[-3000:]}"
    return log


def make_answered_patients(srv: Server, svar, env: dict[str, str], cwd: Path, numbers: list[str], unit: str,
                           seed: int = 1, workers: int = 6) -> list[dict]:
    """One patient per number with a course at `unit`, a `start` event yesterday (the baseline invitation, open
    since 09:00 yesterday, RAND-36 + EQ-5D-5L), `svar tick` to invite, a fresh link, and every question answered
    through the patient pages. Returns [{number, patient, course, invitation, answers}]."""
    yesterday = oslo_today() - dt.timedelta(days=1)

    def enrol(number: str) -> dict:
        patient = srv.enrol(number)
        course = srv.start_course(patient, unit)
        reply = srv.event(course, "start", yesterday)
        baseline = [i for i in reply["invitations"] if i["milestone"] == "baseline"]
        assert len(baseline) == 1 and baseline[0]["instruments"] == ["rand36", "eq5d-5l"], reply
        return {"number": number, "patient": patient, "course": course, "invitation": baseline[0]["id"]}

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        people = list(pool.map(enrol, numbers))
    tick = svar.run("tick", env=env, cwd=cwd)
    assert tick.rc == 0 and f"invited {len(numbers)}," in tick.stdout, tick

    def answer(item: tuple[int, dict]) -> dict:
        index, person = item
        link = srv.ok("POST", f"/api/v1/invitations/{person['invitation']}/link", {})
        person["answers"] = answer_link(srv.base, link["url"], random.Random(seed * 100_000 + index))
        return person

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        people = list(pool.map(answer, enumerate(people)))
    return people


class RegistryPeer:
    """e2e/peers/registry_server.py on a port, with its SQLite store; restartable on the same port and store."""

    def __init__(self, folder: Path, *flags: str, port: int | None = None, tls: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.flags = flags
        self.port = port or free_port()
        self.store = folder / "registry-peer.sqlite"
        self.tls = folder / "tls" if tls else None
        self.proc = None
        self.start(*flags)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/fhir"

    def start(self, *flags: str) -> None:
        out = self.folder / f"registry-{time.monotonic_ns()}.out"
        command = [sys.executable, str(PEERS / "registry_server.py"), "--port", str(self.port), "--store", str(self.store),
                   *flags]
        if self.tls:
            command += ["--tls-dir", str(self.tls)]
        with open(out, "w") as handle:
            self.proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while f"READY {self.port}" not in out.read_text():
            assert self.proc.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)

    def rows(self, sql: str, args=()) -> list[tuple]:
        conn = sqlite3.connect(self.store, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def resources(self, kind: str) -> list[dict]:
        return [json.loads(r[0]) for r in self.rows("SELECT json FROM resources WHERE type=? ORDER BY id", (kind,))]

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        return self.proc.returncode if self.proc else None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def peers():
    """Factory: peers(folder, *flags, port=None, tls=False) -> RegistryPeer; every one still running is stopped
    (SIGTERM, then SIGKILL) at teardown."""
    started: list[RegistryPeer] = []

    def start(folder: Path, *flags: str, **kw) -> RegistryPeer:
        peer = RegistryPeer(folder, *flags, **kw)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        try:
            peer.stop()
        finally:
            peer.kill()


def forwards(db: Path) -> list[sqlite3.Row]:
    return query(db, "SELECT * FROM outbox WHERE kind = 'forward' ORDER BY created_at, id")


def svar_response_ids(db: Path, patient: str | None = None) -> set[str]:
    if patient is None:
        return {r[0] for r in query(db, "SELECT id FROM responses")}
    return {r[0] for r in query(db, "SELECT r.id FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                                    "WHERE i.patient_id = ?", (patient,))}


def assert_no_secrets(log: str, secrets_: list[str], answers_json: list[str], what: str) -> None:
    for secret in secrets_:
        assert secret not in log, f"{secret!r} appears in the {what} log"
    for answers in answers_json:
        assert answers not in log, f"stored answers {answers} appear in the {what} log"
    for fragment in ('"answer"', "valueCoding", "valueInteger", '"item"'):
        assert fragment not in log, f"{fragment} (a piece of a QuestionnaireResponse) appears in the {what} log"


def assert_problem(reply, status: int) -> dict:
    assert reply.status == status, reply
    assert reply.content_type.split(";")[0].strip() == "application/problem+json", reply
    body = reply.json
    assert body.get("status") == status and body.get("title"), body
    return body


# ---------------------------------------------------------------------------------------------------------------
# 1. `svar score --fhir`: every instrument, every value set, several answer vectors
# ---------------------------------------------------------------------------------------------------------------
def test_every_instrument_and_value_set_gives_a_valid_fhir_bundle(svar):
    listed = svar.run("instruments", "list")
    assert listed.rc == 0, listed
    instruments = [line.split("\t")[0] for line in listed.stdout.splitlines() if "\t" in line]
    assert set(instruments) == {"rand36", "eq5d-5l", "eq5d-3l", "kvarus-followup"}, instruments
    sets = svar.run("score", "--list-value-sets")
    assert sets.rc == 0, sets
    value_sets: dict[str, list[str]] = {}
    for line in sets.stdout.splitlines():
        set_id, instrument = line.split("\t")[:2]
        value_sets.setdefault(instrument, []).append(set_id)
    assert len(value_sets["eq5d-5l"]) >= 9 and len(value_sets["eq5d-3l"]) >= 5, value_sets

    cases = []
    for instrument in instruments:
        for value_set in ([None] + value_sets[instrument] if instrument in EQ5D else [None]):
            for name, answers in vectors(instrument).items():
                cases.append((instrument, value_set, name, answers))

    def run(case):
        instrument, value_set, _, answers = case
        extra = ["--value-set", value_set] if value_set else []
        plain = svar.run("score", instrument, *extra, stdin=json.dumps(answers))
        fhir = svar.run("score", instrument, *extra, "--fhir", stdin=json.dumps(answers))
        return plain, fhir

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, cases))
    problems = []
    for (instrument, value_set, name, answers), (plain, fhir) in zip(cases, results):
        label = f"{instrument} --value-set {value_set} ({name})"
        assert plain.rc == 0 and fhir.rc == 0, f"{label}\n{plain}\n{fhir}"
        errors = fhir_errors(fhir.stdout)
        if errors:
            problems.append(f"{label}: " + "\n  ".join(errors))
            continue
        check_bundle_structure(loads(fhir.stdout), instrument, value_set, answers, loads(plain.stdout))
    assert not problems, "\n".join(problems)
    # 4 instruments; 1 + 9 (5L) and 1 + 5 (3L) value-set choices; 3 vectors each
    assert len(cases) == 3 * (1 + 1 + 1 + len(value_sets["eq5d-5l"]) + 1 + len(value_sets["eq5d-3l"]))


def test_the_bundle_checks_can_fail():
    """The validation and the structure check above catch a broken Bundle (they must be able to fail)."""
    good = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": {"resourceType": "Patient", "identifier": [{"system": PSEUDONYM_SYSTEM, "value": "p"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={PSEUDONYM_SYSTEM}|p"}}]}
    assert fhir_errors(json.dumps(good)) == []
    bad = json.loads(json.dumps(good))
    bad["entry"][0]["resource"]["nickname"] = "Kari"
    assert fhir_errors(json.dumps(bad)), "an element Patient does not have passed the validation"
    bad = json.loads(json.dumps(good))
    bad["entry"].append({"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
                         "resource": {"resourceType": "Observation", "code": {"text": "x"},
                                      "identifier": [{"system": OBSERVATION_SYSTEM, "value": "o"}]},
                         "request": {"method": "POST", "url": "Observation"}})
    assert fhir_errors(json.dumps(bad)), "an Observation without status passed the validation"
    bad = json.loads(json.dumps(good))
    bad["entry"][0]["resource"]["birthDate"] = "31.12.1999"
    assert fhir_errors(json.dumps(bad)), "an invalid date passed the validation"
    with pytest.raises(AssertionError):
        check_bundle_structure(good, "eq5d-5l", None, {}, {"state": None, "index": None, "vas": None, "valueSet": "no-2024"})


# ---------------------------------------------------------------------------------------------------------------
# 2. 500 responses, a registry that fails a third of the time, hangs, throttles and is SIGKILLed: exactly once
# ---------------------------------------------------------------------------------------------------------------
PATIENTS = 250
SUCCESS = {"stored", "existing"}
INJECTED = {"failed-before-store", "failed-after-store", "hung", "throttled"}


def count(db: Path, sql: str) -> int:
    return query(db, sql)[0][0]


def test_500_responses_reach_the_registry_exactly_once_through_failures_and_a_restart(svar, svar_bin, tmp_path, peers,
                                                                                       capsys):
    started = time.monotonic()
    db = tmp_path / "svar.sqlite"
    numbers = synthetic_numbers(PATIENTS, dt.date(1962, 2, 2))
    env = server_env(db)

    # Part 1: 250 patients answer their baseline invitation through the API and the patient pages (no workers).
    srv = start_svar(svar_bin, tmp_path, env, "serve-answering.log")
    try:
        srv.create_unit("4310", "E2E videresending")
        people = make_answered_patients(srv, svar, env, tmp_path, numbers, "4310", seed=2, workers=8)
    finally:
        answering_log = stop_svar(srv)
    answered = time.monotonic()
    responses = svar_response_ids(db)
    assert len(responses) == 2 * PATIENTS, len(responses)
    assert count(db, "SELECT count(*) FROM invitations WHERE state = 'completed'") == PATIENTS
    queued = forwards(db)
    assert len(queued) == 2 * PATIENTS and {r["state"] for r in queued} == {"queued"}, "one queued forward per response"
    assert {r["response_id"] for r in queued} == responses
    score_rows = query(db, "SELECT response_id, key, number, flag FROM scores")
    assert len(score_rows) == PATIENTS * (9 + 7), len(score_rows)   # RAND-36: 9 scales; EQ-5D-5L: index, VAS, 5 levels
    person_of_invitation = {p["invitation"]: p for p in people}
    response_rows = {r["id"]: r for r in query(db, "SELECT r.id, r.invitation_id, r.instrument, i.patient_id "
                                                   "FROM responses r JOIN invitations i ON i.id = r.invitation_id")}

    # Part 2: the forwarder against a failing FHIR registry over HTTPS; the registry is SIGKILLed half-way.
    failures = ["--fail-share", "0.15", "--fail-after-store-share", "0.15", "--hang-share", "0.02", "--hang-seconds", "5",
                "--throttle-share", "0.03"]
    peer = peers(tmp_path / "peer", "--token", REGISTRY_TOKEN, *failures, "--seed", "7", tls=True)
    forward_env = dict(env, SVAR_WORKERS="forwarder", SVAR_REGISTRY_URL=peer.url, SVAR_REGISTRY_TOKEN=REGISTRY_TOKEN,
                       SVAR_REGISTRY_CA_FILE=str(peer.tls / "cert.pem"), SVAR_REGISTRY_TIMEOUT="2",
                       SVAR_FORWARD_RETRY_FIRST="1", SVAR_FORWARD_RETRY_LONGEST="3", SVAR_FORWARD_ATTEMPTS="100")
    forwarding_started = time.monotonic()
    deadline = forwarding_started + 240
    sent = lambda: count(db, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND state = 'sent'")  # noqa: E731
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    srv = start_svar(svar_bin, tmp_path, forward_env, "serve-forwarding.log")
    try:
        while sent() < 60:
            assert time.monotonic() < deadline and srv.proc.poll() is None, f"forwarding did not get going:\n{srv.logs()[-3000:]}"
            time.sleep(0.2)
        peer.kill()
        sent_at_kill = sent()
        requests_before_kill = peer.rows("SELECT count(*) FROM requests")[0][0]
        assert sent_at_kill < 2 * PATIENTS, "everything was forwarded before the registry could be killed"
        time.sleep(1.0)                                        # Svar meets a refused connection meanwhile
        peer.start("--token", REGISTRY_TOKEN, *failures, "--seed", "8")
        # A second forwarder at the same time (`svar forward`, another process on the same database) must not
        # send anything that the worker sends.
        cli_pass = pool.submit(svar.run, "forward", env=forward_env, cwd=tmp_path, timeout=200)
        while count(db, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND state = 'queued'") > 0:
            assert time.monotonic() < deadline, f"forwards still queued after 240 s: {sent()} sent\n{srv.logs()[-3000:]}"
            time.sleep(0.5)
        cli_result = cli_pass.result(timeout=max(1.0, deadline - time.monotonic()))
        finished = time.monotonic()
    finally:
        pool.shutdown(wait=False)
        forwarding_log = stop_svar(srv)
    assert peer.stop() == 0
    assert cli_result.rc == 0, cli_result
    by_worker = sum(int(n) for n in re.findall(r"forwarded=(\d+)", forwarding_log))
    by_cli = parse_forward(cli_result.stdout)["forwarded"]
    assert by_worker + by_cli == 2 * PATIENTS, f"worker {by_worker} + svar forward {by_cli} != {2 * PATIENTS}"

    # The registry holds every response exactly once, with its scores, under 250 pseudonymous Patients.
    requests = peer.rows("SELECT id, idempotency_key, status, outcome FROM requests ORDER BY id")
    outcomes = {}
    for _, _, _, outcome in requests:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    with capsys.disabled():
        print(f"\n[forwarding] answering {PATIENTS} patients: {answered - started:.1f} s; forwarding "
              f"{2 * PATIENTS} responses: {finished - forwarding_started:.1f} s; {len(requests)} requests "
              f"({requests_before_kill} before the SIGKILL at {sent_at_kill} sent): {outcomes}; forwarded by the "
              f"worker {by_worker}, by a concurrent `svar forward` {by_cli}")
    assert peer.rows("SELECT count(*) FROM invalid") == [(0,)], peer.rows("SELECT errors FROM invalid LIMIT 3")
    assert set(outcomes) <= SUCCESS | INJECTED, outcomes
    for kind in ("failed-before-store", "failed-after-store", "hung", "throttled"):
        assert outcomes.get(kind), f"no {kind} request happened: {outcomes}"

    questionnaire_responses = peer.resources("QuestionnaireResponse")
    assert len(questionnaire_responses) == 2 * PATIENTS
    held = [qr["identifier"]["value"] for qr in questionnaire_responses]
    assert len(set(held)) == len(held) and set(held) == responses, (
        f"missing: {sorted(responses - set(held))[:5]}, unknown: {sorted(set(held) - responses)[:5]}")
    assert {qr["identifier"]["system"] for qr in questionnaire_responses} == {RESPONSE_SYSTEM}
    patients = {f"Patient/{p['id']}": p for p in peer.resources("Patient")}
    assert len(patients) == PATIENTS, len(patients)
    assert {p["identifier"][0]["system"] for p in patients.values()} == {PSEUDONYM_SYSTEM}
    registry_patient_of: dict[str, str] = {}          # Svar's patient id -> the registry's Patient
    qr_by_ref = {}
    for qr in questionnaire_responses:
        response = response_rows[qr["identifier"]["value"]]
        person = person_of_invitation[response["invitation_id"]]
        assert qr["subject"]["reference"] in patients, qr["subject"]
        assert registry_patient_of.setdefault(person["patient"], qr["subject"]["reference"]) == qr["subject"]["reference"], \
            "one Svar patient's two responses name different registry Patients"
        instrument = qr["questionnaire"].split(":")[-1].split("|")[0]
        assert instrument == response["instrument"], (qr["questionnaire"], response["instrument"])
        ids = {item["linkId"] for item in leaf_items(instrument)}
        assert flatten_qr_items(qr["item"]) == {k: v for k, v in person["answers"].items() if k in ids}, \
            "the registry's QuestionnaireResponse differs from what the patient answered on the pages"
        qr_by_ref[f"QuestionnaireResponse/{qr['id']}"] = qr
    assert len(set(registry_patient_of.values())) == PATIENTS, "two Svar patients share a registry Patient"
    for pseudonym in (p["identifier"][0]["value"] for p in patients.values()):
        assert pseudonym not in registry_patient_of, "a registry Patient is named by Svar's own patient id"

    observations = peer.resources("Observation")
    assert len(observations) == len(score_rows), (len(observations), len(score_rows))
    expected = {f"{r['response_id']}/{r['key']}": r for r in score_rows}
    seen = set()
    for obs in observations:
        value = obs["identifier"][0]["value"]
        assert value in expected and value not in seen, value
        seen.add(value)
        source = qr_by_ref[obs["derivedFrom"][0]["reference"]]
        assert value.startswith(source["identifier"]["value"] + "/"), (value, source["identifier"])
        assert obs["subject"] == source["subject"]
        number = expected[value]["number"]
        if number is None:
            assert "valueQuantity" not in obs, obs
        else:
            assert Decimal(str(obs["valueQuantity"]["value"])) == Decimal(number), (value, obs["valueQuantity"], number)

    # Idempotency keys; Svar stops sending a response once the registry acknowledged it (except, at most, the one
    # whose answer the SIGKILL cut off); nothing stored twice (the conditional creates see the earlier copy).
    keys = {f"svar-forward-{r}" for r in responses}
    per_key: dict[str, list[tuple[int | None, str]]] = {}
    for _, key, status, outcome in requests:
        per_key.setdefault(key, []).append((status, outcome))
    assert set(per_key) == keys, "requests with unknown or missing Idempotency-Keys"
    resent = {k: seq for k, seq in per_key.items() if any(status == 200 for status, _ in seq[:-1])}
    assert len(resent) <= 1, f"responses sent again after the registry acknowledged them: {dict(list(resent.items())[:5])}"
    for key, seq in per_key.items():
        assert seq[-1][0] == 200, f"the last request for {key} was not a success: {seq}"
        outcomes_of_key = [outcome for _, outcome in seq]
        assert outcomes_of_key.count("stored") <= 1, (key, seq)
        if "failed-after-store" in outcomes_of_key:
            assert "stored" not in outcomes_of_key[outcomes_of_key.index("failed-after-store"):], (key, seq)
            assert outcomes_of_key[-1] == "existing", (key, seq)

    # Svar: every forward sent, one disclosure per response, nothing dead-lettered.
    rows = forwards(db)
    assert len(rows) == 2 * PATIENTS and {r["state"] for r in rows} == {"sent"}, \
        {s: sum(1 for r in rows if r["state"] == s) for s in {r["state"] for r in rows}}
    disclosures = query(db, "SELECT * FROM disclosure_log")
    assert len(disclosures) == 2 * PATIENTS and {d["response_id"] for d in disclosures} == responses
    for d in disclosures:
        assert d["recipient"] == f"FHIR registry {peer.url}", d["recipient"]
        assert d["identified_by"] == "registry pseudonym", d["identified_by"]
        assert d["subject"] == response_rows[d["response_id"]]["patient_id"], dict(d)
        assert d["receipt"].startswith("HTTP 200"), d["receipt"]
        assert response_rows[d["response_id"]]["instrument"] in d["data_set"], d["data_set"]
    failed = svar.run("forwarding", "failed", env=env, cwd=tmp_path)
    assert failed.rc == 0 and failed.stdout == "" and "0 failed forward(s)" in failed.stderr, failed

    # Nothing identifying, secret or answered in either log.
    raw_answers = [r[0] for r in query(db, "SELECT answers FROM responses")]
    for name, log in (("answering", answering_log), ("forwarding", forwarding_log)):
        assert_no_secrets(log, numbers + [REGISTRY_TOKEN, env["SVAR_API_TOKEN"], env["SVAR_VAULT_KEY"]], raw_answers, name)


# ---------------------------------------------------------------------------------------------------------------
# 3. A refused Bundle: dead-letter list (CLI and API), sent again after the registry is fixed
# ---------------------------------------------------------------------------------------------------------------
def test_a_refused_bundle_goes_to_the_dead_letter_list_and_can_be_sent_again(svar, svar_bin, tmp_path, peers):
    db = tmp_path / "svar.sqlite"
    number = synthetic_numbers(1, dt.date(1985, 3, 3))[0]
    peer = peers(tmp_path / "peer", "--token", REGISTRY_TOKEN, "--reject-share", "1")
    env = server_env(db, SVAR_REGISTRY_URL=peer.url, SVAR_REGISTRY_TOKEN=REGISTRY_TOKEN)
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4301", "E2E forwarding")
        person = make_answered_patients(srv, svar, env, tmp_path, [number], "4301")[0]
        responses = svar_response_ids(db)
        assert len(responses) == 2, responses
        assert {r["state"] for r in forwards(db)} == {"queued"} and len(forwards(db)) == 2, [dict(r) for r in forwards(db)]

        # a wrong token (401) is the operator's to fix: retried later, not dead-lettered
        wrong = dict(env, SVAR_REGISTRY_TOKEN="not-the-" + REGISTRY_TOKEN)
        result = svar.run("forward", env=wrong, cwd=tmp_path)
        assert result.rc == 0, result
        report = parse_forward(result.stdout)
        assert (report["forwarded"], report["retrying"], report["deadLettered"]) == (0, 2, 0), result
        assert [r["state"] for r in forwards(db)] == ["queued", "queued"]
        assert peer.rows("SELECT outcome, status FROM requests") == [("unauthorized", 401)] * 2

        # the right token, and a registry that refuses the Bundle (422): dead-lettered at once
        later = (dt.datetime.now(OSLO) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")   # the retries are due
        result = svar.run("forward", "--now", later, env=env, cwd=tmp_path)
        assert result.rc == 0, result
        report = parse_forward(result.stdout)
        assert (report["forwarded"], report["retrying"], report["deadLettered"]) == (0, 0, 2), result
        rows = forwards(db)
        assert [r["state"] for r in rows] == ["failed", "failed"], [dict(r) for r in rows]
        assert {r["response_id"] for r in rows} == responses
        assert peer.rows("SELECT outcome, status FROM requests") == [("unauthorized", 401)] * 2 + [("rejected", 422)] * 2
        assert peer.rows("SELECT count(*) FROM resources") == [(0,)]

        listed = svar.run("forwarding", "failed", env=env, cwd=tmp_path)
        assert listed.rc == 0 and "2 failed forward(s)" in listed.stderr, listed
        lines = [line.split("\t") for line in listed.stdout.splitlines()]
        assert len(lines) == 2 and all(len(fields) == 6 for fields in lines), listed
        assert {f[0] for f in lines} == {r["id"] for r in rows}, listed
        for fid, patient, response, attempts, at, reason in lines:
            assert patient == person["patient"] and response in responses and attempts == "2", listed
            dt.datetime.fromisoformat(at)
            assert "422" in reason and "injected rejection" in reason, f"the reason does not say what the registry said: {reason!r}"

        reply = srv.get("/api/v1/forwarding/failed")
        assert reply.status == 200, reply
        api_items = reply.json
        assert sorted((i["id"], i["patient"], i["response"], str(i["attempts"]), i["failedAt"], i["reason"]) for i in api_items) \
            == sorted(tuple(f) for f in lines), (api_items, lines)
        assert srv.get("/api/v1/forwarding/failed", token=None).status == 401

        # the registry is fixed; one forward is sent again from the CLI, the other through the API
        assert peer.stop() == 0
        peer.start("--token", REGISTRY_TOKEN)
        by_response = {f[2]: f[0] for f in lines}
        first, second = (by_response[r] for r in sorted(by_response))
        again = svar.run("forwarding", "retry", first, env=env, cwd=tmp_path)
        assert again.rc == 0 and again.stdout.strip() == f"forward {first} queued again", again
        reply = srv.post(f"/api/v1/forwarding/{second}/retry")
        assert reply.status == 202 and reply.json.get("id") == second, reply
        assert svar.run("forwarding", "failed", env=env, cwd=tmp_path).stdout.strip() == ""
        assert srv.get("/api/v1/forwarding/failed").json == []

        result = svar.run("forward", env=env, cwd=tmp_path)
        assert result.rc == 0, result
        report = parse_forward(result.stdout)
        assert (report["forwarded"], report["retrying"], report["deadLettered"]) == (2, 0, 0), result
        assert [r["state"] for r in forwards(db)] == ["sent", "sent"]
        held = {qr["identifier"]["value"] for qr in peer.resources("QuestionnaireResponse")}
        assert held == responses, (held, responses)
        assert sorted(r[0] for r in peer.rows("SELECT outcome FROM requests")) == \
            ["rejected", "rejected", "stored", "stored", "unauthorized", "unauthorized"]
        keys = {r[0] for r in peer.rows("SELECT idempotency_key FROM requests")}
        assert keys == {f"svar-forward-{r}" for r in responses}, keys
        assert {r[0] for r in query(db, "SELECT response_id FROM disclosure_log")} == responses

        # unknown ids, and a forward that is not failed
        bad = svar.run("forwarding", "retry", "no-such-forward", env=env, cwd=tmp_path)
        assert bad.rc == 1 and "ID:" in bad.stderr, bad
        assert_problem(srv.post("/api/v1/forwarding/no-such-forward/retry"), 404)
        sent_again = svar.run("forwarding", "retry", first, env=env, cwd=tmp_path)
        assert sent_again.rc == 1 and "ID:" in sent_again.stderr, sent_again
        assert_problem(srv.post(f"/api/v1/forwarding/{second}/retry"), 409)
        assert srv.post(f"/api/v1/forwarding/{second}/retry", token=None).status == 401
    finally:
        log = stop_svar(srv)
    assert_no_secrets(log, [number, REGISTRY_TOKEN, env["SVAR_API_TOKEN"]],
                      [r[0] for r in query(db, "SELECT answers FROM responses")], "serve")


def files_bytes(folder: Path, stem: str) -> bytes:
    """The bytes of a SQLite database and its -wal/-shm/-journal files."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob(stem + "*")) if p.is_file())


# ---------------------------------------------------------------------------------------------------------------
# 4. The local registry store is the default target
# ---------------------------------------------------------------------------------------------------------------
def test_local_registry_store_is_the_default(svar, svar_bin, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "svar.sqlite"
    numbers = synthetic_numbers(2, dt.date(1986, 4, 4))
    env = server_env(db)
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4302", "E2E lokalt register")
        people = make_answered_patients(srv, svar, env, tmp_path, numbers, "4302")
        responses = svar_response_ids(db)
        assert len(responses) == 4
        result = svar.run("forward", env=env, cwd=tmp_path)   # the working directory is not the database's folder
        assert result.rc == 0, result
        report = parse_forward(result.stdout)
        assert (report["forwarded"], report["retrying"], report["deadLettered"]) == (4, 0, 0), result
        again = svar.run("forward", env=env, cwd=tmp_path)
        assert again.rc == 0 and parse_forward(again.stdout)["forwarded"] == 0, again
        disclosures = {p["patient"]: srv.get(f"/api/v1/disclosures?patient={p['patient']}") for p in people}
        reply = srv.get("/api/v1/disclosures")
        assert reply.status == 200, reply
        all_disclosures = reply.json
        assert_problem(srv.get("/api/v1/disclosures?limit=0"), 400)
        assert srv.get("/api/v1/disclosures", token=None).status == 401
    finally:
        log = stop_svar(srv)

    store = data / "registry.sqlite"
    assert store.is_file(), f"no registry.sqlite beside the database: {sorted(p.name for p in data.iterdir())}"
    assert not (tmp_path / "registry.sqlite").exists(), "the registry store was made in the working directory"
    results = query(store, "SELECT * FROM results ORDER BY response_id")
    assert {r["response_id"] for r in results} == responses, [dict(r) for r in results]
    svar_scores = query(db, "SELECT response_id, key, number, flag, algorithm, value_set FROM scores ORDER BY response_id, key")
    registry_scores = query(store, "SELECT response_id, key, number, flag, algorithm, value_set FROM result_scores "
                                   "ORDER BY response_id, key")
    assert [tuple(r) for r in registry_scores] == [tuple(r) for r in svar_scores]
    raw_answers = [r["answers"] for r in query(db, "SELECT answers FROM responses")]
    stored_answers = {r["id"]: json.loads(r["answers"]) for r in query(db, "SELECT id, answers FROM responses")}
    pseudonyms = {}
    for person in people:
        mine = svar_response_ids(db, person["patient"])
        rows = [r for r in results if r["response_id"] in mine]
        assert len(rows) == 2 and len({r["pseudonym"] for r in rows}) == 1, [dict(r) for r in rows]
        pseudonym = rows[0]["pseudonym"]
        assert pseudonym != person["patient"] and person["patient"] not in pseudonym, "results carry Svar's patient id"
        pseudonyms[person["patient"]] = pseudonym
        for row in rows:
            assert row["unit"] == "4302" and row["milestone"] == "baseline", dict(row)
            assert json.loads(row["answers"]) == stored_answers[row["response_id"]]
            bundle = json.loads(row["bundle"])
            assert not fhir_errors(row["bundle"]), fhir_errors(row["bundle"])
            patient_entry = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"][0]
            assert patient_entry["resource"]["identifier"] == [{"system": PSEUDONYM_SYSTEM, "value": pseudonym}], patient_entry
        # every answer the patient gave on the pages is what the registry holds
        held = {}
        for row in rows:
            held.update(json.loads(row["answers"]))
        assert {k: int(v) for k, v in held.items()} == person["answers"]
    assert len(set(pseudonyms.values())) == 2

    vault = query(store, "SELECT pseudonym, system, sealed FROM identity_vault ORDER BY pseudonym")
    assert {r["pseudonym"] for r in vault} == set(pseudonyms.values()), [dict(r) for r in vault]
    for row in vault:
        assert row["system"].startswith("urn:oid:2.16.578.1.12.4.1.4."), row["system"]
        assert isinstance(row["sealed"], bytes) and len(row["sealed"]) >= 11 + 16, "the sealed number is too short to be sealed"
    registry_bytes, svar_bytes = files_bytes(data, "registry.sqlite"), files_bytes(data, "svar.sqlite")
    for number in numbers:
        for name, blob in (("registry.sqlite", registry_bytes), ("svar.sqlite", svar_bytes)):
            assert number.encode() not in blob, f"the identity number appears in {name}"
    for patient in pseudonyms:
        assert patient.encode() not in registry_bytes, "Svar's patient id appears in the registry store"

    rows = query(db, "SELECT * FROM disclosure_log ORDER BY id")
    assert {r["response_id"] for r in rows} == responses and len(rows) == 4, [dict(r) for r in rows]
    for row in rows:
        assert row["recipient"] == f"local registry store ({store})", row["recipient"]
        assert row["identified_by"].startswith("registry pseudonym"), row["identified_by"]
        assert row["subject"] in pseudonyms and row["basis"] and row["receipt"], dict(row)
    for patient, reply in disclosures.items():
        assert reply.status == 200, reply
        items = reply.json
        assert {i["response"] for i in items} == svar_response_ids(db, patient) and len(items) == 2, items
        assert all(i["patient"] == patient and i["recipient"].startswith("local registry store (") for i in items), items
        assert set(items[0]) == {"at", "recipient", "patient", "identifiedBy", "dataSet", "response", "basis", "receipt"}, items[0]
    cli = svar.run("forwarding", "disclosures", "--patient", people[0]["patient"], env=env, cwd=tmp_path)
    assert cli.rc == 0, cli
    assert [json.loads(line) for line in cli.stdout.splitlines()] == disclosures[people[0]["patient"]].json
    everything = svar.run("forwarding", "disclosures", env=env, cwd=tmp_path)
    assert everything.rc == 0, everything
    newest_first = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [d["response"] for d in newest_first] == [r["response_id"] for r in reversed(rows)], newest_first
    assert newest_first == all_disclosures, (newest_first, all_disclosures)
    assert_no_secrets(log, numbers + [env["SVAR_API_TOKEN"]], raw_answers, "serve")


# ---------------------------------------------------------------------------------------------------------------
# 5. Reservation: nothing more of that patient is forwarded
# ---------------------------------------------------------------------------------------------------------------
def test_nothing_is_forwarded_after_a_reservation(svar, svar_bin, tmp_path, peers):
    db = tmp_path / "svar.sqlite"
    numbers = synthetic_numbers(2, dt.date(1987, 5, 5))
    peer = peers(tmp_path / "peer", "--token", REGISTRY_TOKEN)
    env = server_env(db, SVAR_REGISTRY_URL=peer.url, SVAR_REGISTRY_TOKEN=REGISTRY_TOKEN)
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4303", "E2E reservasjon")
        reserved, other = make_answered_patients(srv, svar, env, tmp_path, numbers, "4303")
        reply = srv.post(f"/api/v1/patients/{reserved['patient']}/reservation")
        assert reply.status in (200, 201), reply
        result = svar.run("forward", env=env, cwd=tmp_path)
        assert result.rc == 0, result
        report = parse_forward(result.stdout)
        assert (report["forwarded"], report["deadLettered"]) == (2, 0), result
        states = {r["response_id"]: r["state"] for r in forwards(db)}
        reserved_ids, other_ids = svar_response_ids(db, reserved["patient"]), svar_response_ids(db, other["patient"])
        assert len(reserved_ids) == 2 and len(other_ids) == 2
        assert {states[r] for r in reserved_ids} == {"cancelled"}, states
        assert {states[r] for r in other_ids} == {"sent"}, states
        # a cancelled forward cannot be sent again
        cancelled = [r["id"] for r in forwards(db) if r["state"] == "cancelled"]
        refused = svar.run("forwarding", "retry", cancelled[0], env=env, cwd=tmp_path)
        assert refused.rc == 1 and "ID:" in refused.stderr, refused
        assert_problem(srv.post(f"/api/v1/forwarding/{cancelled[0]}/retry"), 409)
        assert parse_forward(svar.run("forward", env=env, cwd=tmp_path).stdout)["forwarded"] == 0
        assert srv.get(f"/api/v1/disclosures?patient={reserved['patient']}").json == []
    finally:
        stop_svar(srv)
    held = {qr["identifier"]["value"] for qr in peer.resources("QuestionnaireResponse")}
    assert held == other_ids, (held, other_ids)
    assert len(peer.resources("Patient")) == 1
    keys = {r[0] for r in peer.rows("SELECT idempotency_key FROM requests")}
    assert keys == {f"svar-forward-{r}" for r in other_ids}, "a request about the reserved patient reached the registry"
    assert {r[0] for r in query(db, "SELECT response_id FROM disclosure_log")} == other_ids


# ---------------------------------------------------------------------------------------------------------------
# 6. Deletion: Svar's data at once, the local registry's in the next forwarding pass; the disclosure log stays
# ---------------------------------------------------------------------------------------------------------------
def test_deletion_erases_svar_and_the_local_registry_but_keeps_the_disclosure_log(svar, svar_bin, tmp_path):
    db = tmp_path / "svar.sqlite"
    numbers = synthetic_numbers(2, dt.date(1988, 6, 6))
    env = server_env(db)
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4304", "E2E sletting")
        deleted, other = make_answered_patients(srv, svar, env, tmp_path, numbers, "4304")
        patient = deleted["patient"]
        own = svar_response_ids(db, patient)
        assert len(own) == 2
        assert parse_forward(svar.run("forward", env=env, cwd=tmp_path).stdout)["forwarded"] == 4
        store = tmp_path / "registry.sqlite"
        pseudonym = query(store, "SELECT pseudonym FROM results WHERE response_id = ?", (sorted(own)[0],))[0][0]
        assert query(store, "SELECT count(*) FROM results WHERE pseudonym = ?", (pseudonym,))[0][0] == 2
        assert query(store, "SELECT count(*) FROM identity_vault WHERE pseudonym = ?", (pseudonym,))[0][0] == 1
        before = srv.get(f"/api/v1/disclosures?patient={patient}").json
        assert {d["response"] for d in before} == own

        assert_problem(srv.get(f"/api/v1/patients/{patient}/deletion-request"), 404)
        assert_problem(srv.post("/api/v1/patients/00000000-0000-4000-8000-000000000000/deletion-request"), 404)
        assert srv.post(f"/api/v1/patients/{patient}/deletion-request", token=None).status == 401
        reply = srv.post(f"/api/v1/patients/{patient}/deletion-request")
        assert reply.status == 202, reply
        report = reply.json
        assert set(report) == {"patient", "state", "requestedAt", "deadline", "completedAt", "erased", "kept"}, report
        assert report["patient"] == patient and report["state"] == "erasing-at-registry", report
        assert any("responses: 2" in e for e in report["erased"]), report["erased"]
        assert report["completedAt"] is None and report["requestedAt"] and report["deadline"], report
        assert dt.datetime.fromisoformat(report["deadline"]) > dt.datetime.fromisoformat(report["requestedAt"])
        # Svar's own data is gone at once
        assert query(db, "SELECT count(*) FROM invitations WHERE patient_id = ?", (patient,))[0][0] == 0
        assert query(db, "SELECT count(*) FROM responses WHERE id IN (?, ?)", tuple(own))[0][0] == 0
        assert query(db, "SELECT count(*) FROM scores WHERE response_id IN (?, ?)", tuple(own))[0][0] == 0
        assert query(db, "SELECT count(*) FROM identity_vault WHERE patient_id = ?", (patient,))[0][0] == 0
        assert query(db, "SELECT count(*) FROM courses WHERE patient_id = ?", (patient,))[0][0] == 0
        # the registry's part waits for the forwarder
        assert query(store, "SELECT count(*) FROM results WHERE pseudonym = ?", (pseudonym,))[0][0] == 2
        assert srv.get(f"/api/v1/patients/{patient}/deletion-request").json["state"] == "erasing-at-registry"

        result = svar.run("forward", env=env, cwd=tmp_path)
        assert result.rc == 0 and parse_forward(result.stdout)["erased"] == 1, result
        reply = srv.get(f"/api/v1/patients/{patient}/deletion-request")
        assert reply.status == 200, reply
        final = reply.json
        assert final["state"] == "done" and final["completedAt"], final
        assert any("disclosure log" in k for k in final["kept"]), final["kept"]
        assert any("registry" in e for e in final["erased"]), final["erased"]
        # the disclosure log still tells the patient what was disclosed, to whom
        after = srv.get(f"/api/v1/disclosures?patient={patient}").json
        assert after == before, (after, before)
        # a repeated request changes nothing
        again = srv.post(f"/api/v1/patients/{patient}/deletion-request")
        assert again.status == 202 and again.json["state"] == "done", again
        # the other patient is untouched, and nothing new reaches the registry for the deleted one
        assert len(svar_response_ids(db, other["patient"])) == 2
        assert parse_forward(svar.run("forward", env=env, cwd=tmp_path).stdout)["forwarded"] == 0
    finally:
        log = stop_svar(srv)
    assert query(store, "SELECT count(*) FROM results WHERE pseudonym = ?", (pseudonym,))[0][0] == 0
    assert query(store, "SELECT count(*) FROM result_scores WHERE response_id IN (?, ?)", tuple(own))[0][0] == 0
    assert query(store, "SELECT count(*) FROM identity_vault WHERE pseudonym = ?", (pseudonym,))[0][0] == 0
    assert query(store, "SELECT count(*) FROM results")[0][0] == 2, "the other patient's results were erased too"
    assert [r[0] for r in query(store, "SELECT pseudonym FROM erasures")] == [pseudonym]
    assert len(query(db, "SELECT * FROM disclosure_log WHERE subject = ?", (patient,))) == 2
    for number in numbers:
        assert number not in log


# ---------------------------------------------------------------------------------------------------------------
# 7. Bad configuration stops `svar forward` (and `svar serve` with the forwarder) naming the variable
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings,variable", [
    ({"SVAR_REGISTRY_URL": "http://registry.example.com/fhir"}, "SVAR_REGISTRY_URL"),
    ({"SVAR_REGISTRY_URL": "ftp://127.0.0.1/fhir"}, "SVAR_REGISTRY_URL"),
    ({"SVAR_REGISTRY_URL": "https://127.0.0.1:9/fhir", "SVAR_REGISTRY_TIMEOUT": "0"}, "SVAR_REGISTRY_TIMEOUT"),
    ({"SVAR_REGISTRY_URL": "https://127.0.0.1:9/fhir", "SVAR_REGISTRY_TIMEOUT": "301"}, "SVAR_REGISTRY_TIMEOUT"),
    # Without SVAR_REGISTRY_URL the registry settings do not apply, and saying so beats ignoring them.
    ({"SVAR_REGISTRY_TIMEOUT": "0"}, "SVAR_REGISTRY_TIMEOUT"),
    ({"SVAR_FORWARD_RETRY_FIRST": "0.5"}, "SVAR_FORWARD_RETRY_FIRST"),
    ({"SVAR_FORWARD_ATTEMPTS": "abc"}, "SVAR_FORWARD_ATTEMPTS"),
    ({"SVAR_FORWARD_ATTEMPTS": "0"}, "SVAR_FORWARD_ATTEMPTS"),
    ({"SVAR_FORWARD_RETRY_FIRST": "10", "SVAR_FORWARD_RETRY_LONGEST": "5"}, "SVAR_FORWARD_RETRY_LONGEST"),
    ({"SVAR_REGISTRY_URL": "https://127.0.0.1:9/fhir", "SVAR_REGISTRY_IDENTITY": "name"}, "SVAR_REGISTRY_IDENTITY"),
    ({"SVAR_REGISTRY_URL": "https://127.0.0.1:9/fhir", "SVAR_REGISTRY_CA_FILE": "/nonexistent/ca.pem"}, "SVAR_REGISTRY_CA_FILE"),
    ({"SVAR_REGISTRY_TOKEN": "abc"}, "SVAR_REGISTRY_TOKEN"),
    ({"SVAR_REGISTRY_URL": "https://127.0.0.1:9/fhir", "SVAR_REGISTRY_TOKEN": "two words"}, "SVAR_REGISTRY_TOKEN"),
    ({"SVAR_REGISTRY_STORE": "SVAR_DATABASE"}, "SVAR_REGISTRY_STORE"),
])
def test_bad_forwarding_settings_stop_with_the_variable_named(svar, svar_bin, tmp_path, settings, variable):
    db = tmp_path / "svar.sqlite"
    settings = {k: str(db) if v == "SVAR_DATABASE" else v for k, v in settings.items()}
    env = server_env(db, **settings)
    result = svar.run("forward", env=env, cwd=tmp_path)
    assert result.rc == 1 and variable in result.stderr, result
    assert "forward at" not in result.stdout, result
    serve_env = dict(env, SVAR_WORKERS="forwarder", SVAR_PORT=str(free_port()))
    proc = subprocess.run([svar_bin, "serve"], env=clean_env(serve_env), cwd=tmp_path, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode != 0 and variable in proc.stdout + proc.stderr, (proc.returncode, proc.stdout, proc.stderr)


# ---------------------------------------------------------------------------------------------------------------
# 8. SVAR_REGISTRY_IDENTITY=number: the Patient is named by the identity number under its OID
# ---------------------------------------------------------------------------------------------------------------
def test_the_identity_number_is_sent_only_when_the_registry_is_entitled_to_it(svar, svar_bin, tmp_path, peers):
    db = tmp_path / "svar.sqlite"
    number = synthetic_numbers(1, dt.date(1989, 7, 7))[0]
    peer = peers(tmp_path / "peer", "--token", REGISTRY_TOKEN)
    env = server_env(db, SVAR_REGISTRY_URL=peer.url, SVAR_REGISTRY_TOKEN=REGISTRY_TOKEN, SVAR_REGISTRY_IDENTITY="number")
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4305", "E2E fødselsnummer")
        person = make_answered_patients(srv, svar, env, tmp_path, [number], "4305")[0]
        result = svar.run("forward", env=env, cwd=tmp_path)
        assert result.rc == 0 and parse_forward(result.stdout)["forwarded"] == 2, result
        # a deletion cannot reach into the FHIR registry's copy: the report says so
        reply = srv.post(f"/api/v1/patients/{person['patient']}/deletion-request")
        assert reply.status == 202 and reply.json["state"] == "erasing-at-registry", reply
        result = svar.run("forward", env=env, cwd=tmp_path)
        assert result.rc == 0 and parse_forward(result.stdout)["erased"] == 1, result
        final = srv.get(f"/api/v1/patients/{person['patient']}/deletion-request").json
        assert final["state"] == "done", final
        assert any(peer.url in k for k in final["kept"]), f"the report does not say the registry keeps its copy: {final}"
    finally:
        log = stop_svar(srv)
    patients = peer.resources("Patient")
    assert [p["identifier"] for p in patients] == [[{"system": NIN_OID, "value": number}]], patients
    for qr in peer.resources("QuestionnaireResponse"):
        assert qr["subject"] == {"reference": f"Patient/{patients[0]['id']}"}, qr["subject"]
    disclosures = query(db, "SELECT identified_by, subject FROM disclosure_log")
    assert [tuple(d) for d in disclosures] == [("identity number", person["patient"])] * 2, [tuple(d) for d in disclosures]
    # reading the number from the vault is audited
    audit = query(db, "SELECT actor, action FROM audit_log WHERE subject = ? AND actor = 'forwarder'", (person["patient"],))
    assert audit, "reading the identity number for forwarding left no audit entry"
    assert number not in log and REGISTRY_TOKEN not in log


# ---------------------------------------------------------------------------------------------------------------
# 9. Transient failures wait (backoff, Retry-After) and go to the dead-letter list when the attempts run out
# ---------------------------------------------------------------------------------------------------------------
def test_transient_failures_wait_and_give_up_after_the_attempts(svar, svar_bin, tmp_path, peers):
    db = tmp_path / "svar.sqlite"
    number = synthetic_numbers(1, dt.date(1990, 8, 8))[0]
    failing = peers(tmp_path / "failing", "--fail-share", "1")
    env = server_env(db, SVAR_REGISTRY_URL=failing.url, SVAR_FORWARD_ATTEMPTS="2")
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4306", "E2E forsøk")
        make_answered_patients(srv, svar, env, tmp_path, [number], "4306")
    finally:
        stop_svar(srv)
    t = dt.datetime.now(OSLO).replace(second=0, microsecond=0) + dt.timedelta(days=1)
    at = lambda d: d.strftime("%Y-%m-%dT%H:%M")  # noqa: E731

    # 500: retried after the backoff (30 s at first by default), not sooner; given up after 2 attempts
    first = svar.run("forward", "--now", at(t), env=env, cwd=tmp_path)
    assert first.rc == 0 and parse_forward(first.stdout)["retrying"] == 2, first
    same_time = svar.run("forward", "--now", at(t), env=env, cwd=tmp_path)
    assert parse_forward(same_time.stdout)["retrying"] == 0, f"retried before the backoff was over:\n{same_time}"
    assert failing.rows("SELECT count(*) FROM requests") == [(2,)]
    last = svar.run("forward", "--now", at(t + dt.timedelta(hours=1)), env=env, cwd=tmp_path)
    assert parse_forward(last.stdout)["deadLettered"] == 2, last
    assert failing.rows("SELECT outcome FROM requests") == [("failed-before-store",)] * 4
    listed = svar.run("forwarding", "failed", env=env, cwd=tmp_path)
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert len(lines) == 2 and all(f[3] == "2" and "500" in f[5] and "2 attempts" in f[5] for f in lines), listed

    # 429 with Retry-After: 1 — with the shortest backoff (1 s), not again within the same pass
    throttling = peers(tmp_path / "throttling", "--throttle-share", "1")
    env2 = dict(env, SVAR_REGISTRY_URL=throttling.url, SVAR_FORWARD_ATTEMPTS="3", SVAR_FORWARD_RETRY_FIRST="1",
                SVAR_FORWARD_RETRY_LONGEST="1")
    for fid in (f[0] for f in lines):
        assert svar.run("forwarding", "retry", fid, env=env2, cwd=tmp_path).rc == 0
    t2 = t + dt.timedelta(hours=2)
    result = svar.run("forward", "--now", at(t2), env=env2, cwd=tmp_path)
    report = parse_forward(result.stdout)
    assert (report["retrying"], report["deadLettered"]) == (2, 0), result
    assert throttling.rows("SELECT outcome FROM requests") == [("throttled",)] * 2, \
        "a 429 with Retry-After: 1 was retried at once"
    result = svar.run("forward", "--now", at(t2 + dt.timedelta(minutes=1)), env=env2, cwd=tmp_path)
    assert parse_forward(result.stdout)["retrying"] == 2 and throttling.rows("SELECT count(*) FROM requests") == [(4,)], result


# ---------------------------------------------------------------------------------------------------------------
# 10. A password in SVAR_REGISTRY_URL is refused, or else written down nowhere
# ---------------------------------------------------------------------------------------------------------------
def test_a_password_in_the_registry_url_is_refused_without_being_repeated(svar, svar_bin, tmp_path, peers):
    """The registry URL goes into the log and the append-only disclosure log: a user or password in it is refused
    (credentials belong in SVAR_REGISTRY_TOKEN), and the refusal does not repeat the password."""
    password = "s3cret-pw-" + "7d1e"
    db = tmp_path / "svar.sqlite"
    peer = peers(tmp_path / "peer")
    env = server_env(db, SVAR_REGISTRY_URL=peer.url.replace("http://", f"http://svar:{password}@"), SVAR_WORKERS="forwarder")
    for command in (["forward"], ["serve"]):
        refused = svar.run(*command, env=env, cwd=tmp_path, timeout=30)
        assert refused.rc == 1 and "SVAR_REGISTRY_URL" in refused.stderr and "SVAR_REGISTRY_TOKEN" in refused.stderr, refused
        assert password not in refused.stderr + refused.stdout, refused
    bad_scheme = dict(env, SVAR_REGISTRY_URL=f"ftp://svar:{password}@127.0.0.1/fhir")
    refused = svar.run("forward", env=bad_scheme, cwd=tmp_path)
    assert refused.rc == 1 and password not in refused.stderr, refused


# ---------------------------------------------------------------------------------------------------------------
# 11. Operations see forwarding in /metrics
# ---------------------------------------------------------------------------------------------------------------
def test_the_worker_counts_its_forwards_in_metrics(svar, svar_bin, tmp_path):
    db = tmp_path / "svar.sqlite"
    env = server_env(db, SVAR_WORKERS="forwarder")
    srv = start_svar(svar_bin, tmp_path, env, "serve.log")
    try:
        srv.create_unit("4391", "E2E metrics")
        make_answered_patients(srv, svar, env, tmp_path, synthetic_numbers(1, dt.date(1990, 3, 3)), "4391")
        deadline = time.monotonic() + 30
        while count(db, "SELECT count(*) FROM disclosure_log") < 2:
            assert time.monotonic() < deadline, srv.logs()[-2000:]
            time.sleep(0.3)
        status, _, body = http_get_text(srv.base + "/metrics")
    finally:
        stop_svar(srv)
    assert status == 200
    assert re.search(r'^svar_forwarding_total\{outcome="forwarded"\} 2$', body, re.MULTILINE), body[-1500:]


def http_get_text(url: str):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.status, reply.headers, reply.read().decode()

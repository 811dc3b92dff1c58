"""The FHIR registry test peer (e2e/peers/registry_server.py) against its contract: conditional creates in one
atomic transaction, urn:uuid references resolved, R4B validation with every error listed, bearer token, injected
failures (503 after a committed store, 429, 500, 422, a hang), a store that survives SIGKILL, HTTPS with its own
CA. It needs no svar binary."""
from __future__ import annotations

import http.client
import json
import random
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import free_port

PEERS = Path(__file__).parent / "peers"
TOKEN = "registry-e2e-token"
NIN = "urn:oid:2.16.578.1.12.4.1.4.1"


class RegistryPeer:
    def __init__(self, folder: Path, *flags: str, port: int | None = None, tls: bool = False) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.store = folder / "registry.sqlite"
        self.tls = folder / "tls" if tls else None
        self.out = folder / f"registry-{self.port}-{time.monotonic_ns()}.out"
        command = [sys.executable, str(PEERS / "registry_server.py"), "--port", str(self.port),
                   "--store", str(self.store), *flags]
        if self.tls:
            command += ["--tls-dir", str(self.tls)]
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while f"READY {self.port}" not in self.out.read_text():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.out.read_text()
            time.sleep(0.05)

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.tls / "cert.pem"))
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body=None, token: str | None = TOKEN, key: str | None = None,
                content_type: str = "application/fhir+json", conn: http.client.HTTPConnection | None = None):
        """(status, headers, parsed JSON or text). On `conn` if given (kept open), else a fresh connection."""
        own = conn is None
        conn = conn or self.connection()
        headers = {}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            parsed = json.loads(text) if response.getheader("Content-Type", "").endswith("json") else text
            return response.status, response, parsed
        finally:
            if own:
                conn.close()

    def post(self, bundle, **kw):
        return self.request("POST", "/fhir", bundle, **kw)

    def rows(self, sql: str, args=()) -> list[tuple]:
        conn = sqlite3.connect(self.store, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def count(self, kind: str) -> int:
        return self.rows("SELECT count(*) FROM resources WHERE type=?", (kind,))[0][0]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def start_peer(tmp_path):
    """Factory: start_peer(*flags, port=None, tls=False) -> a ready RegistryPeer on tmp_path's store. At teardown
    each peer still running gets SIGTERM and must exit 0."""
    started: list[RegistryPeer] = []

    def start(*flags: str, **kw) -> RegistryPeer:
        peer = RegistryPeer(tmp_path, *flags, **kw)
        started.append(peer)
        return peer

    yield start
    codes = []
    for peer in started:
        running = peer.proc.poll() is None
        codes.append(peer.stop() if running else None)
        peer.kill()
    assert all(code in (None, 0) for code in codes), codes


def transaction(number: str = "01818012345", response_id: str = "qr-1", score: float = 0.81,
                conditional: bool = True) -> dict:
    """Patient + QuestionnaireResponse + Observation, linked by urn:uuid references, each a conditional create."""
    patient, response, observation = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    entries = [
        (patient, {"resourceType": "Patient", "identifier": [{"system": NIN, "value": number}]},
         f"identifier={NIN}|{number}".replace(":", "%3A").replace("|", "%7C")),   # URL-encoded
        (response, {"resourceType": "QuestionnaireResponse",
                    "identifier": {"system": "urn:svar:response", "value": response_id},
                    "questionnaire": "http://svar.example.no/fhir/Questionnaire/eq-5d-5l|1",
                    "status": "completed", "subject": {"reference": patient},
                    "authored": "2027-03-28T09:00:00+02:00",
                    "item": [{"linkId": "mobility", "answer": [{"valueCoding": {"code": "1"}}]}]},
         f"identifier=urn:svar:response|{response_id}"),                            # plain
        (observation, {"resourceType": "Observation",
                       "identifier": [{"system": "urn:svar:observation", "value": response_id + "-index"}],
                       "status": "final", "code": {"text": "EQ-5D-5L index"}, "subject": {"reference": patient},
                       "effectiveDateTime": "2027-03-28T09:00:00+02:00",
                       "valueQuantity": {"value": score, "unit": "score", "system": "http://unitsofmeasure.org",
                                         "code": "1"},
                       "derivedFrom": [{"reference": response}]},
         None),                                                                     # identifier from the resource
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    for full_url, resource, condition in entries:
        request = {"method": "POST", "url": resource["resourceType"]}
        if conditional and condition:
            request["ifNoneExist"] = condition
        bundle["entry"].append({"fullUrl": full_url, "resource": resource, "request": request})
    return bundle


def statuses(reply: dict) -> list[str]:
    return [entry["response"]["status"] for entry in reply["entry"]]


def test_a_transaction_is_stored_once_and_references_are_resolved(start_peer):
    peer = start_peer("--token", TOKEN)
    status, response, reply = peer.post(transaction(), key="key-1")
    assert status == 200, reply
    assert response.getheader("Content-Type") == "application/fhir+json"
    assert reply["resourceType"] == "Bundle" and reply["type"] == "transaction-response"
    Bundle.model_validate(reply)                                    # the answer itself is valid R4B
    assert statuses(reply) == ["201 Created"] * 3
    locations = [entry["response"]["location"] for entry in reply["entry"]]
    assert [loc.split("/")[0] for loc in locations] == ["Patient", "QuestionnaireResponse", "Observation"]
    assert all(loc.endswith("/_history/1") for loc in locations)
    patient, response_ref, observation = ("/".join(loc.split("/")[:2]) for loc in locations)

    stored = {kind: (sys_, value, json.loads(text)) for kind, sys_, value, text in
              peer.rows("SELECT type, identifier_system, identifier_value, json FROM resources")}
    assert stored["Patient"][:2] == (NIN, "01818012345")           # the decoded ifNoneExist identifier
    assert stored["QuestionnaireResponse"][:2] == ("urn:svar:response", "qr-1")
    assert stored["Observation"][:2] == ("urn:svar:observation", "qr-1-index")
    assert stored["QuestionnaireResponse"][2]["subject"]["reference"] == patient
    assert stored["Observation"][2]["subject"]["reference"] == patient
    assert stored["Observation"][2]["derivedFrom"][0]["reference"] == response_ref
    assert f"Observation/{stored['Observation'][2]['id']}" == observation
    assert peer.rows("SELECT idempotency_key, status, outcome, errors FROM requests") == [("key-1", 200, "stored", None)]

    # The same content again (new fullUrls, as a client rebuilding the bundle would make): nothing new.
    status, _, again = peer.post(transaction(), key="key-1")
    assert status == 200 and statuses(again) == ["200 OK"] * 3, again
    assert [e["response"]["location"] for e in again["entry"]] == locations
    assert peer.rows("SELECT count(*) FROM resources") == [(3,)]
    assert peer.rows("SELECT outcome FROM requests ORDER BY id") == [("stored",), ("existing",)]

    # A later response of the same patient: the Patient exists (200), the new ones reference it.
    status, _, later = peer.post(transaction(response_id="qr-2"))
    assert status == 200 and statuses(later) == ["200 OK", "201 Created", "201 Created"], later
    new_response = json.loads(peer.rows("SELECT json FROM resources WHERE identifier_value='qr-2'")[0][0])
    assert new_response["subject"]["reference"] == patient

    status, _, count = peer.request("GET", "/fhir/QuestionnaireResponse?_summary=count", token=None)
    assert status == 200 and count["type"] == "searchset" and count["total"] == 2, count
    status, _, read = peer.request("GET", "/" + response_ref.replace("QuestionnaireResponse", "fhir/QuestionnaireResponse"))
    assert status == 200 and read["identifier"]["value"] == "qr-1" and read["meta"]["versionId"] == "1"


def test_a_resource_identifier_serves_when_there_is_no_if_none_exist(start_peer):
    peer = start_peer()
    status, _, reply = peer.post(transaction(conditional=False), token=None)
    assert status == 200 and statuses(reply) == ["201 Created"] * 3, reply
    status, _, reply = peer.post(transaction(conditional=False), token=None)
    assert status == 200 and statuses(reply) == ["200 OK"] * 3, reply


def without(resource: dict, field: str) -> dict:
    return {k: v for k, v in resource.items() if k != field}


def break_bundle(how: str) -> dict:
    bundle = transaction()
    patient, response, observation = (entry for entry in bundle["entry"])
    if how == "observation without status":
        observation["resource"] = without(observation["resource"], "status")
    elif how == "bad date":
        response["resource"]["authored"] = "2027-02-30T25:00:00"
    elif how == "unknown field":
        patient["resource"]["favouriteColour"] = "blue"
    elif how == "batch":
        bundle["type"] = "batch"
    elif how == "PUT":
        patient["request"]["method"] = "PUT"
    elif how == "url not the type":
        observation["request"]["url"] = "Patient"
    elif how == "fullUrl not urn:uuid":
        observation["fullUrl"] = "http://example.no/Observation/1"
    elif how == "no identifier":
        observation["resource"] = without(observation["resource"], "identifier")
    elif how == "ifNoneExist not its identifier":
        response["request"]["ifNoneExist"] = "identifier=urn:svar:response|someone-else"
    elif how == "dangling reference":
        observation["resource"]["derivedFrom"] = [{"reference": f"urn:uuid:{uuid.uuid4()}"}]
    elif how == "a Practitioner":
        patient["resource"] = {"resourceType": "Practitioner", "identifier": [{"system": "urn:x", "value": "1"}]}
        patient["request"]["url"] = "Practitioner"
    return bundle


@pytest.mark.parametrize("how,words", [
    ("observation without status", "entry[2].resource.status"),
    ("bad date", "entry[1].resource.authored"),
    ("unknown field", "entry[0].resource.favouriteColour"),
    ("batch", "type: must be 'transaction'"),
    ("PUT", "entry[0].request.method"),
    ("url not the type", "entry[2].request.url"),
    ("fullUrl not urn:uuid", "entry[2].fullUrl"),
    ("no identifier", "entry[2]: no identifier"),
    ("ifNoneExist not its identifier", "entry[1].request.ifNoneExist"),
    ("dangling reference", "is not the fullUrl of an entry"),
    ("a Practitioner", "entry[0].resource.resourceType"),
])
def test_an_invalid_bundle_is_refused_whole_and_recorded(start_peer, how, words):
    peer = start_peer()
    bundle = break_bundle(how)
    status, _, reply = peer.post(bundle, key="bad")
    assert status == 400 and reply["resourceType"] == "OperationOutcome", reply
    diagnostics = [issue["diagnostics"] for issue in reply["issue"]]
    assert any(words in text for text in diagnostics), diagnostics
    assert peer.rows("SELECT count(*) FROM resources") == [(0,)]     # the valid entries are not stored either
    (errors, body), = peer.rows("SELECT errors, body FROM invalid")
    assert json.loads(errors) == diagnostics and json.loads(body) == bundle
    assert peer.rows("SELECT idempotency_key, status, outcome FROM requests") == [("bad", 400, "invalid")]


def test_not_json_and_a_wrong_content_type_are_refused(start_peer):
    peer = start_peer()
    status, _, reply = peer.post(b"{not json")
    assert status == 400 and "not JSON" in reply["issue"][0]["diagnostics"], reply
    status, _, reply = peer.post(transaction(), content_type="text/plain")
    assert status == 415 and reply["resourceType"] == "OperationOutcome", reply
    assert peer.rows("SELECT status, outcome FROM requests ORDER BY id") == [(400, "invalid"), (415, "invalid")]
    assert peer.rows("SELECT count(*) FROM invalid") == [(2,)]


def test_the_bearer_token_is_required(start_peer):
    peer = start_peer("--token", TOKEN)
    conn = peer.connection()
    try:
        # One keep-alive connection throughout: a refused request's body is consumed, the next one is served.
        for token in (None, "wrong", TOKEN):
            status, response, reply = peer.post(transaction(), token=token, conn=conn)
            if token == TOKEN:
                assert status == 200, reply
            else:
                assert status == 401 and reply["resourceType"] == "OperationOutcome", reply
                assert response.getheader("WWW-Authenticate", "").startswith("Bearer")
    finally:
        conn.close()
    assert peer.rows("SELECT status, outcome FROM requests ORDER BY id") == \
        [(401, "unauthorized"), (401, "unauthorized"), (200, "stored")]


def seed_where(shares: list[bool], share: float) -> int:
    """A seed whose draws fall below `share` exactly where `shares` says True (the peer draws random.Random(seed))."""
    for seed in range(10_000):
        draws = random.Random(seed)
        if all((draws.random() < share) == hit for hit in shares):
            return seed
    raise AssertionError("no seed found")


def test_a_failure_after_the_commit_does_not_duplicate_on_retry(start_peer):
    peer = start_peer("--fail-after-store-share", "0.5", "--seed", str(seed_where([True, False], 0.5)))
    bundle = transaction()
    status, _, reply = peer.post(bundle, key="retry-me")
    assert status == 503 and reply["resourceType"] == "OperationOutcome", reply
    assert peer.count("Patient") == peer.count("QuestionnaireResponse") == peer.count("Observation") == 1
    status, _, reply = peer.post(bundle, key="retry-me")                 # the client's retry, same bundle
    assert status == 200 and statuses(reply) == ["200 OK"] * 3, reply
    assert peer.count("Patient") == peer.count("QuestionnaireResponse") == peer.count("Observation") == 1
    assert peer.rows("SELECT idempotency_key, status, outcome FROM requests ORDER BY id") == \
        [("retry-me", 503, "failed-after-store"), ("retry-me", 200, "existing")]


@pytest.mark.parametrize("flag,status,outcome", [
    ("--throttle-share", 429, "throttled"),
    ("--fail-share", 500, "failed-before-store"),
    ("--reject-share", 422, "rejected"),
])
def test_injected_refusals_store_nothing(start_peer, flag, status, outcome):
    peer = start_peer(flag, "1")
    got, response, reply = peer.post(transaction())
    assert got == status and reply["resourceType"] == "OperationOutcome", reply
    assert response.getheader("Retry-After") == ("1" if status == 429 else None)
    assert peer.rows("SELECT count(*) FROM resources") == [(0,)]
    assert peer.rows("SELECT status, outcome FROM requests") == [(status, outcome)]


def test_a_hung_request_gets_no_answer_and_blocks_nothing(start_peer):
    peer = start_peer("--hang-share", "1", "--hang-seconds", "1.5")
    result = {}

    def hang():
        started = time.monotonic()
        try:
            result["reply"] = peer.post(transaction())
        except (http.client.RemoteDisconnected, ConnectionError) as error:
            result["error"] = error
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=hang)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    status, _, text = peer.request("GET", "/health")                       # served while the POST hangs
    assert status == 200 and text == "ok" and time.monotonic() - started < 1
    thread.join(10)
    assert "error" in result and result["seconds"] >= 1.4, result
    assert peer.rows("SELECT status, outcome FROM requests") == [(None, "hung")]
    assert peer.rows("SELECT count(*) FROM resources") == [(0,)]


def test_the_store_survives_sigkill(start_peer):
    peer = start_peer()
    assert peer.post(transaction())[0] == 200
    peer.kill()
    again = start_peer(port=peer.port)                                     # same port, same store
    status, _, count = again.request("GET", "/fhir/QuestionnaireResponse?_summary=count")
    assert status == 200 and count["total"] == 1, count
    status, _, reply = again.post(transaction())
    assert status == 200 and statuses(reply) == ["200 OK"] * 3, reply
    assert again.rows("SELECT outcome FROM requests ORDER BY id") == [("stored",), ("existing",)]


def test_https_with_its_own_ca(start_peer):
    peer = start_peer("--token", TOKEN, "--base", "/registry/fhir", tls=True)
    status, _, reply = peer.request("POST", "/registry/fhir/", transaction())
    assert status == 200 and statuses(reply) == ["201 Created"] * 3, reply
    status, _, text = peer.request("GET", "/health")
    assert status == 200 and text == "ok"
    # A client that does not trust the CA does not get through.
    plain = http.client.HTTPSConnection("127.0.0.1", peer.port, timeout=5, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        plain.request("GET", "/health")
    plain.close()
    status, _, reply = peer.request("POST", "/fhir", transaction())        # not the base: 404
    assert status == 404 and reply["resourceType"] == "OperationOutcome"

"""The API's OpenAPI 3.1 document (web/static/openapi.json, served at GET /openapi.json) against the real server.

1. The served document is valid OpenAPI 3.1 (openapi-spec-validator) and is the file in the repository.
2. It documents exactly the routes the server implements: the routes are read from the Swift sources
   (`group.get/post("...")` in Sources/SvarWeb/APIController*.swift), so a new route without documentation, or a
   documented route that is gone, fails here. House rules of the document are checked too (every error is
   `application/problem+json`, every `/api/v1` call can answer 401, request bodies refuse unknown members).
3. Schemathesis fuzzes every operation against a live `svar serve` (test mode, no workers, the installation
   token) on a `svar demo` database (answered questionnaires, nudges) after seeding a unit tree, patients and
   courses with a start event and so an open invitation, whose ids are given to schemathesis as examples.
   Checks: no 5xx, only documented status codes, content types and response schemas, 401 without the token, and
   every API error an RFC 9457 problem (a custom check). Deterministic seed, bounded examples (~1 minute).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from conftest import REPO, Server, oslo_today, query, server_env, synthetic_numbers

DOCUMENT = REPO / "web" / "static" / "openapi.json"
API_SOURCES = sorted((REPO / "Sources" / "SvarWeb").glob("APIController*.swift"))
API_PREFIX = "/api/v1"
# Routes outside the API group that the document describes as well (Sources/SvarWeb/HealthController.swift).
SERVICE_ROUTES = {("GET", "/health"), ("GET", "/openapi.json")}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

FUZZ_SEED = 20261201
FUZZ_MAX_EXAMPLES = 50
FUZZ_TIMEOUT = 240          # seconds per schemathesis run; one takes 10-45 s on the 2-core machine
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "ignored_auth", "error_is_problem_json"]

# A schemathesis hooks file: the custom check that every error of the API is an RFC 9457 problem. It sees every
# response, also those to schemathesis' probes with undeclared methods (TRACE, PUT, ...), so it covers what the
# router answers by itself, not only what the handlers do.
HOOKS = '''
import json
from urllib.parse import urlsplit

import schemathesis


@schemathesis.check
def error_is_problem_json(ctx, response, case):
    """Every 4xx/5xx under /api/v1 is application/problem+json with the response's status and a title."""
    if response.status_code < 400 or not urlsplit(response.request.url).path.startswith("/api/v1/"):
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.split(";")[0].strip().lower() != "application/problem+json":
        raise AssertionError(f"HTTP {response.status_code} with Content-Type {content_type!r}, not application/problem+json")
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"HTTP {response.status_code}: the problem is not JSON ({error})")
    if not isinstance(body, dict) or body.get("status") != response.status_code or not body.get("title"):
        raise AssertionError(f"HTTP {response.status_code}: not a problem with this status and a title: {body!r}")
    return None
'''


# ---------------------------------------------------------------------------------------------------------------
# The server, the document, the implemented routes
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(svar, tmp_path_factory):
    """`svar serve` (test mode, no workers, a fresh API token) on a database that `svar demo --no-serve` filled
    with fictional patients at every stage, answered questionnaires and nudges, so the responses checked against
    the document carry real data, not only empty lists."""
    cwd = tmp_path_factory.mktemp("openapi-cwd")
    demo = cwd / "demo"
    result = svar.run("demo", "--no-serve", "--directory", str(demo), cwd=cwd)
    assert result.rc == 0, result
    env = server_env(demo / "svar.sqlite")
    del env["SVAR_VAULT_KEY"]
    env["SVAR_VAULT_KEY_FILE"] = str(demo / "vault.key")
    srv = Server(svar.binary, cwd, cwd / "serve.log", env=env)
    srv.cwd = cwd
    srv.db = demo / "svar.sqlite"
    try:
        srv.wait_until_healthy()
        yield srv
    finally:
        srv.kill()


@pytest.fixture(scope="module")
def served(server) -> dict:
    reply = server.get("/openapi.json", token=None)
    assert reply.status == 200, reply
    assert reply.content_type.split(";")[0].strip() == "application/json", reply.content_type
    return reply.json


def implemented_routes() -> set[tuple[str, str]]:
    """(METHOD, /api/v1/path with {id}) for every `group.get/post/...("...")` in APIController*.swift."""
    assert API_SOURCES, "no Sources/SvarWeb/APIController*.swift"
    found: set[tuple[str, str]] = set()
    for source in API_SOURCES:
        for method, path in re.findall(r'\bgroup\.(get|post|put|patch|delete|head)\(\s*"([^"]*)"', source.read_text()):
            path = re.sub(r":(\w+)", r"{\1}", path.strip("/"))
            found.add((method.upper(), f"{API_PREFIX}/{path}"))
    return found


def documented_routes(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def resolve(doc: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


# ---------------------------------------------------------------------------------------------------------------
# 1. A valid OpenAPI 3.1 document, and the one in the repository
# ---------------------------------------------------------------------------------------------------------------
def test_served_document_is_valid_openapi_3_1(served):
    assert served.get("openapi") == "3.1.0", served.get("openapi")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in OpenAPIV31SpecValidator(served).iter_errors()]
    assert errors == [], "the served OpenAPI document is invalid:\n" + "\n".join(errors)


def test_served_document_is_the_file_in_the_repository(served):
    on_disk = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert served == on_disk, (f"GET /openapi.json differs from {DOCUMENT.relative_to(REPO)}: the binary bundles an older "
                               f"copy (rebuild with `swift build --product svar`)")


# ---------------------------------------------------------------------------------------------------------------
# 2. Every implemented route documented, nothing documented that is not implemented; house rules
# ---------------------------------------------------------------------------------------------------------------
def test_routes_in_the_sources_and_in_the_document_are_the_same(served):
    implemented = implemented_routes()
    assert len(implemented) >= 16, f"the route regex found too little in {[s.name for s in API_SOURCES]}: {implemented}"
    assert 'router.group("api/v1")' in (REPO / "Sources/SvarWeb/Application+build.swift").read_text(), \
        "the API group is no longer mounted at api/v1: update API_PREFIX"
    documented = documented_routes(served)
    api_documented = {(m, p) for m, p in documented if p.startswith(API_PREFIX + "/")}
    missing = sorted(implemented - api_documented)
    extra = sorted(api_documented - implemented)
    assert not missing, f"implemented but not in web/static/openapi.json: {missing}"
    assert not extra, f"in web/static/openapi.json but not implemented: {extra}"
    assert SERVICE_ROUTES <= documented, f"not documented: {sorted(SERVICE_ROUTES - documented)}"
    other = documented - implemented - SERVICE_ROUTES
    assert not other, f"documented but neither an API route nor a known service route: {sorted(other)}"


def test_every_operation_is_described_and_every_error_is_a_problem(served):
    operation_ids = []
    for method, path, op in operations(served):
        where = f"{method} {path}"
        for key in ("operationId", "summary", "description", "responses"):
            assert op.get(key), f"{where}: no {key}"
        operation_ids.append(op["operationId"])
        responses = {status: resolve(served, r) for status, r in op["responses"].items()}
        assert "default" not in responses, f"{where}: a `default` response hides undocumented statuses"
        assert any(s.startswith("2") for s in responses), f"{where}: no success response"
        for status, response in responses.items():
            content = response.get("content", {})
            if status.startswith(("4", "5")):
                assert set(content) == {"application/problem+json"}, f"{where} {status}: errors are application/problem+json"
            else:
                assert set(content) == {"application/json"}, f"{where} {status}: {sorted(content)}"
        if path.startswith(API_PREFIX + "/"):
            assert "401" in responses, f"{where}: every API call can answer 401"
            assert op.get("security", served.get("security")), f"{where}: needs the bearer token"
            body = op.get("requestBody")
            if method == "POST" and body:
                assert {"400", "413", "415"} <= set(responses), f"{where}: a JSON body can be refused with 400, 413, 415"
                schema = resolve(served, resolve(served, body)["content"]["application/json"]["schema"])
                assert schema.get("type") == "object" and schema.get("additionalProperties") is False, \
                    f"{where}: the server refuses unknown members, so the body schema must say additionalProperties: false"
        else:
            assert op.get("security") == [], f"{where}: needs no authentication"
    duplicates = {i for i in operation_ids if operation_ids.count(i) > 1}
    assert not duplicates, f"operationIds used twice: {duplicates}"


# ---------------------------------------------------------------------------------------------------------------
# 3. Schemathesis against the live server
# ---------------------------------------------------------------------------------------------------------------
def seed(server: Server) -> dict:
    """A unit tree and three patients with a started course each (so an open baseline invitation): one for the
    patient and course calls, one whose invitation only the link call sees (so a reservation of the first does
    not cancel it), one for the deletion request."""
    today = oslo_today()
    server.create_unit("4001", "Fuzz poliklinikk")
    server.ok("POST", "/api/v1/units", {"resh": "4002", "name": "Fuzz døgnenhet", "parent": "4001"})
    ids = {}
    for (name, unit), number in zip([("patient", "4001"), ("linked", "4001"), ("doomed", "4002")],
                                    synthetic_numbers(3, dt.date(1975, 3, 3))):
        patient = server.enrol(number, name=f"Fuzz {name}", email=f"{name}@e2e.invalid", mobile="+4791234567")
        course = server.start_course(patient, unit)
        server.event(course, "start", today - dt.timedelta(days=3))
        ids[name] = patient
        ids[f"{name}-course"] = course
        ids[f"{name}-invitation"] = server.course(course)["invitations"][0]["id"]
    # The demo's patients with answered questionnaires (no API call lists patients).
    answered = [row[0] for row in query(server.db, "SELECT DISTINCT i.patient_id FROM responses r "
                                                   "JOIN invitations i ON i.id = r.invitation_id ORDER BY 1")]
    assert answered, "the demo database has no answered questionnaires"
    ids["answered"] = answered[0]
    return ids


def with_seeded_examples(doc: dict, ids: dict) -> dict:
    """A copy of the document whose `id` path parameters (and `patient`, `unit` query parameters) carry the
    seeded ids as examples, so schemathesis reaches existing resources, not only 404s."""
    doc = copy.deepcopy(doc)
    by_operation = {
        "startCourse": ids["patient"], "reservePatient": ids["patient"], "readResults": ids["answered"],
        "requestDeletion": ids["doomed"], "readDeletion": ids["doomed"],
        "readCourse": ids["patient-course"], "recordEvent": ids["patient-course"], "issueLink": ids["linked-invitation"],
    }
    for _, _, op in operations(doc):
        parameters = []
        for parameter in op.get("parameters", []):
            parameter = dict(resolve(doc, parameter))
            if parameter["in"] == "path" and op["operationId"] in by_operation:
                parameter["examples"] = {"seeded": {"value": by_operation[op["operationId"]]}}
            elif parameter["name"] == "patient":
                parameter["examples"] = {"seeded": {"value": ids["patient"]}}
            elif parameter["name"] == "unit":
                parameter["examples"] = {"seeded": {"value": ["4001"]}}
            parameters.append(parameter)
        if parameters:
            op["parameters"] = parameters
    return doc


def run_schemathesis(server: Server, schema_path: Path, work: Path, name: str, selection: list[str]) -> tuple[bool, str]:
    """One bounded `st run` over the selected operations; (passed, printed summary)."""
    hooks_path = work / "svar_hooks.py"
    hooks_path.write_text(HOOKS, encoding="utf-8")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(schema_path),
        "--url", server.base,
        "--header", f"Authorization: Bearer {server.token}",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(FUZZ_MAX_EXAMPLES),
        "--seed", str(FUZZ_SEED),
        "--workers", "1",
        "--request-timeout", "20",
        "--generation-database", "none",
        "--report", "junit",
        "--report-dir", str(work / f"report-{name}"),
        "--no-color",
        *selection,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMATHESIS_", "SVAR_"))}
    env["SCHEMATHESIS_HOOKS"] = str(hooks_path)
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=FUZZ_TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        return False, f"schemathesis ({name}) ran longer than {FUZZ_TIMEOUT} s:\n{timeout.stdout or ''}\n{timeout.stderr or ''}"
    output = proc.stdout + ("\n--- stderr ---\n" + proc.stderr if proc.stderr.strip() else "")
    summary = f"===== schemathesis ({name}): exit {proc.returncode} after {time.monotonic() - started:.1f} s =====\n{output}"
    # A run that tested nothing is no pass either.
    return proc.returncode == 0 and re.search(r"\b\d+ passed\b", output) is not None, summary


def test_schemathesis_finds_nothing(server, served, tmp_path):
    ids = seed(server)
    schema_path = tmp_path / "openapi.json"
    schema_path.write_text(json.dumps(with_seeded_examples(served, ids), ensure_ascii=False), encoding="utf-8")
    # Schemathesis shares the examples of a parameter between operations, so a deletion request would erase the
    # seeded patient (and with it the course and invitation) before most operations ran: the deletion request gets
    # a run of its own, after the rest.
    runs = [("api", ["--exclude-operation-id", "requestDeletion"]),
            ("deletion", ["--include-operation-id", "requestDeletion", "--include-operation-id", "readDeletion"])]
    results = [run_schemathesis(server, schema_path, tmp_path, name, selection) for name, selection in runs]
    for passed, summary in results:
        if passed:
            print(summary)      # shown with -s; a failed run's summary is in the assertion below
    assert server.proc.poll() is None, f"svar serve died during the fuzzing:\n{server.logs()[-5000:]}"
    failed = [summary for passed, summary in results if not passed]
    assert not failed, "schemathesis reported failures:\n" + "\n".join(failed)

#!/usr/bin/env python3
"""A stand-in FHIR R4 quality registry on 127.0.0.1 for Svar's delivery tests: it takes transaction Bundles.

Standard library HTTP(S) plus fhir.resources (R4B models, pydantic v2) for validation. Data lives in a SQLite file
(--store) that survives restarts, SIGKILL included:
  resources(id, type, identifier_system, identifier_value, json, created_at)   UNIQUE(type, system, value)
  requests(id, at, idempotency_key, status, outcome, errors)                    one row per POST
  invalid(id, at, errors, body)                                                 bundles that failed validation
requests.outcome: stored | existing | invalid | unauthorized | failed-before-store | failed-after-store | hung |
throttled | rejected | not-found. errors columns hold a JSON list of strings (or NULL).

POST {base} (or {base}/), body a FHIR JSON Bundle (Content-Type application/fhir+json or application/json):
  401 OperationOutcome         without "Authorization: Bearer T" when --token T is given (no draw is made);
  then one draw u from random.Random(--seed) per authorized POST, bands in this order:
    hang-share                 wait --hang-seconds, then close the connection without an answer   (hung)
    fail-share                 500 OperationOutcome, nothing stored                                (failed-before-store)
    fail-after-store-share     the transaction is validated and committed, then 503                (failed-after-store)
    throttle-share             429 with "Retry-After: 1", nothing stored                           (throttled)
    reject-share               422 OperationOutcome, nothing stored                                (rejected)
  415 / 400 OperationOutcome   wrong Content-Type / invalid Bundle, listing every error            (invalid)
  200 transaction-response     entries in request order: response.status "201 Created" (new) or "200 OK"
                               (a resource of that type with that identifier exists), response.location
                               "Type/<id>/_history/1"                                             (stored|existing)
GET {base}/Type[?identifier=S|V][&_summary=count] searchset Bundle (with total); GET {base}/Type/<id> the resource;
GET /health 200 "ok". Prints "READY <port>"; exits 0 on SIGTERM/SIGINT.

  registry_server.py --port P --store FILE [--tls-dir DIR] [--token T] [--fail-share F]
                     [--fail-after-store-share F2] [--hang-share H] [--hang-seconds S] [--throttle-share R]
                     [--reject-share X] [--seed N] [--base /fhir]
"""
import argparse
import datetime as dt
import hmac
import json
import os
import random
import re
import signal
import sqlite3
import sys
import threading
import time
import urllib.parse
import uuid

from pydantic import ValidationError
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerhttp  # noqa: E402

ACCEPTED_TYPES = ("Patient", "QuestionnaireResponse", "Observation")
MODELS = {name: get_fhir_model_class(name) for name in ACCEPTED_TYPES}
URN_UUID = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_BODY = 20 * 1024 * 1024
SCHEMA = """
CREATE TABLE IF NOT EXISTS resources(id INTEGER PRIMARY KEY, type TEXT, identifier_system TEXT,
    identifier_value TEXT, json TEXT, created_at REAL, UNIQUE(type, identifier_system, identifier_value));
CREATE TABLE IF NOT EXISTS requests(id INTEGER PRIMARY KEY, at REAL, idempotency_key TEXT, status INTEGER,
    outcome TEXT, errors TEXT);
CREATE TABLE IF NOT EXISTS invalid(id INTEGER PRIMARY KEY, at REAL, errors TEXT, body TEXT);
"""


def parse_args():
    parser = argparse.ArgumentParser(description="FHIR R4 registry test peer: takes transaction Bundles into SQLite.")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--store", required=True, help="SQLite file (created if missing, kept across restarts)")
    parser.add_argument("--tls-dir", help="serve HTTPS with cert.pem/key.pem here (made if missing)")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on POST, else 401")
    parser.add_argument("--fail-share", type=float, default=0.0, help="share of POSTs answered 500, nothing stored")
    parser.add_argument("--fail-after-store-share", type=float, default=0.0,
                        help="share of POSTs stored and committed, then answered 503")
    parser.add_argument("--hang-share", type=float, default=0.0,
                        help="share of POSTs held --hang-seconds, then the connection closed without an answer")
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a hung POST is held (30)")
    parser.add_argument("--throttle-share", type=float, default=0.0, help="share of POSTs answered 429 Retry-After: 1")
    parser.add_argument("--reject-share", type=float, default=0.0, help="share of POSTs answered 422")
    parser.add_argument("--seed", type=int, default=0, help="seed of the failure draws (0)")
    parser.add_argument("--base", default="/fhir", help="path of the FHIR base (/fhir)")
    args = parser.parse_args()
    shares = [args.hang_share, args.fail_share, args.fail_after_store_share, args.throttle_share, args.reject_share]
    if any(s < 0 for s in shares) or sum(shares) > 1:
        parser.error("the shares must be >= 0 and add up to at most 1")
    args.base = "/" + args.base.strip("/") if args.base.strip("/") else ""
    return args


def outcome(code, *diagnostics):
    """An OperationOutcome with one error issue per diagnostics string."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text} for text in diagnostics]}


def location_of(loc):
    """A pydantic error location as a path: ('entry', 2, 'resource', 'status') -> entry[2].resource.status."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "Bundle"


def validation_errors(error, prefix=""):
    return [f"{prefix}{location_of(e['loc'])}: {e['msg']}" for e in error.errors()]


def parse_if_none_exist(text):
    """(system, value) from 'identifier=SYSTEM|VALUE' (URL-encoded or not), or None."""
    name, _, query = text.partition("=")
    if urllib.parse.unquote(name).strip() != "identifier":
        return None
    system, bar, value = urllib.parse.unquote(query).partition("|")
    return (system, value) if bar and system and value else None


def identifiers_of(resource):
    found = resource.get("identifier")
    found = found if isinstance(found, list) else [found] if isinstance(found, dict) else []
    return [(i.get("system"), i.get("value")) for i in found if isinstance(i, dict)]


def references_in(node):
    """Every Reference.reference string anywhere in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from references_in(value)


def replace_references(node, mapping):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and value in mapping:
                node[key] = mapping[value]
            else:
                replace_references(value, mapping)
    elif isinstance(node, list):
        for value in node:
            replace_references(value, mapping)


def check_bundle(body):
    """(bundle dict, [(type, system, value, fullUrl, resource)], errors): a transaction of conditional creates,
    valid against the R4B models (the Bundle as a whole, then each resource with its own class)."""
    try:
        text = body.decode("utf-8")
        bundle = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        return None, [], [f"body is not JSON: {error}"]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None, [], ["body is not a FHIR Bundle (resourceType must be 'Bundle')"]
    errors = []
    try:
        Bundle.model_validate_json(text)
    except ValidationError as error:
        errors += validation_errors(error)
    except Exception as error:            # e.g. KeyError for an unknown resourceType inside an entry
        errors.append(f"Bundle: not valid FHIR R4B ({type(error).__name__}: {error})")
    if bundle.get("type") != "transaction":
        errors.append(f"type: must be 'transaction', not {bundle.get('type')!r}")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        errors.append("entry: a transaction needs at least one entry")
        entries = []
    items, full_urls = [], set()
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        if not isinstance(entry, dict):
            errors.append(f"{where}: not an object")
            continue
        full_url, resource, request = entry.get("fullUrl"), entry.get("resource"), entry.get("request")
        if not isinstance(full_url, str) or not URN_UUID.match(full_url):
            errors.append(f"{where}.fullUrl: must be urn:uuid:<uuid>, not {full_url!r}")
        elif full_url in full_urls:
            errors.append(f"{where}.fullUrl: {full_url} occurs twice")
        full_urls.add(full_url)
        if not isinstance(resource, dict):
            errors.append(f"{where}.resource: missing")
            continue
        kind = resource.get("resourceType")
        if kind not in ACCEPTED_TYPES:
            errors.append(f"{where}.resource.resourceType: {kind!r} is not one of {', '.join(ACCEPTED_TYPES)}")
            continue
        try:
            MODELS[kind].model_validate(resource)
        except ValidationError as error:
            errors += validation_errors(error, f"{where}.resource.")
        request = request if isinstance(request, dict) else {}
        if request.get("method") != "POST":
            errors.append(f"{where}.request.method: must be POST, not {request.get('method')!r}")
        if request.get("url") != kind:
            errors.append(f"{where}.request.url: must be {kind!r}, not {request.get('url')!r}")
        own = [(s, v) for s, v in identifiers_of(resource) if s and v]
        if request.get("ifNoneExist") is not None:
            key = parse_if_none_exist(str(request["ifNoneExist"]))
            if key is None:
                errors.append(f"{where}.request.ifNoneExist: must be identifier=SYSTEM|VALUE, "
                              f"not {request['ifNoneExist']!r}")
                continue
            if key not in own:
                errors.append(f"{where}.request.ifNoneExist: the resource has no identifier {key[0]}|{key[1]}")
        elif own:
            key = own[0]
        else:
            errors.append(f"{where}: no identifier (neither request.ifNoneExist nor a resource identifier with "
                          f"system and value); this registry takes conditional creates only")
            continue
        items.append((kind, key[0], key[1], full_url, resource))
    for i, entry in enumerate(entries):
        if isinstance(entry, dict):
            for ref in references_in(entry.get("resource")):
                if ref.startswith("urn:uuid:") and ref not in full_urls:
                    errors.append(f"entry[{i}].resource: reference {ref} is not the fullUrl of an entry")
    return bundle, items, list(dict.fromkeys(errors))


def main():
    # A parent may start us with SIGTERM blocked (threads of a Swift test process do): unblock it, or we never stop.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args = parse_args()

    if os.path.dirname(os.path.abspath(args.store)):
        os.makedirs(os.path.dirname(os.path.abspath(args.store)), exist_ok=True)
    # One connection for all threads, used only under `db_lock` (which also serializes the transactions).
    # Rollback journal, synchronous FULL: a committed transaction survives SIGKILL, and readers in other
    # processes (the tests) need nothing but the file.
    db = sqlite3.connect(args.store, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    db_lock = threading.Lock()
    draws = random.Random(args.seed)
    draw_lock = threading.Lock()
    stopping = threading.Event()
    bands = [("hung", args.hang_share), ("failed-before-store", args.fail_share),
             ("failed-after-store", args.fail_after_store_share), ("throttled", args.throttle_share),
             ("rejected", args.reject_share)]
    # Warm the models, so the first real request is not slower than the rest.
    check_bundle(b'{"resourceType":"Bundle","type":"transaction","entry":[]}')

    def injected():
        """The failure this POST gets (one draw per authorized POST, whatever the shares), or None."""
        with draw_lock:
            u = draws.random()
        edge = 0.0
        for name, share in bands:
            edge += share
            if u < edge:
                return name
        return None

    def log_request(key, status, what, errors=None):
        """Inside a transaction (caller holds db_lock) or on its own."""
        db.execute("INSERT INTO requests(at, idempotency_key, status, outcome, errors) VALUES (?,?,?,?,?)",
                   (time.time(), key, status, what, json.dumps(errors) if errors else None))

    def store(items, key, status, outcome_name):
        """Conditional creates of all items in one SQLite transaction, together with the request's log row
        (outcome "stored" becomes "existing" when nothing was new). Returns the transaction-response entries."""
        now = time.time()
        last_updated = dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat(timespec="milliseconds")
        with db_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                mapping, results, new = {}, [], []
                for kind, system, value, full_url, resource in items:
                    row = db.execute("SELECT id FROM resources WHERE type=? AND identifier_system=? AND "
                                     "identifier_value=?", (kind, system, value)).fetchone()
                    if row:
                        results.append(("200 OK", f"{kind}/{row[0]}"))
                    else:
                        rowid = db.execute("INSERT INTO resources(type, identifier_system, identifier_value, json, "
                                           "created_at) VALUES (?,?,?,'{}',?)",
                                           (kind, system, value, now)).lastrowid
                        results.append(("201 Created", f"{kind}/{rowid}"))
                        new.append((rowid, resource))
                    mapping[full_url] = results[-1][1]
                for rowid, resource in new:
                    stored = json.loads(json.dumps(resource))
                    replace_references(stored, mapping)
                    stored["id"] = str(rowid)
                    stored["meta"] = dict(stored.get("meta") or {}, versionId="1", lastUpdated=last_updated)
                    db.execute("UPDATE resources SET json=? WHERE id=?", (json.dumps(stored), rowid))
                log_request(key, status, outcome_name if outcome_name != "stored" or new else "existing")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return [{"response": {"status": s, "location": f"{loc}/_history/1", "etag": 'W/"1"',
                              "lastModified": last_updated}} for s, loc in results]

    class Handler(peerhttp.PeerHandler):
        content_type = "application/fhir+json"
        max_body = MAX_BODY

        def split_path(self):
            path, _, query = self.path.partition("?")
            return path, urllib.parse.parse_qs(query)

        def do_GET(self):
            path, query = self.split_path()
            if path == "/health":
                self.answer(200, b"ok", "text/plain")
                return
            parts = path[len(args.base):].strip("/").split("/") if path.startswith(args.base + "/") else []
            if len(parts) == 1 and parts[0] in ACCEPTED_TYPES:
                sql, params = "FROM resources WHERE type=?", [parts[0]]
                if "identifier" in query:
                    system, _, value = query["identifier"][0].partition("|")
                    sql += " AND identifier_system=? AND identifier_value=?"
                    params += [system, value]
                with db_lock:
                    total = db.execute("SELECT count(*) " + sql, params).fetchone()[0]
                    rows = [] if query.get("_summary") == ["count"] else \
                        db.execute("SELECT json " + sql + " ORDER BY id", params).fetchall()
                result = {"resourceType": "Bundle", "type": "searchset", "total": total}
                if rows:
                    result["entry"] = [{"resource": json.loads(r[0]), "search": {"mode": "match"}} for r in rows]
                self.answer(200, result)
            elif len(parts) == 2 and parts[0] in ACCEPTED_TYPES and parts[1].isdigit():
                with db_lock:
                    row = db.execute("SELECT json FROM resources WHERE type=? AND id=?",
                                     (parts[0], int(parts[1]))).fetchone()
                if row:
                    self.answer(200, row[0].encode(), headers=[("ETag", 'W/"1"')])
                else:
                    self.answer(404, outcome("not-found", f"{parts[0]}/{parts[1]} is not known"))
            else:
                self.answer(404, outcome("not-found", f"GET {path} is not served here"))

        def do_POST(self):
            body = self.read_body()               # always read first: the connection stays usable after errors
            key = self.headers.get("Idempotency-Key")
            path, _ = self.split_path()
            if body is None:
                self.close_connection = True      # the unread body makes the connection useless
                with db_lock:
                    log_request(key, 413, "invalid", ["body too large"])
                self.answer(413, outcome("too-costly", "body too large"), headers=[("Connection", "close")])
                return
            if path not in (args.base or "/", args.base + "/"):
                with db_lock:
                    log_request(key, 404, "not-found", [f"POST {path}"])
                self.answer(404, outcome("not-found", f"POST {path} is not served here; POST to {args.base or '/'}"))
                return
            if args.token is not None:
                scheme, _, given = self.headers.get("Authorization", "").partition(" ")
                if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), args.token.encode()):
                    with db_lock:
                        log_request(key, 401, "unauthorized")
                    self.answer(401, outcome("login", "a valid bearer token is required"),
                                headers=[("WWW-Authenticate", 'Bearer realm="registry"')])
                    return
            failure = injected()
            if failure == "hung":
                with db_lock:
                    log_request(key, None, "hung")
                stopping.wait(args.hang_seconds)
                self.close_connection = True      # no answer at all: the socket is closed after this handler
                return
            if failure in ("failed-before-store", "throttled", "rejected"):
                status, reply, extra = {
                    "failed-before-store": (500, outcome("exception", "injected failure: nothing was stored"), []),
                    "throttled": (429, outcome("throttled", "too many requests, retry in 1 s"), [("Retry-After", "1")]),
                    "rejected": (422, outcome("business-rule", "injected rejection: the registry refuses this "
                                                               "submission"), []),
                }[failure]
                with db_lock:
                    log_request(key, status, failure)
                self.answer(status, reply, headers=extra)
                return
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in ("application/fhir+json", "application/json"):
                errors = [f"Content-Type must be application/fhir+json or application/json, not {content_type!r}"]
                self.reject(415, key, errors, body)
                return
            bundle, items, errors = check_bundle(body)
            if errors:
                self.reject(400, key, errors, body)
                return
            if failure == "failed-after-store":
                store(items, key, 503, "failed-after-store")
                self.answer(503, outcome("transient", "injected failure after the transaction was committed"))
                return
            entries = store(items, key, 200, "stored")
            self.answer(200, {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction-response",
                              "entry": entries})

        def reject(self, status, key, errors, body):
            with db_lock:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO invalid(at, errors, body) VALUES (?,?,?)",
                           (time.time(), json.dumps(errors), body.decode("utf-8", errors="replace")))
                log_request(key, status, "invalid", errors)
                db.execute("COMMIT")
            self.answer(status, outcome("invalid" if status == 400 else "not-supported", *errors))

    peerhttp.serve("registry", args.port, Handler, args.tls_dir, on_stop=stopping.set, poll_interval=0.1)   # SIGTERM noticed within 0.1 s
    with db_lock:
        db.close()


if __name__ == "__main__":
    main()

"""End-to-end tests of the JSON API (`/api/v1`) against a live `svar serve` on a free loopback port.

Contract (issue text): every call needs `Authorization: Bearer $SVAR_API_TOKEN` (else 401). Units, patients
(409 with the existing id for a known number), courses, pathway events that the protocol turns into
invitations at once (baseline at `start`; `end` and `followUp1y` at `end`, the follow-up due 12 calendar months
after the end), reservation (cancels every pending invitation, blocks new ones), deletion request (202), fresh
signed links (`SVAR_PUBLIC_URL/a/{token}`). Every error is `application/problem+json` (RFC 9457) with `field`
naming the input at fault, and a refused request writes nothing.

The server runs with SVAR_WORKERS=none, so nothing but the API changes the data during a test.
"""
from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pytest

from conftest import Server, add_months, is_valid_synthetic, oslo_iso, oslo_today, server_env, synthetic_numbers

PUBLIC_URL = "https://svar.e2e.invalid/base"
MILESTONES = {"baseline", "evaluation", "end", "followUp1y"}
STATES = {"scheduled", "invited", "reminded", "opened", "completed", "expired", "declined", "unreachable", "cancelled"}
INVITATION_KEYS = {"id", "milestone", "instruments", "state", "opensAt", "closesAt", "history"}
PENDING = {"scheduled", "invited", "reminded", "opened", "unreachable"}
NUMBERS = iter(synthetic_numbers(200, dt.date(1980, 5, 17)))


@pytest.fixture(scope="module")
def api(svar_bin, tmp_path_factory):
    """One live server for the module (test mode, no workers, fresh database and keys)."""
    cwd = tmp_path_factory.mktemp("api-cwd")
    env = server_env(cwd / "svar.sqlite", SVAR_PUBLIC_URL=PUBLIC_URL, LOG_LEVEL="trace")
    srv = Server(svar_bin, cwd, cwd / "serve.log", env=env)
    srv.cwd = cwd
    try:
        srv.wait_until_healthy()
        srv.create_unit("4001", "E2E poliklinikk")
        srv.create_unit("4002", "E2E døgnenhet")
        yield srv
    finally:
        srv.kill()


def new_number() -> str:
    return next(NUMBERS)


def assert_problem(reply, status: int, field: str | None = None):
    """An RFC 9457 problem with `status` and (when given) `field`; returns the parsed body."""
    assert reply.status == status, reply
    assert reply.content_type.split(";")[0].strip() == "application/problem+json", reply
    body = reply.json
    assert body.get("status") == status, body
    assert isinstance(body.get("title"), str) and body["title"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


def by_milestone(course: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for inv in course["invitations"]:
        out.setdefault(inv["milestone"], []).append(inv)
    return out


def check_invitation_shape(inv: dict) -> None:
    assert INVITATION_KEYS <= set(inv), inv
    assert inv["milestone"] in MILESTONES, inv
    assert inv["state"] in STATES, inv
    assert inv["instruments"] and all(isinstance(i, str) for i in inv["instruments"]), inv
    assert dt.datetime.fromisoformat(inv["opensAt"]) < dt.datetime.fromisoformat(inv["closesAt"]), inv
    assert inv["history"] and inv["history"][0]["to"] == "scheduled", inv
    assert inv["history"][-1]["to"] == inv["state"], inv


# ---------------------------------------------------------------------------------------------------------------
# The whole contract flow
# ---------------------------------------------------------------------------------------------------------------
def test_units(api):
    reply = api.post("/api/v1/units", {"resh": "4999", "name": "E2E Vest"})
    assert reply.status == 201, reply
    assert reply.json == {"resh": "4999", "name": "E2E Vest"}
    assert_problem(api.post("/api/v1/units", {"resh": "4999", "name": "Again"}), 409, "resh")
    listed = api.get("/api/v1/units")
    assert listed.status == 200, listed
    assert {"4001", "4002", "4999"} <= {u["resh"] for u in listed.json}


def test_enrol_and_same_number_again_gives_409_with_the_existing_id(api):
    number = new_number()
    reply = api.post("/api/v1/patients", {"identityNumber": number, "name": "Kari E2E", "email": "kari@e2e.invalid",
                                          "mobile": "+4791234567", "language": "nn"})
    assert reply.status == 201, reply
    patient = reply.json["id"]
    assert isinstance(patient, str) and patient
    assert number not in patient and number not in reply.text
    again = api.post("/api/v1/patients", {"identityNumber": number, "name": "Someone else"})
    body = assert_problem(again, 409, "identityNumber")
    assert body.get("id") == patient, body
    # spaces inside the number are the same number
    spaced = f"{number[:6]} {number[6:]}"
    assert assert_problem(api.post("/api/v1/patients", {"identityNumber": spaced}), 409).get("id") == patient


def test_course_flow_start_end_reservation(api):
    today = oslo_today()
    start = today - dt.timedelta(days=200)
    end = today - dt.timedelta(days=10)
    patient = api.enrol(new_number(), name="Ola E2E", email="ola@e2e.invalid", mobile="91234567", language="nb")

    reply = api.post(f"/api/v1/patients/{patient}/courses", {"unit": "4001", "type": "D01"})
    assert reply.status == 201, reply
    course_id = reply.json["id"]

    course = api.course(course_id)
    assert course["id"] == course_id and course["patient"] == patient and course["unit"] == "4001"
    assert course["events"] == [] and course["invitations"] == []

    # start -> a baseline invitation, scheduled, created in the same request
    reply = api.post(f"/api/v1/courses/{course_id}/events", {"type": "start", "date": str(start)})
    assert reply.status == 201, reply
    course = api.course(course_id)
    assert [e["type"] for e in course["events"]] == ["start"]
    assert course["events"][0]["date"] == str(start)
    assert len(course["invitations"]) == 1, course
    baseline = course["invitations"][0]
    check_invitation_shape(baseline)
    assert baseline["milestone"] == "baseline" and baseline["state"] == "scheduled", baseline
    assert baseline["opensAt"] == oslo_iso(start, 9), baseline
    assert baseline["closesAt"] == oslo_iso(start + dt.timedelta(days=22)), baseline

    # an evaluation -> one evaluation invitation
    evaluation = start + dt.timedelta(days=90)
    api.event(course_id, "evaluation", evaluation)
    course = api.course(course_id)
    assert [i["milestone"] for i in course["invitations"]].count("evaluation") == 1, course

    # end -> `end` and `followUp1y` at once, the follow-up due 12 calendar months after the end
    reply = api.post(f"/api/v1/courses/{course_id}/events", {"type": "end", "date": str(end)})
    assert reply.status == 201, reply
    course = api.course(course_id)
    groups = by_milestone(course)
    assert set(groups) == {"baseline", "evaluation", "end", "followUp1y"}, course
    assert all(len(v) == 1 for v in groups.values()), groups
    for inv in course["invitations"]:
        check_invitation_shape(inv)
        assert inv["state"] == "scheduled", inv
    follow_up = groups["followUp1y"][0]
    assert follow_up["dueDate"] == str(add_months(end, 12)), follow_up
    assert dt.datetime.fromisoformat(follow_up["opensAt"]) <= \
        dt.datetime.fromisoformat(oslo_iso(add_months(end, 12), 9)) < dt.datetime.fromisoformat(follow_up["closesAt"])
    assert groups["end"][0]["opensAt"] == oslo_iso(end, 9), groups["end"]
    assert {"kvarus-followup"} <= set(follow_up["instruments"]), follow_up

    # a second, still active course of the same patient
    course2 = api.start_course(patient, "4002", "D11")
    api.event(course2, "start", today - dt.timedelta(days=5))
    assert [i["state"] for i in api.course(course2)["invitations"]] == ["scheduled"]

    # reservation: every pending invitation of the patient is cancelled with the reason `reservation`
    reply = api.post(f"/api/v1/patients/{patient}/reservation")
    assert reply.status == 201, reply
    assert reply.json.get("cancelledInvitations") == 5, reply
    for cid in (course_id, course2):
        for inv in api.course(cid)["invitations"]:
            assert inv["state"] == "cancelled", inv
            assert inv["cancelReason"] == "reservation", inv
            assert inv["history"][-1]["from"] == "scheduled" and inv["history"][-1]["to"] == "cancelled", inv

    # events are still recorded after a reservation (care goes on), but no invitation is made
    before = len(api.course(course2)["invitations"])
    reply = api.post(f"/api/v1/courses/{course2}/events", {"type": "evaluation", "date": str(today - dt.timedelta(days=1))})
    assert reply.status == 201, reply
    course = api.course(course2)
    assert [e["type"] for e in course["events"]] == ["start", "evaluation"]
    assert len(course["invitations"]) == before, course
    # a new course after the reservation: start recorded, no baseline
    course3 = api.start_course(patient, "4001")
    api.event(course3, "start", today)
    assert api.course(course3)["invitations"] == []
    # enrolling the same number again finds the same (reserved) patient
    # (reservation is idempotent)
    assert api.post(f"/api/v1/patients/{patient}/reservation").status == 201

    # deletion request: 202
    reply = api.post(f"/api/v1/patients/{patient}/deletion-request")
    assert reply.status == 202, reply
    assert reply.json.get("patient") == patient, reply


def test_reservation_is_remembered_for_a_later_enrolment_of_the_same_number(api):
    """Reservation keeps a tombstone; the 409 finds the same patient, whose new courses get no invitations."""
    number = new_number()
    patient = api.enrol(number)
    assert api.post(f"/api/v1/patients/{patient}/reservation").status == 201
    assert assert_problem(api.post("/api/v1/patients", {"identityNumber": number}), 409).get("id") == patient
    course = api.start_course(patient, "4001")
    api.event(course, "start", oslo_today() - dt.timedelta(days=1))
    assert api.course(course)["invitations"] == []


def test_link(api):
    number = new_number()
    patient = api.enrol(number, name="Link E2E")
    course = api.start_course(patient, "4001")
    api.event(course, "start", oslo_today() - dt.timedelta(days=2))
    invitation = api.course(course)["invitations"][0]

    reply = api.post(f"/api/v1/invitations/{invitation['id']}/link")
    assert reply.status == 201, reply
    body = reply.json
    url = body["url"]
    assert url.startswith(PUBLIC_URL + "/a/"), url
    token = url[len(PUBLIC_URL + "/a/"):]
    assert token and "/" not in token and "?" not in token, url
    assert urllib.parse.quote(token, safe="-._~") == token, f"token is not URL-safe: {token!r}"
    for secret in (patient, patient.replace("-", ""), number, course, course.replace("-", "")):
        assert secret not in url, f"{secret} appears in {url}"
    assert body["expiresAt"] == invitation["closesAt"], (body, invitation)
    # a second link is a different one
    second = api.post(f"/api/v1/invitations/{invitation['id']}/link")
    assert second.status == 201 and second.json["url"] != url, second

    # no link for an invitation that does not exist, or for a cancelled one
    assert_problem(api.post("/api/v1/invitations/00000000-0000-4000-8000-000000000000/link"), 404)
    api.post(f"/api/v1/patients/{patient}/reservation")
    assert_problem(api.post(f"/api/v1/invitations/{invitation['id']}/link"), 409)


def test_link_for_a_closed_window_is_refused(api):
    patient = api.enrol(new_number())
    course = api.start_course(patient, "4001")
    api.event(course, "start", oslo_today() - dt.timedelta(days=60))   # baseline window closed long ago
    invitation = api.course(course)["invitations"][0]
    assert_problem(api.post(f"/api/v1/invitations/{invitation['id']}/link"), 409)


# ---------------------------------------------------------------------------------------------------------------
# Authorisation
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path", [("GET", "/api/v1/units"), ("POST", "/api/v1/units"),
                                         ("POST", "/api/v1/patients"), ("GET", "/api/v1/courses/x"),
                                         ("POST", "/api/v1/invitations/x/link"), ("GET", "/api/v1/nudges")])
def test_401_without_or_with_a_wrong_token(api, method, path):
    body = {"resh": "4500", "name": "x"} if method == "POST" else None
    for token, headers in [(None, None), ("wrong-token-wrong-token", None), (api.token + "x", None),
                           (api.token[:-1], None), (None, {"Authorization": f"Basic {api.token}"}),
                           (None, {"Authorization": api.token}), (None, {"Authorization": f"bearer{api.token}"})]:
        reply = api.request(method, path, body, token=token, headers=headers)
        assert_problem(reply, 401)
        assert "Bearer" in (reply.headers.get("WWW-Authenticate") or ""), reply.headers
        assert api.token not in reply.text
    # nothing was created by the refused calls
    assert "4500" not in {u["resh"] for u in api.get("/api/v1/units").json}


def test_api_without_configured_token_refuses_everything(svar_bin, tmp_path, start_server):
    env = server_env(tmp_path / "svar.sqlite")
    del env["SVAR_API_TOKEN"]
    srv = start_server(env)
    for token in (None, "anything-anything-anything"):
        assert_problem(srv.request("GET", "/api/v1/units", token=token), 401)


# ---------------------------------------------------------------------------------------------------------------
# Errors: application/problem+json with the field at fault; a refused request writes nothing
# ---------------------------------------------------------------------------------------------------------------
def test_bad_identity_number(api):
    good = new_number()
    bad_control = good[:10] + str((int(good[10]) + 1) % 10)
    for number in (bad_control, "1234567890", "123456789012", "abcdefghijk", "31820000000"):
        assert_problem(api.post("/api/v1/patients", {"identityNumber": number}), 400, "identityNumber")
    assert_problem(api.post("/api/v1/patients", {"name": "No number"}), 400, "identityNumber")
    assert_problem(api.post("/api/v1/patients", {"identityNumber": 12345678901}), 400, "identityNumber")
    # the good number was never enrolled by the refused calls with its neighbours
    assert api.post("/api/v1/patients", {"identityNumber": good}).status == 201


@pytest.mark.parametrize("body,field", [
    ({"language": "de"}, "language"), ({"email": "not-an-address"}, "email"), ({"mobile": "12"}, "mobile"),
    ({"birthDate": "1980-02-30"}, "birthDate"), ({"nickname": "x"}, "nickname"),
])
def test_enrol_field_errors(api, body, field):
    number = new_number()
    assert_problem(api.post("/api/v1/patients", {"identityNumber": number, **body}), 400, field)
    assert api.post("/api/v1/patients", {"identityNumber": number}).status == 201, "the refused call wrote something"


def test_unknown_field(api):
    assert_problem(api.post("/api/v1/units", {"resh": "4600", "name": "x", "colour": "blue"}), 400, "colour")
    patient = api.enrol(new_number())
    assert_problem(api.post(f"/api/v1/patients/{patient}/courses", {"unit": "4001", "priority": 1}), 400, "priority")
    course = api.start_course(patient, "4001")
    assert_problem(api.post(f"/api/v1/courses/{course}/events", {"type": "start", "date": str(oslo_today()),
                                                                 "comment": "x"}), 400, "comment")
    assert api.course(course)["events"] == []
    assert "4600" not in {u["resh"] for u in api.get("/api/v1/units").json}


def test_event_errors(api):
    today = oslo_today()
    patient = api.enrol(new_number())
    course = api.start_course(patient, "4001")
    # nothing before a start
    assert_problem(api.post(f"/api/v1/courses/{course}/events", {"type": "evaluation", "date": str(today)}), 409, "type")
    start = today - dt.timedelta(days=30)
    api.event(course, "start", start)
    snapshot = api.course(course)

    def refused(body, status, field):
        assert_problem(api.post(f"/api/v1/courses/{course}/events", body), status, field)
        assert api.course(course) == snapshot, f"refused {body} changed the course"

    refused({"type": "start", "date": str(start)}, 409, "type")                              # duplicate start
    refused({"type": "start", "date": str(start + dt.timedelta(days=1))}, 409, "type")
    refused({"type": "end", "date": str(start - dt.timedelta(days=1))}, 409, "date")         # end before start
    refused({"type": "evaluation", "date": str(start - dt.timedelta(days=1))}, 409, "date")
    refused({"type": "evaluation", "date": str(today + dt.timedelta(days=1))}, 400, "date")  # future
    refused({"type": "end", "date": str(today + dt.timedelta(days=30))}, 400, "date")
    refused({"type": "finish", "date": str(today)}, 400, "type")
    refused({"type": "evaluation", "date": "2026-02-30"}, 400, "date")
    refused({"type": "evaluation", "date": "yesterday"}, 400, "date")
    refused({"type": "evaluation"}, 400, "date")
    refused({"date": str(today)}, 400, "type")
    refused({"type": "transfer", "date": str(today)}, 400, "unit")
    refused({"type": "transfer", "date": str(today), "unit": "9999999"}, 400, "unit")

    api.event(course, "evaluation", today - dt.timedelta(days=3))
    snapshot = api.course(course)
    refused({"type": "evaluation", "date": str(today - dt.timedelta(days=3))}, 409, "date")  # same evaluation twice
    refused({"type": "end", "date": str(today - dt.timedelta(days=4))}, 409, "date")         # end before last event
    api.event(course, "end", today - dt.timedelta(days=1))
    snapshot = api.course(course)
    refused({"type": "evaluation", "date": str(today)}, 409, "type")                         # nothing after the end
    refused({"type": "end", "date": str(today)}, 409, "type")


def test_course_errors(api):
    patient = api.enrol(new_number())
    assert_problem(api.post(f"/api/v1/patients/{patient}/courses", {"unit": "9999999"}), 400, "unit")
    assert_problem(api.post(f"/api/v1/patients/{patient}/courses", {"unit": "4001", "type": "D99"}), 400, "type")
    assert_problem(api.post(f"/api/v1/patients/{patient}/courses", {}), 400, "unit")
    assert_problem(api.post("/api/v1/patients/no-such-patient/courses", {"unit": "4001"}), 404)
    assert_problem(api.get("/api/v1/courses/no-such-course"), 404)
    assert_problem(api.post("/api/v1/courses/no-such-course/events", {"type": "start", "date": str(oslo_today())}), 404)
    assert_problem(api.post("/api/v1/patients/no-such-patient/reservation"), 404)
    assert_problem(api.post("/api/v1/patients/no-such-patient/deletion-request"), 404)


def test_unit_errors(api):
    for body, field in [({"resh": "0123", "name": "x"}, "resh"), ({"resh": "12a", "name": "x"}, "resh"),
                        ({"name": "x"}, "resh"), ({"resh": "4700"}, "name"), ({"resh": 4700, "name": "x"}, "resh"),
                        ({"resh": "4700", "name": "x", "parent": "9999999"}, "parent")]:
        assert_problem(api.post("/api/v1/units", body), 400, field)
    assert "4700" not in {u["resh"] for u in api.get("/api/v1/units").json}


def test_malformed_bodies(api):
    assert_problem(api.request("POST", "/api/v1/units", raw=b'{"resh": "4800", "name": '), 400)
    assert_problem(api.request("POST", "/api/v1/units", raw=b'["4800"]'), 400)
    assert_problem(api.request("POST", "/api/v1/units", raw=b'{"resh":"4800","name":"x"}',
                               headers={"Content-Type": "text/plain"}), 415)
    assert_problem(api.request("POST", "/api/v1/units", raw=b'{"resh":"4800","name":"' + b"x" * 70000 + b'"}'), 413)
    assert "4800" not in {u["resh"] for u in api.get("/api/v1/units").json}


def test_synthetic_numbers_are_refused_in_production(svar_bin, tmp_path, start_server):
    env = server_env(tmp_path / "svar.sqlite")
    del env["SVAR_MODE"]   # default: production
    srv = start_server(env)
    body = assert_problem(srv.post("/api/v1/patients", {"identityNumber": new_number()}), 400, "identityNumber")
    assert re.search(r"synthetic|test", body.get("detail", ""), re.I), body


def test_no_identity_number_in_the_log_or_the_database_files(api):
    """Runs last in this module: after everything above, no identity number is in clear in the server's log (at
    LOG_LEVEL=trace) or in its SQLite files (the identity vault holds them sealed)."""
    number = new_number()
    assert is_valid_synthetic(number)   # so the search below would find it
    api.enrol(number, name="Leak Check")
    api.post("/api/v1/patients", {"identityNumber": number})                      # 409
    api.post("/api/v1/patients", {"identityNumber": number[:10] + "x"})           # 400
    digits = re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])")
    in_log = [m for m in digits.findall(api.logs()) if is_valid_synthetic(m)]
    assert not in_log, f"identity numbers in the server log: {in_log}"
    files = sorted(api.cwd.glob("svar.sqlite*"))
    assert files
    for path in files:
        found = [m.decode() for m in re.findall(rb"(?<![0-9])[0-9]{11}(?![0-9])", path.read_bytes())
                 if is_valid_synthetic(m.decode())]
        assert not found, f"identity numbers in clear in {path.name}: {found}"

"""End-to-end tests of `svar export` (the local registry store as CSV / NDJSON with a codebook) and `svar report`
(anonymous statistics from Svar's own database, § 4-3).

The data are made the way they are in production: a `svar serve` with SVAR_WORKERS=none gets units, patients and
courses through the JSON API; patients answer their baseline invitation (RAND-36 + EQ-5D-5L) through the patient
pages with plain HTTP form posts (landing page for the CSRF cookie, one POST per step, then submit). The server
is stopped; `svar tick` invites the patients who did not answer; `svar forward` sends the answers to the local
registry store. Unit 6101 has 7 invited patients of whom 6 answered; unit 6102 has 3 invited and 2 answered, so
with the default --min-cell 5 its counts, rate and means must be withheld.

Contract checked: export rows equal what Svar stored (answers and exact score text), the codebook names every
column and every code seen, the export is recorded with its members in the registry store, the report shows the
large cell and suppresses the small one, and bad arguments exit 1 naming the option.
"""
from __future__ import annotations

import csv
import datetime as dt
import http.client
import json
import re
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from conftest import HOST, REPO, Server, free_port, open_ro, oslo_today, query, server_env, synthetic_numbers

NUMBERS = iter(synthetic_numbers(40, dt.date(1975, 3, 9)))
UNITS = {"6101": (7, 6), "6102": (3, 2)}  # resh -> (patients invited, patients who answer)
LANGUAGES = ["nb", "nn", "en"]


def rand36_codes() -> dict[str, list[str]]:
    """linkId -> answer codes, from the bundled questionnaire."""
    questionnaire = json.loads((REPO / "Sources/SvarAssets/instruments/rand36/questionnaire.json").read_text(encoding="utf-8"))
    out = {}

    def walk(items):
        for item in items:
            if item["type"] == "choice":
                out[item["linkId"]] = [o["valueCoding"]["code"] for o in item["answerOption"]]
            walk(item.get("item", []))
    walk(questionnaire["item"])
    return out


RAND36_CODES = rand36_codes()


def answers_for(seed: int) -> dict[str, int]:
    """RAND-36 and EQ-5D-5L answers that differ per patient; some RAND items left out (none is required)."""
    out = {}
    for j, (link_id, codes) in enumerate(RAND36_CODES.items()):
        if (j + seed) % 13 == 0:
            continue
        out[link_id] = int(codes[(j * 7 + seed * 3) % len(codes)])
    for j, dim in enumerate(["MO", "SC", "UA", "PD", "AD"]):
        out[dim] = 1 + (seed + j * 2) % 5
    out["VAS"] = (seed * 23 + 11) % 101
    return out


class Patient:
    """One patient answering through the patient pages over plain HTTP (no browser)."""

    def __init__(self, srv: Server, url: str, language: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        self.path = parts.path
        self.lang = language
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie(header)
            if "svar_csrf" in jar:
                self.cookie = f"svar_csrf={jar['svar_csrf'].value}"
        return resp.status, resp.headers.get("Location", ""), text

    def stop_at_step_two(self, answers: dict[str, int]) -> None:
        """Opens the link, says who answers, answers step 1, looks at step 2 and goes away (paradata's case)."""
        status, _, _ = self.request("GET", f"{self.path}?lang={self.lang}")
        assert status == 200 and self.cookie, f"landing page: HTTP {status}"
        csrf = self.cookie.split("=", 1)[1]
        status, location, _ = self.request("POST", f"{self.path}/start?lang={self.lang}", {"csrf": csrf, "respondent": "patient"})
        assert status == 303 and "/s/1" in location, (status, location)
        assert self.request("GET", f"{self.path}/s/1?lang={self.lang}")[0] == 200
        form = {"csrf": csrf, **{k: str(v) for k, v in answers.items()}}
        status, location, _ = self.request("POST", f"{self.path}/s/1?lang={self.lang}", form)
        assert status == 303 and "/s/2" in location, (status, location)
        assert self.request("GET", location)[0] == 200
        self.conn.close()

    def answer(self, answers: dict[str, int]) -> None:
        status, _, _ = self.request("GET", f"{self.path}?lang={self.lang}")
        assert status == 200 and self.cookie, f"landing page: HTTP {status}, cookie {self.cookie!r}"
        csrf = self.cookie.split("=", 1)[1]
        form = {"csrf": csrf, **{k: str(v) for k, v in answers.items()}}
        step = 1
        while True:
            status, location, text = self.request("POST", f"{self.path}/s/{step}?lang={self.lang}", form)
            assert status == 303, f"step {step}: HTTP {status}\n{text[:500]}"
            if "/review" in location:
                break
            assert f"/s/{step + 1}" in location, location
            step += 1
        status, location, _ = self.request("POST", f"{self.path}/submit?lang={self.lang}", {"csrf": csrf})
        assert status == 303 and "/done" in location, f"submit: HTTP {status} -> {location}"
        self.conn.close()


@pytest.fixture(scope="module")
def world(svar, svar_bin, tmp_path_factory):
    """Answered and unanswered baseline invitations, forwarded to the local registry store."""
    cwd = tmp_path_factory.mktemp("export-cwd")
    db = cwd / "svar.sqlite"
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = server_env(db, SVAR_PORT=str(port), SVAR_PUBLIC_URL=base)
    srv = Server(svar_bin, cwd, cwd / "serve.log", env=env)
    srv.port, srv.base = port, base
    seed = 0
    try:
        srv.wait_until_healthy()
        for resh, (invited, answering) in UNITS.items():
            srv.create_unit(resh, f"E2E enhet {resh}")
            for k in range(invited):
                seed += 1
                patient = srv.enrol(next(NUMBERS))
                course = srv.start_course(patient, resh)
                reply = srv.event(course, "start", oslo_today() - dt.timedelta(days=3))
                invitation = [i for i in reply["invitations"] if i["milestone"] == "baseline"][0]
                if k < answering:
                    url = srv.ok("POST", f"/api/v1/invitations/{invitation['id']}/link", {})["url"]
                    Patient(srv, url, LANGUAGES[seed % 3]).answer(answers_for(seed))
                elif k == answering:
                    # One who stops at step 2 in each unit: the paradata show where.
                    url = srv.ok("POST", f"/api/v1/invitations/{invitation['id']}/link", {})["url"]
                    Patient(srv, url, "nb").stop_at_step_two(answers_for(seed))
        assert srv.stop() == 0, srv.logs()
    finally:
        srv.kill()
    tick = svar.run("tick", env=env, cwd=cwd)
    assert tick.rc == 0, tick
    forward = svar.run("forward", env=env, cwd=cwd)
    assert forward.rc == 0 and "forwarded 16," in forward.stdout, forward
    exports = {}
    for fmt in ("csv", "ndjson"):
        result = svar.run("export", "--format", fmt, "--out", str(cwd / f"out-{fmt}"), env=env, cwd=cwd)
        assert result.rc == 0, result
        exports[fmt] = result
    return {"cwd": cwd, "db": db, "registry": cwd / "registry.sqlite", "env": env, "exports": exports}


def stored(db: Path) -> dict[str, dict]:
    """Svar's own record of every response: what was forwarded (answers and scores as stored text)."""
    conn = open_ro(db)
    try:
        out = {}
        for r in conn.execute("SELECT r.id, r.instrument, r.instrument_version, r.answers, r.language, r.respondent, "
                              "c.unit, i.milestone FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                              "JOIN courses c ON c.id = i.course_id"):
            scores = {s["key"]: s for s in conn.execute(
                "SELECT key, number, flag, algorithm, value_set FROM scores WHERE response_id = ?", (r["id"],))}
            out[r["id"]] = {**dict(r), "scores": scores}
        return out
    finally:
        conn.close()


def score_text(score) -> str:
    if score["number"] is not None:
        return score["number"]
    if score["flag"] is not None:
        return "true" if score["flag"] else "false"
    return ""


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), f"{path.name}: CRLF line ends (RFC 4180)"
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, r, strict=True)) for r in reader]
    return header, rows


def test_csv_export_equals_what_was_stored_and_the_codebook_names_it(world):
    out = world["cwd"] / "out-csv"
    summary = world["exports"]["csv"].stdout
    assert re.search(r"^export \S+ \(csv\): 16 row\(s\) of 8 patient\(s\), 6 file\(s\) in .*out-csv: "
                     r"results-eq5d-5l\.csv, results-rand36\.csv, codebook\.json, codebook\.csv, paradata\.csv, "
                     r"paradata-codebook\.csv; paradata: 84 step view\(s\)$", summary, re.M), summary
    assert sorted(p.name for p in out.iterdir()) == ["codebook.csv", "codebook.json", "paradata-codebook.csv", "paradata.csv",
                                                     "results-eq5d-5l.csv", "results-rand36.csv"]
    responses = stored(world["db"])
    codebook = json.loads((out / "codebook.json").read_text(encoding="utf-8"))
    common = {v["name"] for v in codebook["common"]}
    _, codebook_rows = read_csv(out / "codebook.csv")
    seen_ids, pseudonyms = set(), set()
    for described in codebook["instruments"]:
        header, rows = read_csv(out / described["file"])
        assert described["rows"] == len(rows) == 8
        assert described["questionnaire"] == f"urn:svar:questionnaire:{described['id']}" and described["title"]
        variables = {v["name"]: v for v in described["variables"] + described["scores"]}
        assert set(header) == common | set(variables), f"{described['file']}: columns vs codebook"
        assert header[:8] == ["pseudonym", "response_id", "unit", "milestone", "instrument_version", "submitted", "language",
                              "respondent"] and header[-2:] == ["algorithm", "value_set"]
        for name in header:
            assert any(r["variable"] == name and r["instrument"] in ("", described["id"]) for r in codebook_rows), name
        for row in rows:
            response = responses[row["response_id"]]
            seen_ids.add(row["response_id"])
            pseudonyms.add(row["pseudonym"])
            assert response["instrument"] == described["id"]
            for key in ("unit", "milestone", "instrument_version", "language", "respondent"):
                assert row[key] == response[key], (key, row, response)
            assert dt.datetime.fromisoformat(row["submitted"]).utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
            answers = json.loads(response["answers"])
            for name, variable in variables.items():
                if name.startswith("item_"):
                    link_id = name[5:]
                    assert row[name] == (str(answers[link_id]) if link_id in answers else ""), (name, row[name])
                    if row[name] and variable["type"] == "code":
                        assert row[name] in {c["code"] for c in variable["codes"]}, f"{name}: code {row[name]} not in codebook"
                    elif row[name]:
                        assert variable["min"] <= int(row[name]) <= variable["max"], name
            for key, score in response["scores"].items():
                assert row[f"score_{key}"] == score_text(score), f"score {key}: {row[f'score_{key}']!r} != {score_text(score)!r}"
            assert row["algorithm"] == next(iter(response["scores"].values()))["algorithm"]
            assert row["value_set"] == ("no-2024" if described["id"] == "eq5d-5l" else "")
    assert seen_ids == set(responses), "every stored response is exported exactly once"
    index = next(s for s in codebook["instruments"][0]["scores"] if s["name"] == "score_index")
    assert [(v["id"], v["doi"]) for v in index["valueSets"]] == [("no-2024", "10.1007/s11136-024-03837-3")]
    # The export is recorded with every patient in it (a later deletion reports it as data already used).
    record = query(world["registry"], "SELECT id, format, rows FROM exports WHERE id = ?", (codebook["export"]["id"],))
    assert [tuple(r) for r in record] == [(codebook["export"]["id"], "csv", 16)]
    members = query(world["registry"], "SELECT pseudonym FROM export_members WHERE export_id = ?", (codebook["export"]["id"],))
    assert {m["pseudonym"] for m in members} == pseudonyms and len(members) == 8


def test_paradata_show_where_patients_stop_and_nothing_they_answered(world):
    """Issue 15 item 9: per invitation, when each step was first shown and saved; no answers, no ids."""
    out = world["cwd"] / "out-csv"
    header, rows = read_csv(out / "paradata.csv")
    _, described = read_csv(out / "paradata-codebook.csv")
    assert [d["variable"] for d in described] == header and all(d["label"] for d in described)
    by_invitation: dict[str, list[dict]] = {}
    for row in rows:
        by_invitation.setdefault(row["invitation"], []).append(row)
    # 8 answered invitations (every one of the 10 steps saved) and 2 that stopped at step 2.
    complete = [r for r in by_invitation.values() if r[0]["invitation_state"] == "completed"]
    stopped = [r for r in by_invitation.values() if r[0]["invitation_state"] != "completed"]
    assert len(complete) == 8 and all(len(r) == 10 and all(s["first_saved"] for s in r) for r in complete), complete[:1]
    assert len(stopped) == 2, stopped
    for steps in stopped:
        assert [(s["step"], bool(s["first_saved"])) for s in steps] == [("1", True), ("2", False)], steps
        assert steps[0]["step_instrument"] == "rand36" and steps[0]["steps_in_form"] == "10"
        assert dt.datetime.fromisoformat(steps[1]["first_shown"]) >= dt.datetime.fromisoformat(steps[0]["first_shown"])
    assert {r["unit"] for r in rows} == {"6101", "6102"} and {r["milestone"] for r in rows} == {"baseline"}
    text = (out / "paradata.csv").read_text(encoding="utf-8")
    invitation_ids = [r[0] for r in query(world["db"], "SELECT id FROM invitations")]
    assert not any(i in text for i in invitation_ids), "no invitation id in the paradata"
    assert "item_" not in text and "VAS" not in text, "nothing answered in the paradata"


def test_ndjson_export_keeps_the_exact_numbers(world):
    out = world["cwd"] / "out-ndjson"
    assert sorted(p.name for p in out.iterdir()) == ["codebook.json", "paradata-codebook.csv", "paradata.csv", "results.ndjson"]
    responses = stored(world["db"])
    codebook = json.loads((out / "codebook.json").read_text(encoding="utf-8"))
    lines = (out / "results.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 16
    names = {v["name"] for v in codebook["common"]}
    for line in lines:
        # Numbers as their literal text: the export must carry the stored decimal digit for digit.
        obj = json.loads(line, parse_float=str, parse_int=str)
        response = responses[obj["response_id"]]
        assert obj["instrument"] == response["instrument"] and obj["unit"] == response["unit"]
        described = next(i for i in codebook["instruments"] if i["id"] == obj["instrument"])
        variables = {v["name"] for v in described["variables"] + described["scores"]}
        assert {f"answers.{k}" for k in obj["answers"]} | {f"scores.{k}" for k in obj["scores"]} == variables
        assert set(obj) - {"answers", "scores"} <= names
        answers = json.loads(response["answers"], parse_int=str)
        assert {k: v for k, v in obj["answers"].items() if v is not None} == answers
        for key, score in response["scores"].items():
            got = obj["scores"][key]
            want = score["number"] if score["number"] is not None else (None if score["flag"] is None else bool(score["flag"]))
            assert got == want, f"{obj['instrument']} {key}: {got!r} != {want!r}"


def rounded(values: list[str], places: int) -> str:
    mean = sum(Decimal(v) for v in values) / len(values)
    return str(mean.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def test_report_shows_large_cells_and_suppresses_small_ones(svar, world):
    result = svar.run("report", "--format", "json", env=world["env"], cwd=world["cwd"])
    assert result.rc == 0, result
    report = json.loads(result.stdout, parse_float=str)
    assert report["minCell"] == 5 and "<5" in report["note"]
    rows = {r["unit"]: r for r in report["rows"]}
    assert set(rows) == {"6101", "6102"} and {r["milestone"] for r in report["rows"]} == {"baseline"}, "no total rows"
    large, small = rows["6101"], rows["6102"]
    assert (large["invited"], large["answered"], large["responseRate"], large["suppressed"]) == (7, 6, "0.857", [])
    values: dict[str, list[str]] = {}
    for response in stored(world["db"]).values():
        if response["unit"] == "6101":
            for key, score in response["scores"].items():
                if score["number"] is not None:
                    values.setdefault(f"{response['instrument']}.{key}", []).append(score["number"])
    assert len(large["means"]) == len(values)
    for mean in large["means"]:
        got = values[f"{mean['instrument']}.{mean['key']}"]
        assert mean["n"] == len(got) == 6 and mean["valueSet"] == ("no-2024" if mean["key"] == "index" else None)
        assert mean["mean"] == rounded(got, 3 if mean["key"] == "index" else 1), mean
    assert (small["invited"], small["answered"], small["responseRate"]) == ("<5", "<5", None)
    assert small["means"] and all(m["n"] == "<5" and m["mean"] is None for m in small["means"])
    assert {"invited", "answered", "responseRate"} <= set(small["suppressed"])
    patients = {r["patient_id"] for r in query(world["db"], "SELECT patient_id FROM invitations")}
    registry = {r["pseudonym"] for r in query(world["registry"], "SELECT pseudonym FROM results")}
    assert not any(p in result.stdout for p in patients | registry), "no ids or pseudonyms in the report"

    as_csv = svar.run("report", env=world["env"], cwd=world["cwd"])
    assert as_csv.rc == 0 and "<5" in as_csv.stderr, as_csv
    table = list(csv.reader(as_csv.stdout.splitlines()))
    assert table[0][:6] == ["unit", "unit_name", "milestone", "invited", "answered", "response_rate"]
    assert [r[:6] for r in table[1:]] == [["6101", "E2E enhet 6101", "baseline", "7", "6", "0.857"],
                                         ["6102", "E2E enhet 6102", "baseline", "<5", "<5", "<5"]]
    three = json.loads(svar.run("report", "--format", "json", "--min-cell", "3", env=world["env"], cwd=world["cwd"]).stdout)
    assert {r["unit"]: (r["invited"], r["answered"]) for r in three["rows"]}["6102"] == (3, "<3")


@pytest.mark.parametrize("args, option", [
    (["export", "--format", "xml"], "--format"),
    (["export", "--format", "csv", "--instrument", "phq9"], "--instrument"),
    (["report", "--format", "xml"], "--format"),
    (["report", "--min-cell", "1"], "--min-cell"),
    (["report", "--min-cell", "2"], "--min-cell"),
    (["report", "--min-cell", "five"], "--min-cell"),
])
def test_bad_arguments_exit_1_naming_the_option(svar, world, args, option):
    result = svar.run(*args, env=world["env"], cwd=world["cwd"])
    assert result.rc == 1 and option in result.stderr and not result.stdout, result


def test_an_export_never_overwrites_and_needs_the_local_store(svar, world):
    def count() -> int:
        return query(world["registry"], "SELECT COUNT(*) AS n FROM exports")[0]["n"]

    before = count()
    out = world["cwd"] / "out-csv"
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = svar.run("export", "--format", "csv", "--out", str(out), env=world["env"], cwd=world["cwd"])
    assert again.rc == 1 and "--out" in again.stderr and "exists" in again.stderr, again
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp, "existing files untouched"
    fhir = svar.run("export", "--format", "ndjson", "--out", str(world["cwd"] / "never"),
                    env={**world["env"], "SVAR_REGISTRY_URL": "https://registry.e2e.invalid/fhir"}, cwd=world["cwd"])
    assert fhir.rc == 1 and "SVAR_REGISTRY_URL" in fhir.stderr, fhir
    assert count() == before, "a refused export is not recorded"
    # The default folder: export-<time> in the working directory; one instrument only.
    default = svar.run("export", "--format", "csv", "--instrument", "eq5d-5l", env=world["env"], cwd=world["cwd"])
    assert default.rc == 0, default
    made = [p for p in world["cwd"].iterdir() if p.name.startswith("export-")]
    assert len(made) == 1 and re.fullmatch(r"export-\d{4}-\d\d-\d\dT\d{6}", made[0].name), made
    assert sorted(p.name for p in made[0].iterdir()) == ["codebook.csv", "codebook.json", "paradata-codebook.csv", "paradata.csv",
                                                         "results-eq5d-5l.csv"]
    assert count() == before + 1

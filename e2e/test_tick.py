"""End-to-end tests of `svar tick --now T`: one scheduler pass at a given instant, on the database `svar serve` uses.

Contract (issue text and README): the data are made through the API by a server with SVAR_WORKERS=none; the
server is stopped; `svar tick --now T` with the same environment then runs one pass (ISO 8601; seconds and an
offset optional; no offset = Europe/Oslo) and prints what it did. Invitations open and reminders go out at
09:00 Oslo time; a window ends at midnight after its last day; a second pass at the same instant does nothing;
29 February + 12 months = 28 February. The protocol is the bundled `kvarus` one: baseline window 0..21 days with
reminders on day 7 and 3 days before the last day; the one-year follow-up from 12 months - 14 days to
12 months + 42 days after the end.

The database is read with python's sqlite3, read-only, and only while no svar process runs.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import (OSLO, add_months, oslo_iso, oslo_today, parse_tick, query, running_server, server_env,
                      synthetic_numbers)

NUMBERS = iter(synthetic_numbers(100, dt.date(1990, 7, 3)))
D = dt.timedelta


def epoch(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=OSLO).timestamp())


class TickDB:
    """A database populated through the API, then ticked with `svar tick`."""

    def __init__(self, svar, svar_bin: str, root: Path) -> None:
        self.svar = svar
        self.cwd = root
        self.db = root / "svar.sqlite"
        self.env = server_env(self.db)
        self.svar_bin = svar_bin

    def populate(self, courses: list[list[tuple[str, dt.date]]]) -> list[str]:
        """One patient per course; each course gets its events in order. Returns the course ids."""
        ids = []
        with running_server(self.svar_bin, self.cwd, self.env) as srv:
            srv.create_unit("5001", "Tick unit")
            for events in courses:
                patient = srv.enrol(next(NUMBERS))
                course = srv.start_course(patient, "5001")
                for type_, date in events:
                    srv.event(course, type_, date)
                ids.append(course)
        return ids

    def tick(self, now: str) -> dict:
        result = self.svar.run("tick", "--now", now, env=self.env, cwd=self.cwd)
        assert result.rc == 0, result
        return parse_tick(result.stdout)

    def invitation(self, course: str, milestone: str) -> dict:
        rows = query(self.db, "SELECT * FROM invitations WHERE course_id = ? AND milestone = ?", (course, milestone))
        assert len(rows) == 1, f"{len(rows)} {milestone} invitations for course {course}"
        inv = dict(rows[0])
        inv["history"] = [dict(r) for r in query(
            self.db, "SELECT from_state, to_state, at, cause FROM invitation_history WHERE invitation_id = ? ORDER BY id",
            (inv["id"],))]
        inv["reminders"] = [dict(r) for r in query(
            self.db, "SELECT seq, due_at, state FROM reminders WHERE invitation_id = ? ORDER BY seq", (inv["id"],))]
        inv["outbox"] = sorted(r["idempotency_key"] for r in query(
            self.db, "SELECT idempotency_key FROM outbox WHERE invitation_id = ?", (inv["id"],)))
        return inv


@pytest.fixture
def tickdb(svar, svar_bin, tmp_path) -> TickDB:
    return TickDB(svar, svar_bin, tmp_path)


def counts(report: dict) -> tuple[int, int, int, int]:
    return report["invited"], report["reminded"], report["expired"], report["cancelled"]


# ---------------------------------------------------------------------------------------------------------------
def test_baseline_invite_remind_expire(tickdb):
    start = dt.date(2025, 9, 1)          # a Monday, far from a DST change; last day of the window: 2025-09-22
    [course] = tickdb.populate([[("start", start)]])
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "scheduled" and inv["due_date"] == str(start)
    assert inv["opens_at"] == epoch(start, 9) and inv["closes_at"] == epoch(start + D(days=22))
    assert [r["due_at"] for r in inv["reminders"]] == [epoch(start + D(days=7), 9), epoch(start + D(days=18), 9)]

    report = tickdb.tick("2025-09-01T08:59")
    assert counts(report) == (0, 0, 0, 0), report
    assert report["at"] == "2025-09-01T08:59:00+02:00"
    assert tickdb.invitation(course, "baseline")["state"] == "scheduled"

    report = tickdb.tick("2025-09-01T09:00")
    assert counts(report) == (1, 0, 0, 0), report
    assert report["at"] == "2025-09-01T09:00:00+02:00"
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "invited"
    assert inv["outbox"] == [f"invitation:{inv['id']}"]

    # a second pass at the same instant invites nothing and writes nothing
    report = tickdb.tick("2025-09-01T09:00")
    assert counts(report) == (0, 0, 0, 0), report
    again = tickdb.invitation(course, "baseline")
    assert again == inv

    assert counts(tickdb.tick("2025-09-08T08:59:59")) == (0, 0, 0, 0)
    report = tickdb.tick("2025-09-08T09:00")          # +7 days
    assert counts(report) == (0, 1, 0, 0), report
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "reminded" and inv["reminders_sent"] == 1, inv
    assert counts(tickdb.tick("2025-09-08T09:00")) == (0, 0, 0, 0)
    assert counts(tickdb.tick("2025-09-19T09:00:00+02:00")) == (0, 1, 0, 0)   # 3 days before the last day
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "reminded" and inv["reminders_sent"] == 2, inv
    assert inv["outbox"] == sorted([f"invitation:{inv['id']}", f"reminder:{inv['id']}:1", f"reminder:{inv['id']}:2"])

    assert counts(tickdb.tick("2025-09-22T23:59:59")) == (0, 0, 0, 0)       # the last day is still open
    report = tickdb.tick("2025-09-22T22:00:00Z")                               # = 2025-09-23T00:00 Oslo
    assert counts(report) == (0, 0, 1, 0), report
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "expired"
    assert counts(tickdb.tick("2025-09-23T00:00")) == (0, 0, 0, 0)
    assert [(h["from_state"], h["to_state"]) for h in inv["history"]] == [
        (None, "scheduled"), ("scheduled", "invited"), ("invited", "reminded"), ("reminded", "reminded"),
        ("reminded", "expired")]
    assert [h["at"] for h in inv["history"][1:]] == [
        epoch(start, 9), epoch(start + D(days=7), 9), epoch(start + D(days=18), 9), epoch(start + D(days=22))]


def test_a_window_opened_late_does_not_fire_overdue_reminders(tickdb):
    start = dt.date(2025, 9, 1)
    [course] = tickdb.populate([[("start", start)]])
    report = tickdb.tick("2025-09-10T09:00")          # the day-7 reminder is overdue
    assert counts(report) == (1, 0, 0, 1), report
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "invited" and [r["state"] for r in inv["reminders"]] == ["cancelled", "pending"], inv
    assert counts(tickdb.tick("2025-09-19T09:00")) == (0, 1, 0, 0)
    inv = tickdb.invitation(course, "baseline")
    assert inv["reminders_sent"] == 1 and inv["outbox"] == sorted([f"invitation:{inv['id']}", f"reminder:{inv['id']}:2"])


def test_a_window_passed_entirely_expires_without_an_invitation(tickdb):
    start = dt.date(2025, 9, 1)
    [course] = tickdb.populate([[("start", start)]])
    assert counts(tickdb.tick("2025-10-01T09:00")) == (0, 0, 1, 0)
    inv = tickdb.invitation(course, "baseline")
    assert inv["state"] == "expired" and inv["outbox"] == [], inv
    assert [r["state"] for r in inv["reminders"]] == ["cancelled", "cancelled"], inv


def test_follow_up_after_an_end_on_29_february(tickdb):
    end = dt.date(2024, 2, 29)
    [course] = tickdb.populate([[("start", dt.date(2024, 1, 15)), ("end", end)]])
    follow_up = tickdb.invitation(course, "followUp1y")
    assert follow_up["due_date"] == "2025-02-28", follow_up
    assert follow_up["state"] == "scheduled"
    assert follow_up["opens_at"] == epoch(dt.date(2025, 2, 14), 9), follow_up            # 28 Feb - 14 days
    assert follow_up["closes_at"] == epoch(dt.date(2025, 4, 12)), follow_up              # 28 Feb + 42 days, then midnight
    assert tickdb.invitation(course, "end")["due_date"] == "2024-02-29"

    report = tickdb.tick("2024-03-20T12:00")     # baseline and end windows are over
    assert report["expired"] == 2 and report["invited"] == 0, report
    assert tickdb.invitation(course, "followUp1y")["state"] == "scheduled"
    assert counts(tickdb.tick("2025-02-14T08:59")) == (0, 0, 0, 0)
    assert counts(tickdb.tick("2025-02-14T09:00")) == (1, 0, 0, 0)
    assert tickdb.invitation(course, "followUp1y")["state"] == "invited"
    assert counts(tickdb.tick("2025-04-11T23:59")) == (0, 2, 0, 0)     # both reminders fall inside the window
    assert counts(tickdb.tick("2025-04-12T00:00")) == (0, 0, 1, 0)
    assert tickdb.invitation(course, "followUp1y")["state"] == "expired"


def last_sunday(year: int, month: int) -> dt.date:
    day = add_months(dt.date(year, month, 1), 1) - D(days=1)
    return day - D(days=(day.weekday() - 6) % 7)


def latest_with(month: int, latest_event: dt.date, event_of) -> dt.date:
    """The latest last-Sunday-of-`month` O whose triggering event date event_of(O) is on or before latest_event."""
    year = latest_event.year + 2
    while event_of(last_sunday(year, month)) > latest_event:
        year -= 1
    return last_sunday(year, month)


def test_ticks_around_the_dst_changes(tickdb):
    """Windows that open on the Sundays the clocks change open at 09:00 local time (CEST in March, CET in October),
    for baselines (a start on that Sunday) and one-year follow-ups (an end 12 months + 14 days before it)."""
    yesterday = oslo_today() - D(days=1)
    follow_up_end = lambda opens: add_months(opens + D(days=14), -12)  # noqa: E731
    spring_fu = latest_with(3, yesterday, follow_up_end)
    autumn_fu = latest_with(10, yesterday, follow_up_end)
    spring_b = latest_with(3, yesterday, lambda o: o)
    autumn_b = latest_with(10, yesterday, lambda o: o)
    cases = {  # name: (opening Sunday, milestone, offset at 09:00 that day, events)
        "spring-baseline": (spring_b, "baseline", "+02:00", [("start", spring_b)]),
        "autumn-baseline": (autumn_b, "baseline", "+01:00", [("start", autumn_b)]),
        "spring-follow-up": (spring_fu, "followUp1y", "+02:00",
                             [("start", follow_up_end(spring_fu) - D(days=60)), ("end", follow_up_end(spring_fu))]),
        "autumn-follow-up": (autumn_fu, "followUp1y", "+01:00",
                             [("start", follow_up_end(autumn_fu) - D(days=60)), ("end", follow_up_end(autumn_fu))]),
    }
    ids = dict(zip(cases, tickdb.populate([c[3] for c in cases.values()])))
    for name, (sunday, milestone, offset, _) in cases.items():
        inv = tickdb.invitation(ids[name], milestone)
        assert inv["opens_at"] == epoch(sunday, 9), (name, inv)
        assert dt.datetime.fromtimestamp(inv["opens_at"], OSLO).isoformat() == f"{sunday}T09:00:00{offset}", name
        if milestone == "followUp1y":
            assert inv["due_date"] == str(sunday + D(days=14)), (name, inv)

    # ticks in time order: just before 09:00 (nothing for this invitation), then at 09:00 local time, written
    # once without an offset and once as UTC (09:00 CEST = 07:00Z, 09:00 CET = 08:00Z)
    steps = []
    for i, (name, (sunday, milestone, offset, _)) in enumerate(cases.items()):
        utc_hour = 7 if offset == "+02:00" else 8
        steps.append((epoch(sunday, 8, 59), f"{sunday}T08:59", name, milestone, "scheduled", f"{sunday}T08:59:00{offset}"))
        at_nine = f"{sunday}T09:00" if i % 2 == 0 else f"{sunday}T{utc_hour:02d}:00:00Z"
        steps.append((epoch(sunday, 9), at_nine, name, milestone, "invited", f"{sunday}T09:00:00{offset}"))
    for _, now, name, milestone, state, printed in sorted(steps):
        report = tickdb.tick(now)
        assert report["at"] == printed, (now, report)
        inv = tickdb.invitation(ids[name], milestone)
        assert inv["state"] == state, (now, name, inv)
        if state == "invited":
            assert report["invited"] >= 1, (now, report)
            assert [h["at"] for h in inv["history"] if h["to_state"] == "invited"] == [epoch(dt.date.fromisoformat(now[:10]), 9)]
        # the first reminder of a window that opened on a DST Sunday is a week later at 09:00 local time
        if state == "invited":
            assert inv["reminders"][0]["due_at"] == epoch(dt.date.fromisoformat(now[:10]) + D(days=7), 9), inv


@pytest.mark.parametrize("now", ["garbage", "2027-05-01", "2027-02-30T09:00", "2027-05-01T25:00", "2027-05-01T09:60",
                                 "2027-05-01T09:00+25:00", "01.05.2027 09:00", ""])
def test_bad_now_is_refused(svar, tmp_path, now):
    env = server_env(tmp_path / "svar.sqlite")
    result = svar.run("tick", "--now", now, env=env, cwd=tmp_path)
    assert result.rc == 1, result
    assert "--now" in result.stderr, result
    assert not (tmp_path / "svar.sqlite").exists(), "a refused tick touched the database"


def test_tick_needs_no_vault_key_but_deliver_names_it(svar, tmp_path):
    """A scheduler pass never reads identities, so it runs without the key; sending does read them."""
    env = server_env(tmp_path / "svar.sqlite")
    del env["SVAR_VAULT_KEY"]
    result = svar.run("tick", "--now", "2027-05-01T09:00", env=env, cwd=tmp_path)
    assert result.rc == 0 and result.stdout.startswith("tick at 2027-05-01T09:00:00+02:00"), result
    result = svar.run("deliver", "--now", "2027-05-01T09:00", env=env, cwd=tmp_path)
    assert result.rc == 1 and "SVAR_VAULT_KEY" in result.stderr, result


def test_tick_on_an_empty_database(svar, tmp_path):
    env = server_env(tmp_path / "svar.sqlite")
    result = svar.run("tick", "--now", "2027-05-01T09:00", env=env, cwd=tmp_path)
    assert result.rc == 0, result
    report = parse_tick(result.stdout)
    assert counts(report) == (0, 0, 0, 0) and report["nudges"] == 0, report
    assert report["at"] == "2027-05-01T09:00:00+02:00"


def test_nudge_when_no_evaluation_for_90_days(tickdb):
    start = dt.date(2025, 1, 6)
    [course] = tickdb.populate([[("start", start), ("evaluation", dt.date(2025, 2, 3))]])
    assert tickdb.tick("2025-05-03T12:00")["nudges"] == 0          # 89 days after the evaluation
    assert tickdb.tick("2025-05-04T12:00")["nudges"] == 1          # 90 days
    assert tickdb.tick("2025-05-04T12:00")["nudges"] == 0          # not twice
    rows = query(tickdb.db, "SELECT due_date FROM clinician_nudges WHERE course_id = ?", (course,))
    assert [r["due_date"] for r in rows] == ["2025-05-04"]


CLINIC_PROTOCOL = {
    "id": "clinic", "version": "1", "sendTime": "09:00",
    "milestones": [
        {"id": "checkIn", "label": {"nb": "Innsjekk", "nn": "Innsjekk", "en": "Check-in"},
         "triggers": ["clinicalDecision"], "occurs": "each", "instruments": ["eq5d-5l"],
         "opens": {"days": 0}, "closes": {"days": 7}, "reminders": [],
         "nudgeAfterDays": 30, "nudgeCountsFrom": ["start", "clinicalDecision"]},
        {"id": "evaluation", "triggers": ["evaluation"], "occurs": "each", "instruments": ["eq5d-5l"],
         "opens": {"days": 0}, "closes": {"days": 14}, "reminders": [],
         "nudgeAfterDays": 60, "nudgeCountsFrom": ["start", "evaluation"]},
    ],
}


def clinic_env(tickdb, tmp_path: Path) -> dict[str, str]:
    """The bundled instruments plus a second protocol file, chosen with SVAR_PROTOCOL."""
    import json
    import shutil
    folder = tmp_path / "instruments"
    shutil.copytree(Path(__file__).resolve().parent.parent / "instruments", folder)
    (folder / "protocols" / "clinic.json").write_text(json.dumps(CLINIC_PROTOCOL))
    return {**tickdb.env, "SVAR_INSTRUMENTS_DIR": str(folder), "SVAR_PROTOCOL": "clinic"}


def open_nudges(db: Path, course: str) -> list[tuple[str, str]]:
    rows = query(db, "SELECT milestone, due_date FROM clinician_nudges WHERE course_id = ? AND resolved_at IS NULL "
                     "ORDER BY due_date", (course,))
    return [(r["milestone"], r["due_date"]) for r in rows]


def test_nudges_follow_the_protocol_file_each_milestone_with_its_own_count(tickdb, tmp_path):
    """A second protocol with two nudging milestones: each raises its own nudge after its own days, counted from
    the events the file names (a clinical decision restarts the check-in count, which the bundled protocol
    would ignore), and the two never collide."""
    tickdb.env = clinic_env(tickdb, tmp_path)
    [course] = tickdb.populate([[("start", dt.date(2025, 1, 6))]])
    assert tickdb.tick("2025-02-04T12:00")["nudges"] == 0          # 29 days
    assert tickdb.tick("2025-02-05T12:00")["nudges"] == 1          # 30 days: check-in
    assert tickdb.tick("2025-03-07T12:00")["nudges"] == 1          # 60 days: evaluation
    assert open_nudges(tickdb.db, course) == [("checkIn", "2025-02-05"), ("evaluation", "2025-03-07")]
    with running_server(tickdb.svar_bin, tickdb.cwd, tickdb.env) as srv:
        srv.event(course, "clinicalDecision", "2025-03-10")
    assert open_nudges(tickdb.db, course) == [("evaluation", "2025-03-07")], "the decision resolves only the check-in"
    assert tickdb.tick("2025-04-08T12:00")["nudges"] == 0          # 29 days after the decision
    assert tickdb.tick("2025-04-09T12:00")["nudges"] == 1          # 30 days: check-in again
    assert open_nudges(tickdb.db, course) == [("evaluation", "2025-03-07"), ("checkIn", "2025-04-09")]


def test_a_new_nudge_rule_counts_from_the_course_history(tickdb, tmp_path):
    """Courses recorded under the bundled protocol, then ticked under one with a new nudging milestone: its counts
    are built from the events already recorded, so the nudge comes on time, not 30 days after the switch."""
    [course] = tickdb.populate([[("start", dt.date(2025, 1, 6)), ("clinicalDecision", dt.date(2025, 1, 20))]])
    tickdb.env = clinic_env(tickdb, tmp_path)
    assert tickdb.tick("2025-02-18T12:00")["nudges"] == 0          # 29 days after the decision
    assert tickdb.tick("2025-02-19T12:00")["nudges"] == 1
    assert open_nudges(tickdb.db, course) == [("checkIn", "2025-02-19")]


def test_two_ticks_at_the_same_instant_do_each_thing_once(tickdb):
    """Two `svar tick --now T` started together on one database: the work is split or serialised, never doubled —
    the totals are those of one pass, and each invitation has exactly one queued message."""
    import subprocess
    from conftest import clean_env
    start = dt.date(2025, 9, 1)
    courses = tickdb.populate([[("start", start)] for _ in range(40)])
    procs = [subprocess.Popen([tickdb.svar_bin, "tick", "--now", "2025-09-01T09:00"], env=clean_env(tickdb.env), cwd=tickdb.cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    reports = [parse_tick(out) for out, _ in outputs]
    assert sum(r["invited"] for r in reports) == len(courses), reports
    rows = query(tickdb.db, "SELECT invitation_id, COUNT(*) AS n FROM outbox WHERE kind = 'invitation' GROUP BY invitation_id")
    assert len(rows) == len(courses) and all(r["n"] == 1 for r in rows), [dict(r) for r in rows]
    states = {tickdb.invitation(c, "baseline")["state"] for c in courses}
    assert states == {"invited"}, states

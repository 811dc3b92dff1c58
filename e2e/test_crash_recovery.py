"""Crash recovery of the scheduler: `svar tick` killed with SIGKILL at random moments loses and doubles nothing.

Contract (README, "Pathways and scheduling"): each scheduler step works in bounded batches, one transaction per
batch, and writes the history row and the outbox item in the same transaction, "so a crash or a second pass at
the same instant never loses or doubles an invitation".

Method: a population of patients and courses is made through the API (start dates over the last ~400 days,
evaluations, ends and break-offs, a few reservations, so that every milestone exists); the server is stopped and
the database copied to a control copy. For ~25 instants spanning the next ~2 years, the control copy gets one
`svar tick --now T` each; the test copy gets `svar tick --now T` killed with SIGKILL after a random delay (seeded),
re-run (and possibly killed again) until one run at that instant finishes. After every instant both databases
(read with python's sqlite3, read-only, while no svar process runs) must hold the same invitations, history,
reminders, outbox and nudges, and the invariants below must hold in both.

In a debug build start-up takes most of a short pass, so kills timed only from the start rarely land inside the
pass. Most kills are therefore timed from the moment the process first touches the database's WAL file (watched
with stat only), many of them between two commits seen on the control copy's pass at the same instant. The test
prints how many kills landed while svar ran, after it had committed something, and how often the re-run still
found work (a pass cut in the middle), and fails if there were too few to prove anything.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from conftest import (OSLO, clean_env, oslo_today, parse_tick, query, running_server, server_env, synthetic_numbers)

SEED = 20261122
PATIENTS = 150
MAX_KILL_DELAY = 0.4           # seconds after the start; see the printed statistics for how many kills landed
MAX_ATTEMPTS = 25              # per instant, the last one is never killed
PENDING = ("scheduled", "invited", "reminded", "opened", "unreachable")
D = dt.timedelta


# ---------------------------------------------------------------------------------------------------------------
# the population
# ---------------------------------------------------------------------------------------------------------------
def course_plan(rng: random.Random, latest: dt.date) -> list[tuple[str, dt.date]]:
    """Pathway events for one course, all on or before `latest`, valid by the pathway rules."""
    start = latest - D(days=rng.randint(0, 400))
    events = [("start", start)]
    last = start

    def later(max_days: int) -> dt.date:
        return min(latest, last + D(days=rng.randint(0, max_days)))

    if rng.random() < 0.3:
        last = later(20)
        events.append(("firstAttendance", last))
    kind = rng.random()
    evaluations = 0 if kind < 0.2 else rng.randint(0, 3)
    for _ in range(evaluations):
        date = min(latest, last + D(days=rng.randint(1, 120)))
        if any(t == "evaluation" and d == date for t, d in events):
            continue
        events.append(("evaluation", date))
        last = date
    if kind >= 0.45:
        events.append(("end" if kind < 0.9 else "breakOff", later(150)))
    return events


def populate(srv, rng: random.Random) -> dict:
    units = ["6001", "6002", "6003"]
    for resh in units:
        srv.create_unit(resh, f"Crash unit {resh}")
    latest = oslo_today() - D(days=1)
    numbers = synthetic_numbers(PATIENTS, dt.date(1950, 3, 9))
    reserved = 0
    for i, number in enumerate(numbers):
        patient = srv.enrol(number, language=rng.choice(["nb", "nn", "en"]))
        for _ in range(1 if rng.random() < 0.9 else 2):
            course = srv.start_course(patient, rng.choice(units), rng.choice(["D01", "D11", "D12"]))
            for type_, date in course_plan(rng, latest):
                srv.event(course, type_, date)
        if rng.random() < 0.05:
            assert srv.post(f"/api/v1/patients/{patient}/reservation").status == 201
            reserved += 1
    return {"reserved": reserved}


def instants(rng: random.Random, first: dt.date) -> list[str]:
    """25 Oslo wall-clock instants from `first` over ~2 years: dense in the first weeks (windows open now), about
    monthly through the first year (the one-year follow-ups of the courses ended in the last ~400 days), then
    sparse; about half at 09:00 exactly (when windows open and reminders fall due), the rest at random times."""
    steps = [0, 1, 2, 3, 4, 5, 7, 9, 12, 14] + [rng.randint(25, 35) for _ in range(11)] + [rng.randint(80, 100) for _ in range(4)]
    out, day = [], first
    for step in steps:
        day += D(days=step)
        if rng.random() < 0.5:
            out.append(f"{day}T09:00")
        else:
            out.append(f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
    return out


def kill_plan(rng: random.Random, control: TickRun, attempt: int) -> tuple[str, float]:
    """When to SIGKILL, given the uninterrupted pass at the same instant on the control copy, whose WAL was seen to
    change when svar opened the database (created, header, start-up write), at every commit, and at the close:
    - the first attempt at an instant, and a third of the later ones: between two consecutive changes after the
      start-up writes, aiming at a pass that has committed some of its batches but not all;
    - a third: 0-400 ms after the start (often still in start-up: loading and checking the instruments and the
      protocol takes most of a short pass in a debug build);
    - a third: after the first touch of the database, by up to the rest of the control pass."""
    touch = control.changes[0] if control.changes else 0.0
    r = 0.0 if attempt == 0 else rng.random()
    if r < 1 / 3 and len(control.changes) >= 5:
        i = rng.randrange(2, len(control.changes) - 2)
        return "write", rng.uniform(control.changes[i], control.changes[i + 1]) - touch
    if r < 2 / 3 or not control.changes:
        return "spawn", rng.uniform(0, MAX_KILL_DELAY)
    return "write", rng.uniform(0, control.elapsed - touch)


def epoch_of(now: str) -> int:
    return int(dt.datetime.fromisoformat(now).replace(tzinfo=OSLO).timestamp())


# ---------------------------------------------------------------------------------------------------------------
# reading a database
# ---------------------------------------------------------------------------------------------------------------
def snapshot(db: Path) -> dict:
    """Everything a scheduler pass may change, in comparable form (random row ids left out)."""
    return {
        "invitations": sorted(tuple(r) for r in query(db, """
            SELECT id, course_id, milestone, trigger_event_id, state, reminders_sent, cancel_reason, updated_at
            FROM invitations""")),
        "history": Counter(tuple(r) for r in query(db, """
            SELECT invitation_id, from_state, to_state, at, cause, actor FROM invitation_history""")),
        "reminders": sorted(tuple(r) for r in query(db, "SELECT invitation_id, seq, due_at, state FROM reminders")),
        "outbox": sorted(tuple(r) for r in query(db, """
            SELECT idempotency_key, kind, patient_id, invitation_id, payload, state, next_attempt_at, created_at
            FROM outbox""")),
        "nudges": sorted(tuple(r) for r in query(db, "SELECT course_id, due_date, created_at, resolved_at FROM clinician_nudges")),
    }


def progress(db: Path) -> tuple[int, ...]:
    """A cheap fingerprint that changes whenever a pass commits anything."""
    return tuple(query(db, """SELECT (SELECT COUNT(*) FROM invitation_history), (SELECT COUNT(*) FROM outbox),
                                     (SELECT COUNT(*) FROM clinician_nudges),
                                     (SELECT COUNT(*) FROM reminders WHERE state != 'pending')""")[0])


def check_invariants(db: Path, now_epoch: int, label: str, complete: bool = True) -> None:
    """The invariants that hold after any pass, finished or killed; `complete`: also those of a finished pass."""
    inv_rows = query(db, "SELECT id, state, reminders_sent, closes_at FROM invitations")
    invitations = {r["id"]: r for r in inv_rows}
    history: dict[str, list] = {}
    for r in query(db, "SELECT invitation_id, from_state, to_state, at FROM invitation_history ORDER BY id"):
        history.setdefault(r["invitation_id"], []).append(r)

    # every invitation's history is an unbroken chain ending in its state, with at most one 'invited'
    for iid, inv in invitations.items():
        rows = history.get(iid, [])
        assert rows and rows[0]["from_state"] is None and rows[0]["to_state"] == "scheduled", (label, iid, rows)
        for a, b in zip(rows, rows[1:]):
            assert b["from_state"] == a["to_state"], (label, iid, [tuple(r) for r in rows])
        assert rows[-1]["to_state"] == inv["state"], (label, iid, inv["state"], [tuple(r) for r in rows])
        invited = sum(1 for r in rows if r["to_state"] == "invited")
        assert invited <= 1, (label, iid, [tuple(r) for r in rows])
        reminded = sum(1 for r in rows if r["to_state"] == "reminded")
        assert reminded == inv["reminders_sent"], (label, iid, inv["reminders_sent"], [tuple(r) for r in rows])
    assert set(history) <= set(invitations), (label, "history rows of unknown invitations")

    # the outbox: exactly one row per (invitation, kind, reminder number)
    outbox = query(db, "SELECT idempotency_key, kind, invitation_id, payload FROM outbox")
    keys = [r["idempotency_key"] for r in outbox]
    assert len(keys) == len(set(keys)), (label, [k for k, n in Counter(keys).items() if n > 1])
    per_item = Counter((r["invitation_id"], r["kind"], r["payload"]) for r in outbox)
    assert all(n == 1 for n in per_item.values()), (label, [k for k, n in per_item.items() if n > 1])
    for r in outbox:
        if r["kind"] == "invitation":
            assert r["idempotency_key"] == f"invitation:{r['invitation_id']}", (label, tuple(r))
        else:
            assert r["kind"] == "reminder" and r["idempotency_key"].startswith(f"reminder:{r['invitation_id']}:"), \
                (label, tuple(r))
    invited_invitations = {iid for iid, rows in history.items() if any(r["to_state"] == "invited" for r in rows)}
    outbox_invitations = [r["invitation_id"] for r in outbox if r["kind"] == "invitation"]
    assert len(outbox_invitations) == len(invited_invitations), (label, len(outbox_invitations), len(invited_invitations))
    assert set(outbox_invitations) == invited_invitations, label
    reminded_rows = sum(1 for rows in history.values() for r in rows if r["to_state"] == "reminded")
    reminder_items = sum(1 for r in outbox if r["kind"] == "reminder")
    sent_reminders = query(db, "SELECT COUNT(*) FROM reminders WHERE state = 'sent'")[0][0]
    assert reminder_items == reminded_rows == sent_reminders, (label, reminder_items, reminded_rows, sent_reminders)

    # nothing happened after `now`; after a finished pass, no invitation whose window has closed is still pending
    future = query(db, "SELECT COUNT(*) FROM invitation_history WHERE at > ?", (now_epoch,))[0][0]
    assert future == 0, (label, f"{future} history rows after {now_epoch}")
    if not complete:
        return
    still_open = [iid for iid, inv in invitations.items() if inv["closes_at"] <= now_epoch and inv["state"] in PENDING]
    assert not still_open, (label, f"{len(still_open)} invitations pending after their window closed", still_open[:5])


# ---------------------------------------------------------------------------------------------------------------
def wal_state(db: Path):
    """(size, mtime) of the database's write-ahead log, or None: only stat, never opened."""
    try:
        st = (db.parent / (db.name + "-wal")).stat()
        return st.st_size, st.st_mtime_ns
    except FileNotFoundError:
        return None


@dataclass
class TickRun:
    killed: bool
    elapsed: float
    changes: list[float]     # seconds after the start at which the WAL file was seen created or changed
    stdout: str


def run_tick(svar_bin: str, cwd: Path, env: dict, db: Path, now: str, kill: tuple[str, float] | None) -> TickRun:
    """One `svar tick --now now`, watching (stat only) the database's WAL file while it runs.

    kill=None lets it finish; ("spawn", d) sends SIGKILL d seconds after the start if it is still running;
    ("write", d) sends it d seconds after the process first touches the WAL, if it is still running."""
    last = wal_state(db)
    started = time.monotonic()
    proc = subprocess.Popen([svar_bin, "tick", "--now", now], cwd=cwd, env=clean_env(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mode, delay = kill or ("watch", 0.0)
    changes: list[float] = []
    deadline = started + delay if mode == "spawn" else None
    while proc.poll() is None and time.monotonic() - started < 60:
        t = time.monotonic()
        state = wal_state(db)
        if state != last:
            last = state
            changes.append(t - started)
            if mode == "write" and deadline is None:
                deadline = t + delay
        if deadline is not None and t >= deadline:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.0005)
    out, err = proc.communicate(timeout=120)
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, f"svar tick --now {now} exited with {proc.returncode}:\n{out}\n{err}"
    return TickRun(killed, time.monotonic() - started, changes, out)


def test_sigkilled_ticks_lose_and_double_nothing(svar_bin, tmp_path, capsys):
    rng = random.Random(SEED)
    test_dir, control_dir = tmp_path / "test", tmp_path / "control"
    test_dir.mkdir()
    control_dir.mkdir()
    test_db, control_db = test_dir / "svar.sqlite", control_dir / "svar.sqlite"
    env = server_env(test_db)
    control_env = {**env, "SVAR_DATABASE_URL": f"sqlite:{control_db}"}

    with running_server(svar_bin, test_dir, env) as srv:
        population = populate(srv, rng)
    for suffix in ("", "-wal", "-shm"):
        if (test_dir / f"svar.sqlite{suffix}").exists():
            shutil.copy2(test_dir / f"svar.sqlite{suffix}", control_dir / f"svar.sqlite{suffix}")

    milestones = Counter(r[0] for r in query(test_db, "SELECT milestone FROM invitations"))
    assert set(milestones) == {"baseline", "evaluation", "end", "followUp1y"}, milestones
    assert population["reserved"] >= 1 and query(test_db, "SELECT COUNT(*) FROM invitations WHERE state = 'cancelled'")[0][0] > 0
    assert snapshot(test_db) == snapshot(control_db)

    stats = Counter()
    totals = Counter()
    durations = []
    # From tomorrow: the population wrote its history at the wall clock, and no pass may run before it.
    for now in instants(rng, oslo_today() + D(days=1)):
        # the control copy: one uninterrupted pass
        control = run_tick(svar_bin, control_dir, control_env, control_db, now, None)
        assert not control.killed
        durations.append(control.elapsed)
        report = parse_tick(control.stdout)
        for key in ("invited", "reminded", "expired", "cancelled", "nudges"):
            totals[key] += report[key]

        # the test copy: killed at random until one pass at this instant finishes
        committed_then_killed = False
        for attempt in range(MAX_ATTEMPTS):
            plan = None if attempt == MAX_ATTEMPTS - 1 else kill_plan(rng, control, attempt)
            before = progress(test_db)
            run = run_tick(svar_bin, test_dir, env, test_db, now, plan)
            if not run.killed:
                final = parse_tick(run.stdout)
                # a kill after a commit, and the finishing pass still found work: the pass was cut in the middle
                if committed_then_killed and any(final[k] for k in ("invited", "reminded", "expired", "cancelled", "nudges")):
                    stats["cut_mid_pass"] += 1
                break
            stats["killed"] += 1
            stats[f"killed_{plan[0]}"] += 1
            if progress(test_db) != before:
                stats["killed_after_commit"] += 1
                committed_then_killed = True
            check_invariants(test_db, epoch_of(now), f"{now} after kill {attempt + 1}", complete=False)
        stats["instants"] += 1

        check_invariants(control_db, epoch_of(now), f"control at {now}")
        check_invariants(test_db, epoch_of(now), f"test at {now}")
        a, b = snapshot(test_db), snapshot(control_db)
        for part in a:
            assert a[part] == b[part], f"{part} differ after --now {now} (test copy vs control copy)"

    with capsys.disabled():
        print(f"\n[crash-recovery] {stats['instants']} instants; {stats['killed']} ticks SIGKILLed while running "
              f"({stats['killed_spawn']} timed from the start, {stats['killed_write']} from the first database write); "
              f"{stats['killed_after_commit']} of them after the pass had committed something, and at "
              f"{stats['cut_mid_pass']} instants the re-run still found work (a pass cut in the middle); "
              f"control passes took {min(durations) * 1000:.0f}-{max(durations) * 1000:.0f} ms; "
              f"control totals: {dict(totals)}")

    # the run proves something only if the passes did real work and kills landed while svar was running
    assert totals["invited"] >= 20 and totals["reminded"] >= 10 and totals["expired"] >= 50, totals
    invited_milestones = {r[0] for r in query(control_db, """
        SELECT DISTINCT i.milestone FROM invitations i JOIN invitation_history h ON h.invitation_id = i.id
        WHERE h.to_state = 'invited'""")}
    assert invited_milestones == {"baseline", "evaluation", "end", "followUp1y"}, invited_milestones
    assert stats["killed"] >= 15, stats
    assert stats["killed_after_commit"] >= 5 and stats["cut_mid_pass"] >= 2, stats

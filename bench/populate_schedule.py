"""Fills an (already migrated) Svar SQLite database with N active courses, each with a start event and a
baseline invitation, spread over the past year, for bench/scheduler. Writes straight into the schema so
that a million courses take seconds, not an hour of API calls. Identity data are random bytes: this
database is for timing only.
"""
import random
import sqlite3
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

n, path, today_text = int(sys.argv[1]), sys.argv[2], sys.argv[3]
today = date.fromisoformat(today_text)
rng = random.Random(1)
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
db.execute("INSERT OR IGNORE INTO units (resh, name, created_at) VALUES ('4208', 'Bench unit', 0)")
now = int(datetime.now(timezone.utc).timestamp())
batch = 20_000
for offset in range(0, n, batch):
    patients, vault, courses, events, invitations, reminders, history, counts = [], [], [], [], [], [], [], []
    for _ in range(min(batch, n - offset)):
        pid, cid, eid, iid = (str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(4))
        start = today - timedelta(days=rng.randint(0, 365))
        patients.append((pid, "nb", now))
        vault.append((pid, rng.randbytes(32), "v1", rng.randbytes(80)))
        courses.append((cid, pid, "4208", "D01", "active", now))
        counts.append((cid, "evaluation", start.isoformat()))
        events.append((eid, cid, "start", start.isoformat(), "4208", "bench", now, 1))
        opens = int(datetime(start.year, start.month, start.day, 8, tzinfo=timezone.utc).timestamp())
        closes = opens + 22 * 86400
        state = "scheduled" if start >= today - timedelta(days=1) else "expired"
        invitations.append((iid, cid, pid, "baseline", "rand36,eq5d-5l", eid, start.isoformat(), state, opens, closes, now, now))
        history.append((iid, now, None, "scheduled", "bench", "bench"))
        reminders.append((iid, 1, opens + 7 * 86400, "pending" if state == "scheduled" else "cancelled"))
    db.executemany("INSERT INTO patients (id, language, created_at) VALUES (?, ?, ?)", patients)
    db.executemany("INSERT INTO identity_vault (patient_id, lookup_hash, key_id, sealed) VALUES (?, ?, ?, ?)", vault)
    db.executemany("INSERT INTO courses (id, patient_id, unit, type, status, created_at) VALUES (?, ?, ?, ?, ?, ?)", courses)
    # The kvarus protocol's evaluation nudge counts from the start, as `svar` would have recorded it.
    db.executemany("INSERT INTO nudge_counts (course_id, milestone, since) VALUES (?, ?, ?)", counts)
    db.executemany("INSERT INTO pathway_events (id, course_id, type, date, unit, recorded_by, recorded_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", events)
    db.executemany("INSERT INTO invitations (id, course_id, patient_id, milestone, instruments, trigger_event_id, due_date, state, opens_at, closes_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", invitations)
    db.executemany("INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor) VALUES (?, ?, ?, ?, ?, ?)", history)
    db.executemany("INSERT INTO reminders (invitation_id, seq, due_at, state) VALUES (?, ?, ?, ?)", reminders)
    db.commit()
db.execute("INSERT OR REPLACE INTO nudge_rules (milestone, counts_from) VALUES ('evaluation', 'evaluation,start')")
# The start events are back-dated up to a year: recording them would have moved the nudge watermark back
# behind the oldest, so the first pass looks at every count, as it would after `svar` recorded them.
db.execute("DELETE FROM nudge_watermarks")
db.execute("ANALYZE")
db.commit()
db.close()

"""`svar migrate`: named, append-only migrations applied by whichever command opens a database first, one
process at a time; `--status` lists them without changing anything."""
from __future__ import annotations

import subprocess

from conftest import clean_env, server_env


def status_lines(result) -> dict[str, str]:
    """migration name -> applied/pending, from `svar migrate --status`."""
    lines = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("applied", "pending"):
            lines[parts[1]] = parts[0]
    return lines


def test_status_changes_nothing_and_migrate_applies_everything(svar, tmp_path):
    env = server_env(tmp_path / "svar.sqlite")
    before = svar.run("migrate", "--status", env=env, cwd=tmp_path)
    assert before.rc == 0, before
    assert not (tmp_path / "svar.sqlite").exists(), "--status must not create the database"
    pending = status_lines(before)
    assert pending and set(pending.values()) == {"pending"}, before.stdout
    assert "2026-11-22-01-core" in pending and "2026-12-01-01-registry" in pending, before.stdout

    applied = svar.run("migrate", env=env, cwd=tmp_path)
    assert applied.rc == 0, applied
    after = status_lines(applied)
    assert after.keys() == pending.keys() and set(after.values()) == {"applied"}, applied.stdout
    assert f"database sqlite:{tmp_path / 'svar.sqlite'}: {len(after) - 1} applied, 0 pending" in applied.stdout


def test_processes_starting_together_on_a_new_file_all_come_up(svar_bin, tmp_path):
    """Six commands opening one new database at the same moment: one migrates, the others wait, none fails."""
    env = clean_env(server_env(tmp_path / "svar.sqlite"))
    for round_ in range(3):
        for name in ("svar.sqlite", "svar.sqlite-wal", "svar.sqlite-shm", "registry.sqlite", "registry.sqlite-wal",
                     "registry.sqlite-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        procs = [subprocess.Popen([svar_bin, "migrate"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        assert all(rc == 0 for rc, _ in results), f"round {round_}: {results}"

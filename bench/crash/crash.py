"""Crash under load, driven by bench/crash/run: patients submit at full speed while `svar serve` is killed.

A release `svar serve` gets fully drafted invitations (prepared through the JSON API and the patient pages, as
bench/http does). Then, for --seconds (default 60), --clients threads each POST /a/TOKEN/submit for one fresh
invitation after another, while the server is killed with SIGKILL --kills times (default 5), evenly spread,
and started again at once on the same database. Every request ends in one of three ways:
  - acknowledged: HTTP 303 to /a/TOKEN/done (the patient was told the answers are in);
  - refused: any other HTTP answer (counted; none is expected);
  - in doubt: the connection failed (refused while the server was down, or cut by the kill).
After the run the server is stopped, and the database must hold, for every acknowledged invitation, exactly one
response per instrument and one queued forward per response, and for no invitation a second response for the
same instrument. In-doubt invitations are allowed either outcome but never a partial one (some instruments
stored, others not). Each in-doubt invitation is then submitted once more on a running server: it must answer 303
whether or not the first attempt was stored, and nothing is stored twice. The counts are printed; any breach
exits non-zero.

Standard library only; reuses bench/http/bench.py for servers and preparation.
"""
from __future__ import annotations

import argparse
import base64
import collections
import http.client
import os
import queue
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "http"))
import bench as hb  # noqa: E402  (bench/http/bench.py)

HOST = hb.HOST


def prepare(port: int, api_token: str, numbers, count: int, env: dict, args, seed0: int) -> list[tuple[str, str, str]]:
    """`count` fully drafted invitations: (invitation id, token, csrf)."""
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        invitations = list(pool.map(lambda n: hb.enrol(port, api_token, "7001", n), [next(numbers) for _ in range(count)]))
    hb.tick_and_deliver(args, env, count)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        drafted = pool.map(lambda item: hb.draft(port, api_token, item[1], seed0 + item[0]), enumerate(invitations))
        return [(invitation, token, csrf) for invitation, (token, csrf) in zip(invitations, drafted)]


def submit_once(port: int, token: str, csrf: str) -> str:
    """'ack', 'refused:<status>', 'down' (no connection: nothing was sent) or 'doubt' (sent, no answer) for one
    POST /a/TOKEN/submit on a new connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.connect()
    except OSError:  # refused, or reset during the handshake by a kill: the request was never sent
        conn.close()
        return "down"
    try:
        conn.request("POST", f"/a/{token}/submit", body=urllib.parse.urlencode({"csrf": csrf}).encode(), headers={
            "Cookie": f"svar_csrf={csrf}", "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        if resp.status == 303 and resp.headers.get("Location", "").split("?", 1)[0].endswith(f"/a/{token}/done"):
            return "ack"
        return f"refused:{resp.status}"
    except (OSError, http.client.HTTPException):
        return "doubt"
    finally:
        conn.close()


class Submitters:
    """--clients threads taking fresh invitations from one queue until told to stop."""

    def __init__(self, port: int, pool: list[tuple[str, str, str]], clients: int) -> None:
        self.port, self.work = port, queue.SimpleQueue()
        for item in pool:
            self.work.put(item)
        self.outcomes: dict[str, str] = {}
        self.lock, self.stop, self.exhausted = threading.Lock(), threading.Event(), threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                invitation, token, csrf = self.work.get_nowait()
            except queue.Empty:
                self.exhausted.set()
                return
            outcome = submit_once(self.port, token, csrf)
            if outcome == "down":  # the server is restarting: this invitation was never sent, so it goes back
                self.work.put((invitation, token, csrf))
                time.sleep(0.02)
                continue
            with self.lock:
                self.outcomes[invitation] = outcome

    def run(self, seconds: float, during=None) -> None:
        for t in self.threads:
            t.start()
        if during:
            during()
        else:
            time.sleep(seconds)
        self.stop.set()
        for t in self.threads:
            t.join()


def stored_responses(database_url: str) -> tuple[dict, dict]:
    """(invitation -> {instrument: responses}, invitation -> queued forwards) from either engine."""
    responses_sql = "SELECT invitation_id, instrument, count(*) FROM responses GROUP BY invitation_id, instrument"
    forwards_sql = "SELECT invitation_id, count(*) FROM outbox WHERE kind = 'forward' GROUP BY invitation_id"
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(f"file:{database_url[len('sqlite:'):]}?mode=ro", uri=True) as db:
            rows, forwards = db.execute(responses_sql).fetchall(), db.execute(forwards_sql).fetchall()
    else:
        def query(sql):
            out = subprocess.run([hb.psql(), "-X", "-At", "-F", "\t", database_url, "-c", sql],
                                 capture_output=True, text=True, check=True).stdout
            return [line.split("\t") for line in out.splitlines() if line]
        rows, forwards = query(responses_sql), query(forwards_sql)
    by_invitation: dict = collections.defaultdict(dict)
    for invitation, instrument, n in rows:
        by_invitation[invitation][instrument] = int(n)
    return by_invitation, {invitation: int(n) for invitation, n in forwards}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--prep-threads", type=int, default=8)
    p.add_argument("--calibration", type=int, default=600)
    p.add_argument("--max-invitations", type=int, default=140000)
    p.add_argument("--database-url", help="default: an SQLite file in --work")
    args = p.parse_args()
    args.bin = str(Path(args.bin).resolve())
    url = args.database_url or f"sqlite:{args.work / 'svar.sqlite'}"
    port = hb.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVAR_")}
    env.update({
        "SVAR_VAULT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(), "SVAR_DATABASE_URL": url,
        "SVAR_API_TOKEN": "crash-" + secrets.token_hex(16), "SVAR_MODE": "test", "SVAR_WORKERS": "none",
        "SVAR_PUBLIC_URL": f"http://{HOST}:{port}", "SVAR_PORT": str(port), "SVAR_HOST": HOST,
    })
    numbers = iter(hb.synthetic_numbers(args.calibration + args.max_invitations + 10))
    print(f"machine: {os.cpu_count()} cores; svar {subprocess.run([args.bin, '--version'], capture_output=True, text=True).stdout.strip()}; "
          f"{url.split(':', 1)[0]}; {args.clients} client threads; {args.seconds:g} s; {args.kills} SIGKILLs", flush=True)

    server = hb.Server(args.bin, args.work, env, "serve-prepare")
    try:
        hb.client(port, env["SVAR_API_TOKEN"]).api("POST", "/api/v1/units", {"resh": "7001", "name": "Crash unit"})
        calibration = prepare(port, env["SVAR_API_TOKEN"], numbers, args.calibration, env, args, 0)
        probe = Submitters(port, calibration, args.clients)
        started = time.monotonic()
        probe.run(0, during=lambda: probe.exhausted.wait(30))
        rate = sum(o == "ack" for o in probe.outcomes.values()) / (time.monotonic() - started)
        count = min(args.max_invitations, int(rate * args.seconds * 1.2) + 500)  # kills and restarts slow the run
        print(f"calibration: {rate:.0f} acknowledged submits/s; preparing {count} fully drafted invitations ...", flush=True)
        started = time.monotonic()
        pool = prepare(port, env["SVAR_API_TOKEN"], numbers, count, env, args, 1_000_000)
        print(f"prepared {len(pool)} in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        if server.stop() != 0:
            raise RuntimeError("svar serve (preparation) did not stop cleanly")

    state = {"server": hb.Server(args.bin, args.work, env, "serve-crash-0")}
    downtimes: list[float] = []

    def kill_and_restart() -> None:
        started = time.monotonic()
        for k in range(args.kills):
            time.sleep(max(0.0, started + args.seconds * (k + 0.5) / args.kills - time.monotonic()))
            victim = state["server"]
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait()
            victim.log.close()
            down = time.monotonic()
            state["server"] = hb.Server(args.bin, args.work, env, f"serve-crash-{k + 1}")
            downtimes.append(time.monotonic() - down)
        time.sleep(max(0.0, started + args.seconds - time.monotonic()))

    submitters = Submitters(port, pool, args.clients)
    submitters.run(args.seconds, during=kill_and_restart)
    if submitters.exhausted.is_set():
        raise RuntimeError("the run used up every prepared invitation before its time: raise --max-invitations")
    outcomes = dict(submitters.outcomes)
    if state["server"].stop() != 0:
        raise RuntimeError("svar serve did not stop cleanly after the run")
    before_retry, _ = stored_responses(url)
    doubt = [item for item in pool if outcomes.get(item[0]) == "doubt"]
    server = hb.Server(args.bin, args.work, env, "serve-retry")
    retried = {invitation: submit_once(port, token, csrf) for invitation, token, csrf in doubt}
    if server.stop() != 0:
        raise RuntimeError("svar serve did not stop cleanly after the retries")

    stored, forwards = stored_responses(url)
    expected = len(hb.INSTRUMENTS)
    acked = [i for i, o in outcomes.items() if o == "ack"]
    refused = collections.Counter(o for o in outcomes.values() if o.startswith("refused"))
    lost = [i for i in acked if sum(before_retry.get(i, {}).values()) != expected]
    twice = [i for i, by in stored.items() if any(n > 1 for n in by.values())]
    partial = [i for i, by in stored.items() if len(by) != expected]
    forward_mismatch = [i for i, by in stored.items() if forwards.get(i, 0) != sum(by.values())]
    doubt_stored = sum(1 for i, _, _ in doubt if i in before_retry)
    retry_not_ack = [i for i, o in retried.items() if o != "ack"]
    print(f"submissions: {len(outcomes):,} attempted in {args.seconds:g} s; {len(acked):,} acknowledged (303 -> /done); "
          f"{len(doubt):,} in doubt (connection lost to a kill); refused: {dict(refused) or 0}")
    print(f"kills: {len(downtimes)} SIGKILLs; restart to first /health answer: "
          f"{', '.join(f'{d:.2f}' for d in downtimes)} s")
    print(f"after the last restart: {len(acked):,} acknowledged, {len(acked) - len(lost):,} of them stored with "
          f"{expected} responses each; lost {len(lost)}; stored twice {len(twice)}; partial {len(partial)}; "
          f"forwards not one per response {len(forward_mismatch)}")
    print(f"in doubt: {doubt_stored} of {len(doubt)} had been stored before the kill; submitted again, "
          f"{len(doubt) - len(retry_not_ack)} answered 303 -> /done and none was stored twice")
    failures = [name for name, bad in [("lost", lost), ("stored twice", twice), ("partial", partial),
                                       ("forwards", forward_mismatch), ("retry not acknowledged", retry_not_ack),
                                       ("refused", list(refused))] if bad]
    if len(downtimes) != args.kills:
        failures.append("kills")
    if failures:
        print(f"FAILED: {', '.join(failures)}; server logs in {args.work}")
        return 1
    print("OK: every acknowledged submission is stored exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())

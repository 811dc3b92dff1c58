"""HTTP benchmark of a release `svar serve` with wrk (budget: docs/operations.md), driven by bench/http/run.

Measures, at 64 connections and 2 wrk threads on 127.0.0.1, each as a ratio to GET /health on the same server:
  - GET /health (the hello-world baseline);
  - a questionnaire page, GET /a/TOKEN/s/1 with the svar_csrf cookie, cycling over many open invitations;
  - the patient submit path, POST /a/TOKEN/submit with the form's csrf field and cookie, every request a
    different invitation whose every step was saved as a draft beforehand (verify link -> validate -> score ->
    one write transaction). Success is a 303 to /a/TOKEN/done.
and the server's peak resident memory while wrk runs (VmRSS polled every 20 ms; VmHWM at the end).

Preparation runs against one server (server A) through the JSON API and the patient pages, exactly as an EHR and
a patient would: unit, patients (with an e-mail address), courses, a `start` event dated yesterday, `svar tick` to
open the baseline invitation (RAND-36 + EQ-5D-5L, 10 steps), `svar deliver` to send its message into a file
mailbox, a link per invitation, the landing page (for the CSRF cookie) and a POST of every step. A short submit run on server A calibrates how many fresh invitations the measured submit run
needs (1.5x what it would use at the calibrated rate). Server A is then stopped and a fresh server B on the same
database serves the measured runs, so its memory figures are those of the benchmark alone.

Standard library only. Usage (see bench/http/run): python3 bench/http/bench.py --bin BIN --work DIR [options]
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import platform
import random
import secrets
import shlex
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent.parent
LUA = Path(__file__).resolve().parent / "svar.lua"
HOST = "127.0.0.1"
OSLO = ZoneInfo("Europe/Oslo")
INSTRUMENTS = ("rand36", "eq5d-5l")  # the default protocol's baseline (D01)


# --- synthetic identity numbers (copied from e2e/conftest.py: month + 80, valid mod-11 control digits) ---------
K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def control_digits(body):
    k1 = (11 - sum(d * w for d, w in zip(body, K1_WEIGHTS)) % 11) % 11
    if k1 == 10:
        return None
    k2 = (11 - sum(d * w for d, w in zip(body + [k1], K2_WEIGHTS)) % 11) % 11
    return None if k2 == 10 else (k1, k2)


def synthetic_numbers(count: int, seed_date: dt.date = dt.date(1950, 1, 1)) -> list[str]:
    out, birth, individual = [], seed_date, 100
    while len(out) < count:
        individual += 1
        if individual > 499:
            birth, individual = birth + dt.timedelta(days=37), 100
            continue
        yy, month = birth.year % 100, birth.month + 80
        body = [birth.day // 10, birth.day % 10, month // 10, month % 10, yy // 10, yy % 10,
                individual // 100 % 10, individual // 10 % 10, individual % 10]
        k = control_digits(body)
        if k:
            out.append("".join(map(str, body + list(k))))
    return out


# --- answers: every item of both instruments, from the bundled questionnaires ----------------------------------
def answer_items() -> list[tuple[str, list[int]]]:
    """(linkId, allowed values) for every question of the baseline instruments."""
    out = []

    def walk(items):
        for item in items:
            if item["type"] == "choice":
                out.append((item["linkId"], [int(o["valueCoding"]["code"]) for o in item["answerOption"]]))
            elif item["type"] == "integer":
                ext = {e["url"].rsplit("/", 1)[-1]: e.get("valueInteger") for e in item.get("extension", [])}
                out.append((item["linkId"], list(range(ext["minValue"], ext["maxValue"] + 1))))
            walk(item.get("item", []))
    for instrument in INSTRUMENTS:
        path = REPO / "Sources/SvarAssets/instruments" / instrument / "questionnaire.json"
        walk(json.loads(path.read_text("utf-8"))["item"])
    return out


ITEMS = answer_items()


def answers_for(seed: int) -> dict[str, str]:
    return {link: str(values[(j * 7 + seed * 3) % len(values)]) for j, (link, values) in enumerate(ITEMS)}


# --- one keep-alive HTTP connection per preparing thread ------------------------------------------------------
class Client:
    def __init__(self, port: int, api_token: str) -> None:
        self.port, self.api_token = port, api_token
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise

    def api(self, method: str, path: str, body: dict, expect: int = 201) -> dict:
        status, _, data = self.request(method, path, json.dumps(body).encode(), {
            "Authorization": f"Bearer {self.api_token}", "Content-Type": "application/json"})
        if status != expect:
            raise RuntimeError(f"{method} {path} -> HTTP {status}: {data[:300]!r}")
        return json.loads(data)


_local = threading.local()


def client(port: int, api_token: str) -> Client:
    if getattr(_local, "client", None) is None or _local.client.port != port:
        _local.client = Client(port, api_token)
    return _local.client


def enrol(port: int, api_token: str, unit: str, number: str) -> str:
    """Patient, course and a `start` event yesterday; returns the baseline invitation's id."""
    c = client(port, api_token)
    # An address, so the invitation can be sent (see tick_and_deliver); example.org is reserved for examples.
    patient = c.api("POST", "/api/v1/patients", {"identityNumber": number, "email": f"p{number}@example.org"})["id"]
    course = c.api("POST", f"/api/v1/patients/{patient}/courses", {"unit": unit, "type": "D01"})["id"]
    yesterday = dt.datetime.now(OSLO).date() - dt.timedelta(days=1)
    reply = c.api("POST", f"/api/v1/courses/{course}/events", {"type": "start", "date": str(yesterday)})
    baseline = [i for i in reply["invitations"] if i["milestone"] == "baseline"]
    if len(baseline) != 1 or baseline[0]["instruments"] != list(INSTRUMENTS):
        raise RuntimeError(f"unexpected invitations: {reply}")
    return baseline[0]["id"]


def draft(port: int, api_token: str, invitation: str, seed: int) -> tuple[str, str]:
    """A link for the invitation, its landing page (the CSRF cookie), every step POSTed. Returns (token, csrf)."""
    c = client(port, api_token)
    url = c.api("POST", f"/api/v1/invitations/{invitation}/link", {})["url"]
    path = "/a/" + url.split("/a/", 1)[1]
    token = path.split("/")[2]
    status, headers, _ = c.request("GET", path + "?lang=nb")
    csrf = ""
    for cookie in headers.get_all("Set-Cookie") or []:
        name, _, value = cookie.split(";", 1)[0].partition("=")
        if name.strip() == "svar_csrf":
            csrf = value.strip()
    if status != 200 or not csrf:
        raise RuntimeError(f"landing page {path}: HTTP {status}, no svar_csrf cookie")
    body = urllib.parse.urlencode({"csrf": csrf, **answers_for(seed)}).encode()
    form_headers = {"Cookie": f"svar_csrf={csrf}", "Content-Type": "application/x-www-form-urlencoded"}
    location, steps = f"{path}/s/1?lang=nb", 0
    while "/review" not in location:
        status, headers, data = c.request("POST", location, body, form_headers)
        if status != 303:
            raise RuntimeError(f"POST {location}: HTTP {status}: {data[:300]!r}")
        location, steps = headers["Location"], steps + 1
        if steps > 40:
            raise RuntimeError("the steps never reach the review page")
    return token, csrf


# --- servers ----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary: str, work: Path, env: dict, name: str) -> None:
        self.log = open(work / f"{name}.log", "w")
        self.proc = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"svar serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                c = http.client.HTTPConnection(HOST, int(env["SVAR_PORT"]), timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("svar serve did not answer /health within 30 s")
            time.sleep(0.1)

    def status(self, field: str) -> int:
        """A VmRSS/VmHWM line of /proc/PID/status, in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def written_bytes(self) -> int:
        """Bytes the server has sent towards the disk so far (write_bytes of /proc/PID/io: database and WAL
        pages, not sockets)."""
        with open(f"/proc/{self.proc.pid}/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("write_bytes:"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class RssPoller:
    """Highest VmRSS of the server while a run goes on (every 20 ms)."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.server.status("VmRSS"))
            except OSError:
                return
            self._stop.wait(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()


# --- wrk --------------------------------------------------------------------------------------------------------
def wrk(args, ports: list[int], seconds: float, mode: str, tokens: Path | None = None) -> tuple[dict, list[str]]:
    """wrk against each port at once (the connections split evenly), results combined."""
    threads = max(1, args.threads // len(ports))
    procs = []
    for index, port in enumerate(ports):
        if seconds != int(seconds):
            raise ValueError(f"wrk runs whole seconds, not {seconds}")
        command = ["wrk", f"-t{threads}", f"-c{args.connections // len(ports)}", f"-d{int(seconds)}s", "--latency", "--timeout",
                   "10s", "-s", str(LUA.relative_to(REPO)), f"http://{HOST}:{port}", "--", mode]
        if tokens is not None:
            # Each wrk takes its own share of the tokens (a token submits once).
            share = args.work / f"{tokens.stem}-{index}.txt"
            share.write_text("".join(line for n, line in enumerate(tokens.read_text().splitlines(keepends=True))
                                     if n % len(ports) == index))
            command += [str(share), str(threads)]
        procs.append((command, subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = []
    for command, proc in procs:
        out, err = proc.communicate()
        result = None
        for line in out.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
        if proc.returncode != 0 or result is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
        (args.work / f"wrk-{mode}-{command[-1] if tokens is None else len(results)}.out").write_text(out + err)
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        results.append(result)
    return (results[0] if len(results) == 1 else combined(results)), procs[0][0]


def prepare(port: int, api_token: str, unit: str, numbers: list[str], env: dict, args, seed0: int) -> list[tuple[str, str]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        invitations = list(pool.map(lambda n: enrol(port, api_token, unit, n), numbers))
    tick_and_deliver(args, env, len(numbers))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        return list(pool.map(lambda item: draft(port, api_token, item[1], seed0 + item[0]), enumerate(invitations)))


def tick_and_deliver(args, env: dict, count: int) -> None:
    """`svar tick` opens the `count` new baseline invitations and queues a message for each; `svar deliver` sends
    them (into a file mailbox), as the server's workers do before a patient can follow a link. Until 2026-12-07 the
    messages stayed queued, so every measured submission also cancelled its invitation's message: work no real
    submission does (about 1.8 of the 18.7 pages a submission wrote)."""
    tick = subprocess.run([args.bin, "tick"], cwd=args.work, env=env, capture_output=True, text=True, timeout=600)
    if tick.returncode != 0 or f"invited {count}," not in tick.stdout:
        raise RuntimeError(f"svar tick: exit {tick.returncode}\n{tick.stdout}\n{tick.stderr}")
    mail_env = dict(env, SVAR_MAILBOX_DIR=str(args.work / "mailbox"))
    mail_env.pop("SVAR_SMTP_URL", None)
    # About 110 messages/s into the file mailbox here: bench/crash's 100,913 took just over 900 s. Twice that, at least.
    deliver = subprocess.run([args.bin, "deliver"], cwd=args.work, env=mail_env, capture_output=True, text=True,
                             timeout=max(900, count // 50))
    if deliver.returncode != 0 or f"sent {count}," not in deliver.stdout:
        raise RuntimeError(f"svar deliver: exit {deliver.returncode}\n{deliver.stdout}\n{deliver.stderr}")


def write_tokens(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{t} {c}\n" for t, c in pairs))
    return path


def count_stored(database_url: str) -> int:
    """Invitations with a stored response, read from either engine."""
    sql = "SELECT count(DISTINCT invitation_id) FROM responses"
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(f"file:{database_url[len('sqlite:'):]}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchone()[0]
    out = subprocess.run([psql(), "-X", "-At", database_url, "-c", sql], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def psql() -> str:
    import glob
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)
    return found[0] if found else "psql"


def new_database(args, name: str) -> str:
    """A fresh database in the benchmark's PostgreSQL cluster (scripts/postgres-test-cluster createdb)."""
    out = subprocess.run([str(REPO / "scripts" / "postgres-test-cluster"), "createdb", args.postgres_url, name],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def combined(results: list[dict]) -> dict:
    """Two wrk runs at once (one per instance) as one: counts add up, the worse p50/p99 stands."""
    total = {key: sum(r[key] for r in results) for key in
             ("requests", "ok", "bad", "connect_errors", "read_errors", "write_errors", "timeouts", "exhausted")}
    total["duration_us"] = max(r["duration_us"] for r in results)
    total["p50_us"] = max(r["p50_us"] for r in results)
    total["p99_us"] = max(r["p99_us"] for r in results)
    total["statuses"] = {}
    for r in results:
        for code, n in r["statuses"].items():
            total["statuses"][code] = total["statuses"].get(code, 0) + n
    total["rps"] = sum(r["rps"] for r in results)
    return total


def measure(args, env: dict, label: str, database_url: str, instances: int, numbers) -> list[tuple]:
    """Prepares fully drafted invitations in `database_url` with one server, then measures /health, the page and
    the submit path against `instances` servers sharing that database (wrk split evenly between them)."""
    env = dict(env, SVAR_DATABASE_URL=database_url)
    port = int(env["SVAR_PORT"])
    api_token = env["SVAR_API_TOKEN"]
    server = Server(args.bin, args.work, env, f"serve-prepare-{label}")
    try:
        client(port, api_token).api("POST", "/api/v1/units", {"resh": "7001", "name": "Benchmark unit"})
        # Calibration: a 2 s submit run on a pool that it must not exhaust (a bigger pool until it does not).
        size, prepared, seconds_spent = args.calibration, 0, 0.0
        while True:
            started = time.monotonic()
            calibration = prepare(port, api_token, "7001", [next(numbers) for _ in range(size)], env, args, prepared)
            seconds_spent += time.monotonic() - started
            prepared += size
            result, _ = wrk(args, [port], 2, "submit", write_tokens(args.work / "calibration.txt", calibration))
            rate = result["ok"] / (result["duration_us"] / 1e6)
            if not result["exhausted"] or size * 4 > args.max_invitations:
                break
            size *= 4
        submit_seconds = args.submit_seconds
        needed = int(rate * submit_seconds * 1.5 * max(1, instances * 0.75)) + 200
        count = max(needed, args.page_tokens)
        if count > args.max_invitations:
            # Whole seconds: wrk reads "9.1s" as no duration at all and prints its usage.
            submit_seconds = max(2, int((args.max_invitations - 200) / (rate * 1.5 * instances)))
            count = args.max_invitations
            print(f"note: submit run shortened to {submit_seconds:g} s (--max-invitations {args.max_invitations})")
        print(f"[{label}] prepared {prepared} invitations at {prepared / seconds_spent:.0f}/s; calibration: {rate:.0f} "
              f"submits/s -> preparing {count} fully drafted invitations ...", flush=True)
        started = time.monotonic()
        pool = prepare(port, api_token, "7001", [next(numbers) for _ in range(count)], env, args, 10_000_000)
        print(f"[{label}] prepared {len(pool)} in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        rc = server.stop()
    if rc != 0:
        raise RuntimeError(f"svar serve (preparation) exited with {rc}")
    pages = write_tokens(args.work / "pages.txt", pool[:args.page_tokens])
    # Patients answer in their own order, not in the order they were enrolled: the submit run takes the invitations
    # shuffled, so that ids made in time order (RecordId) get no locality a real day would not have.
    submits = write_tokens(args.work / "submits.txt", random.Random(7).sample(pool, len(pool)))
    before = count_stored(database_url)

    ports = [port] + [free_port() for _ in range(instances - 1)]
    servers = [Server(args.bin, args.work, dict(env, SVAR_PORT=str(p), SVAR_PUBLIC_URL=f"http://{HOST}:{p}"),
                      f"serve-bench-{label}-{i}") for i, p in enumerate(ports)]
    rows = []
    try:
        wrk(args, ports, 2, "health")  # warm-up, not reported
        for route, seconds, mode, tokens in [("GET /health", args.seconds, "health", None),
                                             ("GET /a/TOKEN/s/1 (page)", args.seconds, "page", pages),
                                             ("POST /a/TOKEN/submit", submit_seconds, "submit", submits)]:
            cpu, written = sum(s.cpu_seconds() for s in servers), sum(s.written_bytes() for s in servers)
            with RssPoller(servers[0]) as rss:
                result, command = wrk(args, ports, seconds, mode, tokens)
            result["cpu_ms"] = (sum(s.cpu_seconds() for s in servers) - cpu) * 1000 / max(1, result["requests"])
            result["write_kib"] = (sum(s.written_bytes() for s in servers) - written) / 1024 / max(1, result["requests"])
            rows.append((label, route, result, rss.peak, command))
            time.sleep(1)  # let the requests in flight at the end finish before the next run
    finally:
        codes = [s.stop() for s in servers]
    if any(codes):
        raise RuntimeError(f"svar serve (benchmark) exited with {codes}")
    stored = count_stored(database_url) - before
    sub = rows[2][2]
    print(f"[{label}] submit: {sub['ok']:,} of {sub['requests']:,} answered 303 -> /done; {stored:,} invitations got stored "
          f"responses; statuses {sub['statuses']}", flush=True)
    if sub["exhausted"]:
        raise RuntimeError(f"[{label}] the submit run ran out of fresh invitations; the figure is not valid")
    # wrk counts the responses that arrived within the run; up to one request per connection was still in flight.
    if not sub["ok"] <= stored <= sub["ok"] + args.connections:
        raise RuntimeError(f"[{label}] {sub['ok']} successful submits but {stored} invitations with stored responses")
    return rows


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--seconds", type=float, default=15, help="duration of the /health and page runs")
    p.add_argument("--submit-seconds", type=float, default=10, help="duration of the submit run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--page-tokens", type=int, default=1000, help="invitations the page run cycles over")
    p.add_argument("--calibration", type=int, default=1000, help="invitations prepared for the calibration run")
    p.add_argument("--max-invitations", type=int, default=30000, help="cap on invitations for the submit run")
    p.add_argument("--prep-threads", type=int, default=8)
    p.add_argument("--postgres-url", help="a PostgreSQL cluster (postgres-test-cluster URL): also measure on PostgreSQL, "
                                          "with one and with two instances")
    args = p.parse_args()
    args.bin = str(Path(args.bin).resolve())

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVAR_")}
    env.update({
        "SVAR_VAULT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SVAR_API_TOKEN": "bench-" + secrets.token_hex(16), "SVAR_MODE": "test", "SVAR_WORKERS": "none",
        "SVAR_PUBLIC_URL": f"http://{HOST}:{port}", "SVAR_PORT": str(port), "SVAR_HOST": HOST,
    })
    # The throwaway secrets of this run, so a kept folder (BENCH_KEEP=1) can serve its database again.
    (args.work / "server.env").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items() if k.startswith("SVAR_")))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0].split(" [")[0]
    mem_total = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) // 1024
    print(f"machine: {os.cpu_count()} cores ({cpu}), {mem_total} MiB, {platform.system()} {platform.release()}; "
          f"svar {version}; {wrk_version}; {dt.date.today()}", flush=True)

    numbers = iter(synthetic_numbers(3 * (args.calibration + 3 * args.max_invitations)))
    configs = [("SQLite", f"sqlite:{args.work / 'svar.sqlite'}", 1)]
    if args.postgres_url:
        configs += [("PostgreSQL", new_database(args, "bench_one"), 1), ("PostgreSQL x2", new_database(args, "bench_two"), 2)]
    rows = []
    for label, url, instances in configs:
        rows += measure(args, env, label, url, instances, numbers)

    base = rows[0][2]["rps"]
    print(f"servers: svar serve (release), SVAR_WORKERS=none, {HOST}; wrk -t{args.threads} -c{args.connections} in all "
          f"(split evenly over the instances); ratios against GET /health on SQLite, one instance, in this run")
    print(f"{'engine':<14} {'route':<26} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'vs /health':>10} {'requests':>9} "
          f"{'errors':>6} {'peak RSS MiB':>12} {'server CPU ms/req':>17} {'server writes KiB/req':>21}")
    for label, route, r, peak, _ in rows:
        errors = r["bad"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
        print(f"{label:<14} {route:<26} {r['rps']:>10,.0f} {r['p50_us'] / 1000:>7.2f} {r['p99_us'] / 1000:>7.2f} "
              f"{r['rps'] / base:>9.0%} {r['requests']:>9,} {errors:>6} {peak / 1024:>12.1f} {r['cpu_ms']:>17.2f} {r['write_kib']:>21.1f}")
    seen = set()
    for _, route, _, _, command in rows:
        if route not in seen:
            seen.add(route)
            print(f"command ({route}): {shlex.join(command)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

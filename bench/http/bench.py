"""HTTP benchmark of a release `svar serve` with wrk (budget: docs/operations.md), driven by bench/http/run.

Measures, at 64 connections and 2 wrk threads on 127.0.0.1, each as a ratio to GET /health on the same server:
  - GET /health (the hello-world baseline);
  - a questionnaire page, GET /a/TOKEN/s/1 with the svar_csrf cookie, cycling over many open invitations;
  - the patient submit path, POST /a/TOKEN/submit with the form's csrf field and cookie, every request a
    different invitation whose every step was saved as a draft beforehand (verify link -> validate -> score ->
    one write transaction). Success is a 303 to /a/TOKEN/done.
and the server's peak resident memory while wrk runs (VmRSS polled every 20 ms; VmHWM at the end).

Preparation runs against one server (server A) through the JSON API and the patient pages, exactly as an EHR and
a patient would: unit, patients, courses, a `start` event dated yesterday, `svar tick` to open the baseline
invitation (RAND-36 + EQ-5D-5L, 10 steps), a link per invitation, the landing page (for the CSRF cookie) and a
POST of every step. A short submit run on server A calibrates how many fresh invitations the measured submit run
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
    patient = c.api("POST", "/api/v1/patients", {"identityNumber": number})["id"]
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
def wrk(args, port: int, seconds: float, mode: str, tokens: Path | None = None) -> tuple[dict, list[str]]:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s",
               "-s", str(LUA.relative_to(REPO)), f"http://{HOST}:{port}", "--", mode]
    if tokens is not None:
        command += [str(tokens), str(args.threads)]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    (args.work / f"wrk-{mode}.out").write_text(proc.stdout + proc.stderr)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result, command


def prepare(port: int, api_token: str, unit: str, numbers: list[str], env: dict, args, seed0: int) -> list[tuple[str, str]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        invitations = list(pool.map(lambda n: enrol(port, api_token, unit, n), numbers))
    tick = subprocess.run([args.bin, "tick"], cwd=args.work, env=env, capture_output=True, text=True, timeout=600)
    if tick.returncode != 0 or f"invited {len(numbers)}," not in tick.stdout:
        raise RuntimeError(f"svar tick: exit {tick.returncode}\n{tick.stdout}\n{tick.stderr}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.prep_threads) as pool:
        return list(pool.map(lambda item: draft(port, api_token, item[1], seed0 + item[0]), enumerate(invitations)))


def write_tokens(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{t} {c}\n" for t, c in pairs))
    return path


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
    args = p.parse_args()
    args.bin = str(Path(args.bin).resolve())

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVAR_")}
    api_token = "bench-" + secrets.token_hex(16)
    env.update({
        "SVAR_VAULT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SVAR_DATABASE_URL": f"sqlite:{args.work / 'svar.sqlite'}",
        "SVAR_API_TOKEN": api_token, "SVAR_MODE": "test", "SVAR_WORKERS": "none",
        "SVAR_PUBLIC_URL": f"http://{HOST}:{port}", "SVAR_PORT": str(port), "SVAR_HOST": HOST,
    })
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0].split(" [")[0]
    mem_total = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) // 1024
    print(f"machine: {os.cpu_count()} cores ({cpu}), {mem_total} MiB, {platform.system()} {platform.release()}; "
          f"svar {version}; {wrk_version}; {dt.date.today()}", flush=True)

    numbers = iter(synthetic_numbers(args.calibration + 3 * args.max_invitations))

    # Server A: preparation and calibration.
    server = Server(args.bin, args.work, env, "serve-prepare")
    try:
        client(port, api_token).api("POST", "/api/v1/units", {"resh": "7001", "name": "Benchmark unit"})
        # Calibration: a 2 s submit run on a pool that it must not exhaust (a bigger pool until it does not).
        size, prepared, seconds_spent = args.calibration, 0, 0.0
        while True:
            started = time.monotonic()
            calibration = prepare(port, api_token, "7001", [next(numbers) for _ in range(size)], env, args, prepared)
            seconds_spent += time.monotonic() - started
            prepared += size
            result, _ = wrk(args, port, 2, "submit", write_tokens(args.work / "calibration.txt", calibration))
            rate = result["ok"] / (result["duration_us"] / 1e6)
            if not result["exhausted"] or size * 4 > args.max_invitations:
                break
            size *= 4
        prep_rate = prepared / seconds_spent
        needed = int(rate * args.submit_seconds * 1.5) + 200
        count = max(needed, args.page_tokens)
        if count > args.max_invitations:
            args.submit_seconds = max(2.0, round((args.max_invitations - 200) / (rate * 1.5), 1))
            count = args.max_invitations
            print(f"note: submit run shortened to {args.submit_seconds:g} s (--max-invitations {args.max_invitations})")
        print(f"prepared {prepared} invitations at {prep_rate:.0f}/s; calibration: {rate:.0f} submits/s "
              f"-> preparing {count} fully drafted invitations ...", flush=True)
        started = time.monotonic()
        pool = prepare(port, api_token, "7001", [next(numbers) for _ in range(count)], env, args, 10_000_000)
        print(f"prepared {len(pool)} in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        rc = server.stop()
    if rc != 0:
        raise RuntimeError(f"svar serve (preparation) exited with {rc}")

    (args.work / "env.json").write_text(json.dumps(env, indent=1))  # for looking into a kept work folder
    pages = write_tokens(args.work / "pages.txt", pool[:args.page_tokens])
    submits = write_tokens(args.work / "submits.txt", pool)
    responses_before = sqlite3.connect(f"file:{args.work / 'svar.sqlite'}?mode=ro", uri=True).execute(
        "SELECT count(DISTINCT invitation_id) FROM responses").fetchone()[0]

    # Server B: the measured runs.
    server = Server(args.bin, args.work, env, "serve-bench")
    rows = []
    try:
        start_rss = server.status("VmRSS")
        wrk(args, port, 2, "health")  # warm-up, not reported
        runs = [("GET /health", args.seconds, "health", None),
                ("GET /a/TOKEN/s/1 (page)", args.seconds, "page", pages),
                ("POST /a/TOKEN/submit", args.submit_seconds, "submit", submits)]
        for label, seconds, mode, tokens in runs:
            cpu = server.cpu_seconds()
            with RssPoller(server) as rss:
                result, command = wrk(args, port, seconds, mode, tokens)
            result["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(1, result["requests"])
            rows.append((label, result, rss.peak, command))
            time.sleep(1)  # let the requests in flight at the end finish before the next run
        hwm = server.status("VmHWM")
    finally:
        rc = server.stop()
    if rc != 0:
        raise RuntimeError(f"svar serve (benchmark) exited with {rc}")
    responses_after = sqlite3.connect(f"file:{args.work / 'svar.sqlite'}?mode=ro", uri=True).execute(
        "SELECT count(DISTINCT invitation_id) FROM responses").fetchone()[0]

    base = rows[0][1]["rps"]
    print(f"server: svar serve (release), SQLite, SVAR_WORKERS=none, {HOST}; RSS at start {start_rss / 1024:.1f} MiB; "
          f"wrk -t{args.threads} -c{args.connections}")
    print(f"{'route':<26} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'vs /health':>10} {'requests':>9} "
          f"{'ok':>8} {'errors':>6} {'peak RSS MiB':>12} {'server CPU ms/req':>17}")
    for label, r, peak, _ in rows:
        errors = r["bad"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
        print(f"{label:<26} {r['rps']:>10,.0f} {r['p50_us'] / 1000:>7.2f} {r['p99_us'] / 1000:>7.2f} "
              f"{r['rps'] / base:>9.0%} {r['requests']:>9,} {r['ok']:>8,} {errors:>6} {peak / 1024:>12.1f} {r['cpu_ms']:>17.2f}")
    print(f"server peak RSS over all runs (VmHWM): {hwm / 1024:.1f} MiB")
    sub = rows[2][1]
    stored = responses_after - responses_before
    print(f"submit: {sub['ok']:,} of {sub['requests']:,} requests answered 303 -> /done; {stored:,} invitations got stored responses; "
          f"statuses {sub['statuses']}; fresh invitations left {len(pool) - stored:,}")
    page = rows[1][1]
    print(f"budget (docs/operations.md): submit {sub['rps'] / base:.0%} of /health (>= 30 %), p99 {sub['p99_us'] / 1000:.1f} ms "
          f"(< 25 ms); page {page['rps'] / base:.0%} (>= 50 %); peak RSS {hwm / 1024:.0f} MiB (< 150 MB)")
    for label, _, _, command in rows:
        print(f"command ({label}): {shlex.join(command)}")
    problems = []
    if sub["exhausted"]:
        problems.append(f"the submit run ran out of fresh invitations ({sub['exhausted']} requests); the figure is not valid")
    # wrk counts the responses that arrived within the run; up to one request per connection was still in flight.
    if not sub["ok"] <= stored <= sub["ok"] + args.connections:
        problems.append(f"{sub['ok']} successful submits but {stored} invitations with stored responses")
    for p_ in problems:
        print("ERROR: " + p_)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""/health stays fast while the login form is hammered (security spec: bcrypt runs on a small dedicated thread pool,
never on the event loop or the cooperative pool, and failed logins are throttled before any hashing).

8 clients post wrong passwords to /login as fast as they are answered, each with the CSRF cookie and field it got
from GET /login (as a browser would), for LOAD_SECONDS; meanwhile a prober times GET /health. Whichever binary
SVAR_BIN names (debug or release) is measured as it is. Two shapes of attack: from one address (the throttle
answers most attempts before any hashing), and from a new address and a new name every time, behind a trusted
proxy (nothing is throttled: every attempt is hashed, so this shows bcrypt is off the request threads).
"""
from __future__ import annotations

import statistics
import threading
import time

import pytest

from conftest import http_get, server_env
from test_security import BEHANDLER, PASSWORD, UNIT, add_user, csrf_of, post_login
from test_users import Client

CLIENTS = 8
LOAD_SECONDS = 10.0
IDLE_PROBES = 20
PROBE_GAP = 0.05          # pacing of the prober, not synchronisation
LIMIT = 0.100             # median /health latency under load, seconds


def health_seconds(base: str) -> float:
    started = time.monotonic()
    status, _, _ = http_get(base + "/health", timeout=10)
    elapsed = time.monotonic() - started
    assert status == 200, status
    return elapsed


@pytest.mark.parametrize("spread", [False, True], ids=["one-client", "every-attempt-hashed"])
def test_health_stays_fast_while_logins_are_hammered(svar, start_server, tmp_path, spread):
    env = server_env(tmp_path / "svar.sqlite", SVAR_PUBLIC_URL="http://127.0.0.1",   # the CSRF cookie comes back over http
                     SVAR_TRUSTED_PROXIES="127.0.0.1/32")
    srv = start_server(env)
    srv.create_unit(UNIT, "Poliklinikk")
    assert add_user(svar, env, tmp_path, BEHANDLER, PASSWORD, "behandler").rc == 0

    idle = []
    for _ in range(IDLE_PROBES):
        idle.append(health_seconds(srv.base))
        time.sleep(PROBE_GAP)

    clients = [Client(srv.base) for _ in range(CLIENTS)]
    forms = [csrf_of(c) for c in clients]
    statuses: list[list[int]] = [[] for _ in clients]
    deadline = time.monotonic() + LOAD_SECONDS

    def hammer(i: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            name = BEHANDLER if n % 2 == 0 and not spread else f"ukjent-{i}-{n}"
            headers = {"X-Forwarded-For": f"198.18.{i}.{n % 250}"} if spread else None
            statuses[i].append(post_login(clients[i], forms[i], name, f"wrong password {i}-{n}", headers)[0])
            n += 1

    threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    loaded = []
    while time.monotonic() < deadline:
        loaded.append(health_seconds(srv.base))
        time.sleep(PROBE_GAP)
    for t in threads:
        t.join(timeout=60)        # a login in flight at the deadline finishes (urllib's timeout bounds it)
    assert not any(t.is_alive() for t in threads), "a login did not answer within 60 s after the load ended"

    answers = [s for per_client in statuses for s in per_client]
    assert answers and set(answers) <= {401, 429, 503}, f"wrong passwords must be refused: {sorted(set(answers))}"
    idle_ms, loaded_ms = statistics.median(idle) * 1000, statistics.median(loaded) * 1000
    summary = (f"/health median idle {idle_ms:.1f} ms ({len(idle)} probes), under load {loaded_ms:.1f} ms "
               f"({len(loaded)} probes, max {max(loaded) * 1000:.0f} ms); {len(answers)} logins in {LOAD_SECONDS:.0f} s: "
               f"{answers.count(401)} refused (401), {answers.count(429)} throttled (429), {answers.count(503)} busy (503)")
    print(summary)
    assert len(loaded) >= 5, f"too few /health probes answered during the load: {summary}"
    if spread:
        assert answers.count(401) >= 20, f"the attempts were meant to be hashed, not throttled: {summary}"
    assert statistics.median(loaded) < LIMIT, summary

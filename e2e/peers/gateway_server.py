#!/usr/bin/env python3
"""A stand-in SMS / notification gateway on 127.0.0.1 (standard library only) for Svar's delivery tests.

Every request but GET /health is appended to --record as one JSON line, flushed at once:
  {"method", "path", "headers": {lower-case name: value}, "body", "status"}
A POST is answered, in this order of precedence:
  401 {"error":"unauthorized"}  when --require-header is given and the request lacks it (or has another value);
  --fail-status {"error":"try later"} (default 500; with "Retry-After: S" if --retry-after S) for the first
                                --fail-first POSTs, counting every POST (401s included);
  200 {"id":"<uuid4>"}          otherwise.
GET /health answers 200 "ok" (not recorded). Prints "READY <port>"; exits 0 on SIGTERM/SIGINT.

  gateway_server.py --port P --record FILE [--tls-dir DIR] [--fail-first N] [--fail-status 500|429|400]
                    [--retry-after SECONDS] [--require-header "Name: value"]
"""
import argparse
import json
import os
import signal
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerhttp  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description="HTTP(S) gateway test peer that records requests as JSON lines.")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--record", required=True, help="append one JSON line per request here")
    parser.add_argument("--tls-dir", help="serve HTTPS with cert.pem/key.pem here (made if missing)")
    parser.add_argument("--fail-first", type=int, default=0, help="fail this many POSTs first")
    parser.add_argument("--fail-status", type=int, default=500, help="status of those failures (500, 429, 400, ...)")
    parser.add_argument("--retry-after", help="send Retry-After with this value on those failures")
    parser.add_argument("--require-header", help='"Name: value" every POST must carry, else 401')
    return parser.parse_args()


def main():
    # A parent may start us with SIGTERM blocked (threads of a Swift test process do): unblock it, or we never stop.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args = parse_args()

    # Opened once, line-buffered; handler threads write under `lock`, so lines never interleave.
    record = open(args.record, "a", encoding="utf-8", buffering=1)
    lock = threading.Lock()
    posts = [0]                                   # POSTs seen so far (under `lock`)
    required = None
    if args.require_header:
        name, _, value = args.require_header.partition(":")
        required = (name.strip().lower(), value.strip())

    def write_record(method, path, headers, body, status):
        with lock:
            record.write(json.dumps({"method": method, "path": path, "headers": headers, "body": body,
                                     "status": status}) + "\n")

    class Handler(peerhttp.PeerHandler):
        def headers_dict(self):
            return {k.lower(): v for k, v in self.headers.items()}

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, b"ok", "text/plain")
                return
            write_record("GET", self.path, self.headers_dict(), "", 404)
            self.answer(404, {"error": "not found"})

        def do_POST(self):
            body = self.read_body().decode("utf-8", errors="replace")
            headers = self.headers_dict()
            with lock:
                posts[0] += 1
                n = posts[0]
            extra = []
            if required and headers.get(required[0]) != required[1]:
                status, reply = 401, {"error": "unauthorized"}
            elif n <= args.fail_first:
                status, reply = args.fail_status, {"error": "try later"}
                if args.retry_after:
                    extra.append(("Retry-After", args.retry_after))
            else:
                status, reply = 200, {"id": str(uuid.uuid4())}
            # Recorded before answering: once a client has its reply, the line is in the file.
            write_record("POST", self.path, headers, body, status)
            self.answer(status, reply, headers=extra)

    peerhttp.serve("gateway", args.port, Handler, args.tls_dir)
    record.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A stand-in SMS / notification gateway on loopback: records every POST as one JSON line in --record and
answers 200 {"id": …}, or --fail-status for the first --fail-first requests (with Retry-After if given), or
401 when --require-header is missing. Prints "READY <port>"; stops on SIGTERM."""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selfsigned  # noqa: E402


def main():
    # A parent may start us with SIGTERM blocked (threads of a Swift test process do): unblock it, or we never stop.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--tls-dir")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--retry-after")
    parser.add_argument("--require-header", help='"Name: value"')
    args = parser.parse_args()
    record = open(args.record, "a", encoding="utf-8", buffering=1)
    lock = threading.Lock()
    posts = [0]
    required = None
    if args.require_header:
        name, _, value = args.require_header.partition(":")
        required = (name.strip().lower(), value.strip())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for h in headers:
                self.send_header(*h)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, "ok")
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                posts[0] += 1
                n = posts[0]
            if required and headers.get(required[0]) != required[1]:
                status, reply, extra = 401, {"error": "unauthorized"}, []
            elif n <= args.fail_first:
                status, reply = args.fail_status, {"error": "try later"}
                extra = [("Retry-After", args.retry_after)] if args.retry_after else []
            else:
                status, reply, extra = 200, {"id": str(uuid.uuid4())}, []
            with lock:
                record.write(json.dumps({"method": "POST", "path": self.path, "headers": headers, "body": body, "status": status}) + "\n")
            self.answer(status, reply, extra)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_dir:
        cert, key = selfsigned.ensure(args.tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    print(f"READY {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

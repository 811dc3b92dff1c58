"""What the HTTP(S) test peers share: a keep-alive request handler that does its TLS handshake in its own
thread, answers with a length, reads plain or chunked bodies (up to a limit), and logs nothing per request."""
import json
import ssl
from http.server import BaseHTTPRequestHandler


class PeerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"             # keep-alive, as a pooling client (AsyncHTTPClient) expects
    content_type = "application/json"         # the default of `answer`
    max_body = 20 * 1024 * 1024               # a larger body is refused (read_body returns None)

    def log_message(self, *a):                # no access log on stderr
        pass

    def setup(self):
        # With TLS, do the handshake here, in this connection's own thread, not in the accept loop (where one
        # slow or failing client would hold up every other).
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def answer(self, status, payload, content_type=None, headers=()):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type or self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for header in headers:
            self.send_header(*header)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        """The request body (Content-Length or chunked), or None when it is larger than `max_body`."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):   # trailers
                        pass
                    return b"".join(chunks)
                total += size
                if total > self.max_body:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()         # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return None if length > self.max_body else self.rfile.read(length)


def serve(name, port, handler, tls_dir=None, on_stop=lambda: None, poll_interval=0.5):
    """Serves `handler` on 127.0.0.1:`port` (HTTPS with selfsigned.py's certificate when `tls_dir` is given),
    prints `READY <port>`, and returns after SIGTERM or SIGINT (`on_stop` runs first)."""
    import signal
    import sys
    import threading
    from http.server import ThreadingHTTPServer

    import selfsigned

    class Server(ThreadingHTTPServer):
        daemon_threads = True                 # idle keep-alive connections and hung requests do not delay exit

        def handle_error(self, request, client_address):
            error = sys.exc_info()[1]
            if isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError)):
                # A client that refused our certificate or hung up: one line, not a traceback.
                print(f"{name}: {client_address[0]}:{client_address[1]}: {error!r}", file=sys.stderr, flush=True)
            else:
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", port), handler)
    if tls_dir:
        cert, key = selfsigned.ensure(tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)       # TLS 1.2 and 1.3
        context.load_cert_chain(cert, key)
        # The handshake happens later, in PeerHandler.setup.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    # serve_forever() must be stopped from another thread: a signal handler runs in this (the serving) thread.
    def stop(*_):
        on_stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {port}", flush=True)
    server.serve_forever(poll_interval=poll_interval)
    server.server_close()

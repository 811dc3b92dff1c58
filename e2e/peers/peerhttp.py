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

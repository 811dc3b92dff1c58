#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 (aiosmtpd) for Svar's delivery tests and bench/smtp.

Every accepted message is appended to --record as one JSON line, flushed at once:
  {"message_id", "mail_from", "rcpt_tos", "data", "tls", "auth_user", "connection"}
Flags shape the cases the tests need: TLS (STARTTLS, or implicit TLS from the first byte), AUTH required,
recipients refused with 550, and the connection dropped after the message data of the first N transactions
(no reply, nothing recorded). Prints "READY <port>" once it accepts connections; exits 0 on SIGTERM/SIGINT.

  smtp_server.py --port P --record FILE [--tls-dir DIR] [--implicit-tls] [--auth USER:PASS]
                 [--reject-rcpt SUBSTRING] [--drop-in-data N]
"""
import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, TLSSetupException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selfsigned  # noqa: E402

# The end of the header block, and a Message-ID header with any folded continuation lines.
HEADER_END = re.compile(r"\r?\n\r?\n")
MESSAGE_ID = re.compile(r"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def message_id_of(data):
    """The Message-ID header's value (unfolded), or None. Looks at the header block only: cheap per message."""
    end = HEADER_END.search(data)
    found = MESSAGE_ID.search(data[:end.start()] if end else data)
    return (" ".join(found.group(1).split()) or None) if found else None


def parse_args():
    parser = argparse.ArgumentParser(description="SMTP test peer (aiosmtpd) that records messages as JSON lines.")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--record", required=True, help="append one JSON line per accepted message here")
    parser.add_argument("--tls-dir", help="cert.pem/key.pem here (made if missing); offers STARTTLS")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (SMTPS); needs --tls-dir")
    parser.add_argument("--auth", help="USER:PASS; AUTH PLAIN/LOGIN required before MAIL")
    parser.add_argument("--reject-rcpt", help="answer 550 to recipients containing this text")
    parser.add_argument("--drop-in-data", type=int, default=0,
                        help="close the connection without a reply after the data of the first N transactions")
    args = parser.parse_args()
    if args.implicit_tls and not args.tls_dir:
        parser.error("--implicit-tls needs --tls-dir")
    return args


def main():
    # A parent may start us with SIGTERM blocked (threads of a Swift test process do): unblock it, or we never stop.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args = parse_args()

    # Keep stderr for real problems. aiosmtpd warns when AUTH is required without requiring TLS: here that is
    # deliberate (plain AUTH when no --tls-dir; with implicit TLS the whole session is encrypted, which aiosmtpd
    # does not know). aiosmtpd 1.4.6 also sets its own deprecated Session.login_data on every successful AUTH
    # and logs a warning each time.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    quiet = ("auth_required == True but auth_require_tls == False", "Session.login_data is deprecated")

    def log_filter(entry):
        if entry.getMessage().startswith(quiet):
            return False
        # A client that refuses our certificate after STARTTLS (a test of exactly that) is one line, not a traceback.
        if entry.exc_info and isinstance(entry.exc_info[1], TLSSetupException):
            entry.msg, entry.args = "%s STARTTLS handshake failed: %r", (entry.msg % entry.args, entry.exc_info[1].__cause__)
            entry.exc_info = entry.exc_text = None
        return True

    logging.getLogger("mail.log").addFilter(log_filter)

    # Opened once, line-buffered: each record is one write() and is visible to a reader at once.
    record = open(args.record, "a", encoding="utf-8", buffering=1)
    connections = itertools.count(1)          # numbers TCP connections in the order they were accepted
    drops_left = [args.drop_in_data]          # DATA transactions still to drop (across all connections)

    tls_context = None
    if args.tls_dir:
        cert, key = selfsigned.ensure(args.tls_dir)
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)   # TLS 1.2 and 1.3
        tls_context.load_cert_chain(cert, key)

    user, _, password = (args.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        # aiosmtpd's PLAIN and LOGIN mechanisms both hand us a LoginPassword.
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode("utf-8", "replace") == user
              and auth_data.password.decode("utf-8", "replace") == password)
        # handled=False: aiosmtpd itself answers 235 on success and "535 5.7.8 Authentication credentials
        # invalid" on failure. auth_data is kept on the session on success (session.auth_data).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if args.reject_rcpt and args.reject_rcpt in address:
                return "550 5.1.1 Mailbox unavailable"      # permanent: the address is not added
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if drops_left[0] > 0:
                # Simulate a connection lost in the middle of DATA: the client has sent the final ".", and the
                # TCP connection now closes at once (abort: no TLS close_notify, nothing flushed), with no reply
                # and nothing recorded. aiosmtpd then cancels this session's task when connection_lost arrives.
                drops_left[0] -= 1
                server.transport.abort()
                return "421 dropped"                        # written to a closed transport: never sent
            content = envelope.content
            data = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
            auth = getattr(session, "auth_data", None)
            record.write(json.dumps({
                "message_id": message_id_of(data),
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": data,
                # STARTTLS sets session.ssl; implicit TLS shows only on the transport.
                "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                "auth_user": auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None,
                "connection": server.connection_number,
                "ehlo": session.host_name,
            }) + "\n")
            return "250 OK: message accepted"

    class CountingSMTP(SMTP):
        """aiosmtpd's protocol (one instance per TCP connection), numbering its connection."""

        def connection_made(self, transport):
            super().connection_made(transport)
            # STARTTLS calls connection_made again on the same instance, for the same TCP connection: count once.
            if not hasattr(self, "connection_number"):
                self.connection_number = next(connections)

    def factory():
        options = dict(
            hostname="svar-test-peer",
            authenticator=authenticator if args.auth else None,
            auth_required=bool(args.auth),                  # MAIL before AUTH gets 530
            # With STARTTLS offered, AUTH is refused (and not advertised) before STARTTLS. aiosmtpd only counts
            # STARTTLS as TLS, so with implicit TLS (or no TLS at all) this must be off.
            auth_require_tls=bool(args.tls_dir) and not args.implicit_tls,
            data_size_limit=10 * 1024 * 1024)
        if tls_context is not None and not args.implicit_tls:
            options.update(tls_context=tls_context, require_starttls=False)   # EHLO advertises STARTTLS
        return CountingSMTP(Handler(), **options)

    async def serve():
        # loop.create_server instead of aiosmtpd's Controller: same protocol, but we know exactly when the socket
        # listens (READY is printed after it), and no extra thread is needed.
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", args.port, backlog=512,
                                          ssl=tls_context if args.implicit_tls else None)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"READY {args.port}", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(serve())
    record.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A real SMTP server on loopback (aiosmtpd) for Svar's delivery tests and bench/smtp.

Every accepted message is appended to --record as one JSON line. Flags shape the failure modes the tests
need: TLS (STARTTLS or implicit), AUTH required, recipients refused with 550, and the connection dropped
after the message data of the first N transactions (no reply, nothing recorded).
Prints "READY <port>" once it accepts connections; stops on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selfsigned  # noqa: E402


def main():
    # A parent may start us with SIGTERM blocked (threads of a Swift test process do): unblock it, or we never stop.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--tls-dir")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", help="USER:PASS required before MAIL")
    parser.add_argument("--reject-rcpt", help="refuse recipients containing this text with 550")
    parser.add_argument("--drop-in-data", type=int, default=0, help="drop the connection after DATA this many times")
    args = parser.parse_args()

    record = open(args.record, "a", encoding="utf-8", buffering=1)
    connections = itertools.count(1)
    drops_left = [args.drop_in_data]
    tls_context = None
    if args.tls_dir:
        cert, key = selfsigned.ensure(args.tls_dir)
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(cert, key)
    user, _, password = (args.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: aiosmtpd then answers 535 itself on failure (with the default it answers nothing).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def login_of(session):
        data = getattr(session, "auth_data", None)
        return data.login.decode() if isinstance(data, LoginPassword) else None

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if args.reject_rcpt and args.reject_rcpt in address:
                return "550 5.1.1 Mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if drops_left[0] > 0:
                drops_left[0] -= 1
                server.transport.abort()          # no reply at all: the client sees the connection vanish
                return "421 dropped"              # never reaches the client
            data = envelope.content.decode("utf-8", errors="replace") if isinstance(envelope.content, bytes) else envelope.content
            message_id = None
            for line in data.split("\r\n\r\n", 1)[0].split("\r\n"):
                if line.lower().startswith("message-id:"):
                    message_id = line.split(":", 1)[1].strip()
            record.write(json.dumps({
                "message_id": message_id, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": data,
                "tls": session.ssl is not None or args.implicit_tls, "auth_user": login_of(session), "connection": server.connection_number,
            }) + "\n")
            return "250 Message accepted"

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            super().connection_made(transport)
            # STARTTLS calls this again for the same TCP connection: count it once.
            if not hasattr(self, "connection_number"):
                self.connection_number = next(connections)

    def factory():
        kwargs = dict(hostname="svar-test-peer", authenticator=authenticator if args.auth else None,
                      auth_required=bool(args.auth),
                      # Implicit TLS is encrypted from the first byte, but aiosmtpd only counts STARTTLS as TLS.
                      auth_require_tls=bool(args.tls_dir) and not args.implicit_tls, data_size_limit=10 * 1024 * 1024)
        if tls_context is not None and not args.implicit_tls:
            kwargs.update(tls_context=tls_context, require_starttls=False)
        return CountingSMTP(Handler(), **kwargs)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", args.port,
                                          ssl=tls_context if args.implicit_tls else None)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"READY {args.port}", flush=True)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""oauth2-tokeninfo.py: a tiny OAuth 2 token-info endpoint on loopback for the test Dovecot.

Usage: oauth2-tokeninfo.py PORT PIDFILE TOKEN=USER [TOKEN=USER ...]

Dovecot's oauth2 passdb (tokeninfo_url = http://127.0.0.1:PORT/tokeninfo?access_token=) sends
GET /tokeninfo?access_token=TOKEN for every XOAUTH2/OAUTHBEARER login. A known token gets
200 {"username": USER, "active": true}; anything else gets 401 {"error": "invalid_token"},
which Dovecot turns into a refused login (not a temporary failure). Started and stopped by
scripts/mailservers.sh; started with a pid file so `stop` ends exactly this process.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main() -> None:
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__ or "")
        sys.exit(2)
    port = int(sys.argv[1])
    pidfile = sys.argv[2]
    tokens = dict(arg.split("=", 1) for arg in sys.argv[3:])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            token = parse_qs(url.query).get("access_token", [""])[0]
            auth = self.headers.get("Authorization", "")
            if not token and auth.lower().startswith("bearer "):
                token = auth[7:].strip()
            user = tokens.get(token) if url.path == "/tokeninfo" else None
            if user is None:
                self.answer(401, {"error": "invalid_token"})
            else:
                self.answer(200, {"username": user, "active": True, "scope": "mail"})

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args) -> None:
            # One line per request on stderr (the log file); never the token itself.
            path = urlsplit(self.path).path
            code = args[1] if fmt.startswith('"%s"') and len(args) > 1 else fmt % args
            sys.stderr.write(f"{self.log_date_time_string()} {self.command} {path} {code}\n")
            sys.stderr.flush()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(pidfile + ".tmp", pidfile)
    server.serve_forever()


if __name__ == "__main__":
    main()

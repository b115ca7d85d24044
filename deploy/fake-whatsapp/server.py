#!/usr/bin/env python3
"""A stand-in for the WhatsApp Cloud API, for `docker compose up` and local tests.

POST /{version}/{phone-number-id}/messages with a bearer token answers like Graph API does:
{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid.fake..."}]}.
GET /healthz answers 200. FAKE_FAILURE_RATE (0..1) answers that share of sends with a retryable
503 so retries show on the status board. Phone numbers are masked in the log. Standard library only.
"""
import json, os, random, re, signal, sys, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEND = re.compile(r"^/v\d+(?:\.\d+)?/(\d+)/messages/?$")
FAILURE_RATE = float(os.environ.get("FAKE_FAILURE_RATE", "0"))


def mask(phone):
    return phone[:4] + "*" * max(0, len(phone) - 6) + phone[-2:] if len(phone) > 6 else "***"


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, {"ok": True}) if self.path == "/healthz" else self.reply(404, {"error": {"message": "not found", "code": 404}})

    def do_POST(self):
        match = SEND.match(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not match:
            return self.reply(404, {"error": {"message": f"unknown path {self.path}", "type": "OAuthException", "code": 803}})
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            return self.reply(401, {"error": {"message": "missing access token", "type": "OAuthException", "code": 190}})
        try:
            to = str(json.loads(body or b"{}").get("to", ""))
        except (ValueError, AttributeError):
            return self.reply(400, {"error": {"message": "body is not a JSON object", "type": "OAuthException", "code": 100}})
        if FAILURE_RATE and random.random() < FAILURE_RATE:
            return self.reply(503, {"error": {"message": "service unavailable (fake)", "code": 131000, "is_transient": True}})
        wamid = "wamid.fake." + uuid.uuid4().hex
        print(f"sent from {match.group(1)} to {mask(to)} as {wamid}", flush=True)
        self.reply(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.lstrip("+")}], "messages": [{"id": wamid}]})

    def log_message(self, *args):  # one line per send is printed above; keep the access log quiet
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 in a container: exit on docker stop
    print(f"fake WhatsApp Cloud API on :{port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        server.server_close()

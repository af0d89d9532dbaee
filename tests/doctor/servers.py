"""Real servers for the doctor's checks: a small HTTP server speaking the part of Prefect's REST
API that `coforms doctor` asks (/api/health, /api/deployments/filter, /api/flow_runs/filter, as
documented and as a real `prefect server start` answers), and an SMTP server (aiosmtpd) that
wants a login."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.smtp_server import CollectingHandler, free_port

SMTP_USER, SMTP_PASSWORD = "replies@camden.gov.uk", "smtp secret"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class PrefectApi:
    """`deployments` and `runs` are what the filters answer (Prefect's JSON objects, the fields the
    doctor reads); `asked` keeps each request's path and body."""

    def __init__(self) -> None:
        self.deployments: list[dict] = []
        self.runs: list[dict] = []
        self.asked: list[tuple[str, dict]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, body: object, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/api/health":
                    self._answer(True)
                else:
                    self._answer({"detail": "Not Found"}, 404)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                api.asked.append((self.path, body))
                if self.path == "/api/deployments/filter":
                    self._answer(api.deployments)
                elif self.path == "/api/flow_runs/filter":
                    self._answer(api.runs)
                else:
                    self._answer({"detail": "Not Found"}, 404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def registered(self, created: dt.datetime) -> None:
        self.deployments = [{"name": "coforms-every-15-minutes", "created": iso(created), "status": "READY"}]

    def ran(self, started: dt.datetime, state: str = "COMPLETED", name: str = "quiet-otter") -> None:
        self.runs = [{"name": name, "start_time": iso(started), "state": {"type": state, "name": state.title()}}]

    def __enter__(self) -> PrefectApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    good = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=good, handled=False)  # not handled: the server answers 535 itself


@contextlib.contextmanager
def smtp_server() -> Iterator[dict[str, str]]:
    """A real SMTP server on 127.0.0.1 that accepts SMTP_USER/SMTP_PASSWORD only; yields the
    COFORMS_* settings that point at it (no TLS: the login is what is checked here)."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(
        CollectingHandler(), hostname="127.0.0.1", port=port, authenticator=_login, auth_require_tls=False
    )
    controller.start()
    try:
        yield {
            "COFORMS_SEND_REPLIES": "true",
            "COFORMS_SMTP_HOST": "127.0.0.1",
            "COFORMS_SMTP_PORT": str(port),
            "COFORMS_SMTP_SECURITY": "none",
            "COFORMS_SMTP_USER": SMTP_USER,
            "COFORMS_SMTP_PASSWORD": SMTP_PASSWORD,
        }
    finally:
        controller.stop()

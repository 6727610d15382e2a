"""A fake OAuth2 provider on loopback, speaking the real JSON: the refresh-token grant at /token
(RFC 6749 §6: access_token, token_type, expires_in, and a rotated refresh_token when told to;
`invalid_grant` for a refresh token it does not know or revoked) and token introspection at
/introspect (RFC 7662, POSTed `token=`), which dovecot's oauth2 passdb asks. The SMTP sink asks
`accepts` the same question."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

CLIENT_ID, CLIENT_SECRET = "frontdesk-app", "app-secret-7f3a"


@dataclass
class Provider:
    """Tokens it issued and what it was asked; `user` is the address its tokens are for."""

    user: str
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-1"})
    access_tokens: set[str] = field(default_factory=set)
    expires_in: int = 3600
    rotate: bool = False  # hand back a new refresh token at each refresh (as Microsoft may)
    grants: list[dict[str, str]] = field(default_factory=list)  # the /token requests' forms
    introspected: list[str] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, answer = provider.answer(self.path, form)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if path == "/introspect":
            self.introspected.append(form.get("token", ""))
            if form.get("token") in self.access_tokens:
                return 200, {"active": True, "email": self.user, "client_id": CLIENT_ID}
            return 200, {"active": False}
        if path != "/token":
            return 404, {"error": "not_found"}
        self.grants.append(form)
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed."}
        if form.get("refresh_token") not in self.refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        number = next(self._numbers)
        token = f"access-{number}-x9"
        self.access_tokens.add(token)
        answer: dict[str, object] = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        if self.rotate:
            rotated = f"refresh-rotated-{number}"
            self.refresh_tokens.add(rotated)
            answer["refresh_token"] = rotated
        return 200, answer

    def accepts(self, user: str, token: str) -> bool:
        return user == self.user and token in self.access_tokens

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on (expired early, revoked)."""
        self.access_tokens.clear()

    def revoke(self) -> None:
        """Every refresh token is refused: the user signed out or the admin revoked the app."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()

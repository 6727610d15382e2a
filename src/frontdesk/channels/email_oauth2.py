"""OAuth2 for an e-mail channel's IMAP and SMTP logins (SASL XOAUTH2): an access token from the
refresh-token grant (RFC 6749 §6) at the provider's token URL, kept per process until a minute
before it expires.

One grant per channel serves both sides: Google's `https://mail.google.com/` and Microsoft's
`outlook.office.com` scopes cover IMAP and SMTP with one sign-in, so one refresh token is kept. A
provider that rotates it (Microsoft may) hands back a new one, which the caller saves sealed; a
refused refresh (`invalid_grant`) is an admin's to act on, never retried in a loop. The token URL
is the admin's own setting, not a contact's: the private-address guard of the HTTP step does not
apply, but it must be https (http only to loopback, for tests).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from frontdesk.channels.base import SignIn, one_of
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.records import Channel

SMTP_AUTH, IMAP_AUTH = "smtp_auth", "imap_auth"
PROVIDER, TENANT, TOKEN_URL = "oauth2_provider", "oauth2_tenant", "oauth2_token_url"
CLIENT_ID, SCOPE = "oauth2_client_id", "oauth2_scope"
CLIENT_SECRET, REFRESH_TOKEN = "oauth2_client_secret", "oauth2_refresh_token"
SETTINGS = (SMTP_AUTH, IMAP_AUTH, PROVIDER, TENANT, TOKEN_URL, CLIENT_ID, SCOPE)
CREDENTIALS = (CLIENT_SECRET, REFRESH_TOKEN)
AUTHS = ("password", "oauth2")
PROVIDERS = ("google", "microsoft", "custom")
SCOPES = {
    "google": "https://mail.google.com/",
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
}
MARGIN_SECONDS = 60.0  # a token is renewed this long before the provider says it expires
REFUSED = "the refresh token was refused: sign in again"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TENANT = re.compile(r"[A-Za-z0-9.-]{1,100}")


@dataclass(frozen=True)
class Grant:
    """Where and with what a channel gets its access tokens (secrets opened from the sealed credentials)."""

    token_url: str
    client_id: str
    scope: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    rotated: str | None = field(default=None, repr=False)  # a new refresh token the provider handed back


class Refused(Exception):
    """The provider refused the grant (a revoked or expired refresh token, a wrong client): only an
    admin signing in again can mend it. The text never holds a secret."""


class Unavailable(Exception):
    """No token for now (the provider unreachable or failing): tried again later."""


# The grant's fingerprint -> its access token, when to renew it, and the refresh token the provider
# rotated it to (until the channel holds that one, each login with the old grant is told again, so
# a login that failed after the refresh, or another task that used the token, does not lose it).
_tokens: dict[str, tuple[str, float, str | None]] = {}


def uses_oauth2(config: Mapping[str, Any], side: str) -> bool:
    return config.get(side) == "oauth2"


def grant_of(channel: Channel) -> Grant | None:
    """The channel's grant, or None when neither side signs in with OAuth2."""
    config = channel.config
    if not (uses_oauth2(config, SMTP_AUTH) or uses_oauth2(config, IMAP_AUTH)):
        return None
    return Grant(
        token_url=token_url(config),
        client_id=str(config.get(CLIENT_ID) or ""),
        scope=str(config.get(SCOPE) or SCOPES.get(str(config.get(PROVIDER)), "")),
        client_secret=channel.credential(CLIENT_SECRET),
        refresh_token=channel.credential(REFRESH_TOKEN),
    )


def token_url(config: Mapping[str, Any]) -> str:
    provider = config.get(PROVIDER) or "custom"
    if provider == "google":
        return "https://oauth2.googleapis.com/token"
    if provider == "microsoft":
        return f"https://login.microsoftonline.com/{config.get(TENANT) or 'common'}/oauth2/v2.0/token"
    return str(config.get(TOKEN_URL) or "")


async def access_token(client: httpx.AsyncClient, grant: Grant) -> Token:
    """The access token kept for `grant`, or a new one when none is or it is about to expire."""
    kept = _tokens.get(_fingerprint(grant))
    if kept is not None and kept[1] > time.monotonic():
        return Token(kept[0], kept[2])
    return await fresh_token(client, grant)


async def fresh_token(client: httpx.AsyncClient, grant: Grant) -> Token:
    """A new access token from the refresh-token grant (the kept one was refused by the server)."""
    form = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token, "client_id": grant.client_id}
    if grant.client_secret:
        form["client_secret"] = grant.client_secret
    if grant.scope:
        form["scope"] = grant.scope
    try:
        response = await client.post(grant.token_url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise Unavailable(f"the token URL {_host(grant.token_url)} did not answer ({type(exc).__name__})") from None
    answer = _json(response)
    if response.status_code in (400, 401) and "error" in answer:
        raise Refused(_refusal(answer))
    token = answer.get("access_token")
    if response.status_code != 200 or not isinstance(token, str) or not token:
        raise Unavailable(f"the token URL {_host(grant.token_url)} answered {response.status_code} without a token")
    lifetime = answer.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else 3600.0
    renew_at = time.monotonic() + max(seconds - MARGIN_SECONDS, 0.0)
    rotated = answer.get("refresh_token")
    rotated = rotated if isinstance(rotated, str) and rotated and rotated != grant.refresh_token else None
    _tokens[_fingerprint(grant)] = (token, renew_at, rotated)
    if rotated is not None:  # the saved grant will hold the new refresh token: its token is the same
        _tokens[_fingerprint(_with_refresh_token(grant, rotated))] = (token, renew_at, None)
    return Token(token, rotated)


def sign_in(grant: Grant, rotated: str | None, granted: bool) -> SignIn:
    """What a login with `grant` learned, for the caller to save (channels.base.SignIn)."""
    credentials = {REFRESH_TOKEN: rotated} if rotated else {}
    return SignIn(credentials, credential=REFRESH_TOKEN, used=grant.refresh_token, granted=granted)


def refused(grant: Grant, exc: Refused) -> SignIn:
    return SignIn(refused=str(exc), credential=REFRESH_TOKEN, used=grant.refresh_token)


def forget(grant: Grant) -> None:
    """Drop the kept access token (the server refused it)."""
    _tokens.pop(_fingerprint(grant), None)


def checked(key: str, value: Any) -> Any:
    """One OAuth2 setting, checked on its own (`check_together` checks what they need of each other)."""
    if key in (SMTP_AUTH, IMAP_AUTH):
        return one_of(key, value, AUTHS)
    if key == PROVIDER:
        return one_of(key, value, PROVIDERS)
    if key == TOKEN_URL:
        return _checked_url(value)
    if key == TENANT:
        if value is not None and (not isinstance(value, str) or not _TENANT.fullmatch(value)):
            raise InvalidInput("invalid_oauth2_tenant", f"{key}: a tenant id or domain, or common", key)
        return value or None
    return str(value or "").strip()[:1000] or None  # client id, scope


def check_together(config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
    """A side signing in with OAuth2 needs the whole grant: a provider (or a token URL), a client id
    and a refresh token; and a login name, as a password login does."""
    sides = [side for side in (IMAP_AUTH, SMTP_AUTH) if uses_oauth2(config, side)]
    if not sides:
        return
    provider, side = config.get(PROVIDER), sides[0]
    if provider is None:
        raise _missing(PROVIDER, f"{side} oauth2 needs google, microsoft or custom")
    if provider == "custom" and not config.get(TOKEN_URL):
        raise _missing(TOKEN_URL, "a custom provider needs its token URL")
    if not config.get(CLIENT_ID):
        raise _missing(CLIENT_ID, f"{side} oauth2 needs the app's client id")
    if not credentials.get(REFRESH_TOKEN):
        raise _missing(REFRESH_TOKEN, f"{side} oauth2 needs a refresh token")
    for side in sides:
        username = "smtp_username" if side == SMTP_AUTH else "imap_username"
        if not config.get(username):
            raise _missing(username, f"{side} oauth2 logs in as this address")


def _missing(key: str, why: str) -> InvalidInput:
    return InvalidInput("missing_setting", f"{key}: {why}", key)


def _checked_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    parts = urlsplit(value) if isinstance(value, str) and len(value) <= 500 else None
    secure = parts is not None and (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK))
    if parts is None or not secure or not parts.hostname:
        problem = f"{TOKEN_URL}: an https URL (http only to a loopback address)"
        raise InvalidInput("invalid_oauth2_token_url", problem, TOKEN_URL)
    return str(value)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _refusal(answer: Mapping[str, Any]) -> str:
    """The provider's error code and its description (trimmed: Microsoft's carry trace ids)."""
    code = str(answer.get("error"))[:60]
    said = " ".join(str(answer.get("error_description") or "").split())[:160]
    if code == "invalid_grant":
        return f"{REFUSED} ({code}{': ' + said if said else ''})"
    return f"the token URL refused the app's sign-in ({code}{': ' + said if said else ''})"


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _fingerprint(grant: Grant) -> str:
    """The cache key: the grant's every part (a new sign-in or app gets new tokens), hashed so no
    secret sits in the key."""
    parts = (grant.token_url, grant.client_id, grant.scope, grant.client_secret, grant.refresh_token)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _with_refresh_token(grant: Grant, refresh_token: str) -> Grant:
    return Grant(grant.token_url, grant.client_id, grant.scope, grant.client_secret, refresh_token)

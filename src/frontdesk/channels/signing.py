"""HMAC-SHA256 signatures: ours over "<timestamp>.<body>", used both ways on API channels, and
Meta's over the raw body (`X-Hub-Signature-256`), which WhatsApp, Messenger and Instagram share.

Our headers: `X-Frontdesk-Timestamp` (Unix seconds) and `X-Frontdesk-Signature: sha256=<hex>`.
The timestamp bounds replays; the receiver compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

TIMESTAMP_HEADER = "x-frontdesk-timestamp"
HUB_SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_HEADER = "x-frontdesk-signature"
TOLERANCE_SECONDS = 300
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes "²"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, timestamp: str | None, given: str | None, body: bytes, now: float | None = None) -> str | None:
    """None when the signature holds, else the reason it does not."""
    if not timestamp or not given:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    if not _UNIX_SECONDS.fullmatch(timestamp):
        return f"{TIMESTAMP_HEADER} must be Unix seconds: 1 to 12 ASCII digits"
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s away from the server's clock"
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        return "signature does not match the body"
    return None


def verify_hub(secrets: Sequence[str], given: str, body: bytes) -> str | None:
    """Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`,
    checked against each of `secrets` (the app secret); None when one matches, else why not."""
    if not given.startswith("sha256="):
        return f"missing or malformed {HUB_SIGNATURE_HEADER} header"
    usable = [secret for secret in secrets if secret]
    if not usable:
        return "the channel has no app secret"
    for secret in usable:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, given):
            return None
    return "signature does not match the body"

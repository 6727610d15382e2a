"""TLS to an e-mail channel's own servers (SMTP out, IMAP in): certificates checked against the
system's CAs and FRONTDESK_EMAIL_CA_FILE's (a private CA), names checked, never switched off; and a
refused handshake said in words an admin can act on.

One context per process and CA file: making one parses the system's bundle (144 CAs on Debian:
about 35 ms of CPU), which every mail would pay otherwise. A changed file is read at restart.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

_contexts: dict[str | None, ssl.SSLContext] = {}
# OpenSSL's verify codes for a certificate naming another host (X509_V_ERR_HOSTNAME_MISMATCH,
# X509_V_ERR_IP_ADDRESS_MISMATCH), and for one whose issuer is unknown or itself
_OTHER_NAME = (62, 64)
_UNKNOWN_ISSUER = (18, 19, 20, 21)
_NO_STARTTLS = "STARTTLS extension not supported"  # aiosmtplib's and imaplib's words


def context(ca_file: str | None) -> ssl.SSLContext:
    """The client context for e-mail servers (blocking the first time: call it off the event loop)."""
    found = _contexts.get(ca_file)
    if found is not None:
        return found
    made = ssl.create_default_context()
    if ca_file:
        made.load_verify_locations(cafile=ca_file)
    return _contexts.setdefault(ca_file, made)


async def context_async(ca_file: str | None) -> ssl.SSLContext:
    found = _contexts.get(ca_file)
    return found if found is not None else await asyncio.to_thread(context, ca_file)


def refusal(exc: BaseException, host: str) -> str | None:
    """Why no secure connection was made to `host`, in plain words; None when `exc` is no TLS failure."""
    for cause in _chain(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _untrusted(cause, host)
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed ({cause.reason or type(cause).__name__})"
        if _NO_STARTTLS in str(cause):
            return "it does not offer STARTTLS (nothing was sent in clear)"
    return None


def _untrusted(error: ssl.SSLCertVerificationError, host: str) -> str:
    said = str(error.verify_message or error.reason).rstrip(".")
    if error.verify_code in _OTHER_NAME:
        return f"its certificate is not valid for {host} ({said.split(',')[0]})"
    if error.verify_code in _UNKNOWN_ISSUER:
        return f"its certificate is not trusted ({said}; a private CA is trusted with FRONTDESK_EMAIL_CA_FILE)"
    return f"its certificate is not trusted ({said})"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what caused it (aiosmtplib wraps a failed handshake in SMTPConnectError)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__

"""Downloading an attachment's content for the media fetcher, the same way for every provider.

Streamed with a size limit (a body past it is abandoned, never held whole), classified like a
send: a 2xx is the content, a 429/5xx or a network fault is tried again later (honouring
`Retry-After`), any other answer fails for good with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from frontdesk import destinations
from frontdesk.channels.base import MediaFetch
from frontdesk.domain.records import Attachment
from frontdesk.settings import Settings

MEGABYTE = 1024 * 1024


def too_big(limit: int) -> MediaFetch:
    return MediaFetch(error=f"larger than {size_text(limit)}")


def size_text(size: int) -> str:
    if size >= MEGABYTE:
        return f"{size / MEGABYTE:g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} bytes"


def later(reason: str, response: httpx.Response | None = None) -> MediaFetch:
    return MediaFetch(
        error=reason,
        retry=True,
        retry_after=None if response is None else destinations.retry_after(response.headers.get("retry-after")),
    )


async def download(
    client: httpx.AsyncClient,
    url: httpx.URL | str,
    limit: int,
    who: str,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    follow_redirects: bool = False,
) -> MediaFetch:
    """GET `url` into memory, at most `limit` bytes. `who` names the server in a reason; no
    reason repeats the URL or an exception's text (a Telegram file URL holds the bot token).
    A redirect is followed only when asked (httpx drops `authorization` for another host)."""
    try:
        stream = client.stream("GET", url, headers=headers, extensions=extensions, follow_redirects=follow_redirects)
        async with stream as response:
            if not response.is_success:
                return answered(response, who)
            if int(response.headers.get("content-length") or 0) > limit:
                return too_big(limit)
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    return too_big(limit)
                chunks.append(chunk)
            return MediaFetch(b"".join(chunks), response.headers.get("content-type"))
    except (httpx.HTTPError, ValueError) as exc:
        return later(f"{type(exc).__name__} downloading from {who}")


def answered(response: httpx.Response, who: str, detail: str = "") -> MediaFetch:
    """A non-2xx answer: retried when the server is busy or down, else failed for good."""
    reason = f"{who} answered HTTP {response.status_code}" + (f": {detail}" if detail else "")
    if response.status_code == 429 or response.status_code >= 500:
        return later(reason, response)
    return MediaFetch(error=reason)


def no_provider_media(kind: str) -> MediaFetch:
    return MediaFetch(error=f"nothing to fetch: {kind} channels have no provider media")


async def fetch_source_url(
    client: httpx.AsyncClient, attachment: Attachment, settings: Settings, limit: int
) -> MediaFetch:
    """An attachment given by URL (the API, the web chat): through the same private-address guard
    as http_request steps, so a URL cannot reach the deployment's own network."""
    if not attachment.source_url:
        return MediaFetch(error="nothing to fetch: the attachment has no source URL")
    try:
        target = await destinations.pin(attachment.source_url, settings.http_allow_private)
    except destinations.Refused as exc:
        return MediaFetch(error=str(exc))
    host = httpx.URL(attachment.source_url).host
    return await download(client, target.url, limit, host, target.headers, target.extensions)

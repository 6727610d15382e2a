"""How many rows one page of an API list holds: what the caller asked, within bounds."""

from __future__ import annotations

MAX_PAGE = 200


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))

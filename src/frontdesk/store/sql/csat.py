"""CSAT surveys' statements: a row per close a survey was offered for (or the API rated), filled
once by its rating; and whether a channel offers them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.store import rows
from frontdesk.store.tables import csat_surveys

_OFFERS = "SELECT csat_survey FROM channels WHERE id = ?"


def offers_survey(conn: Connection, channel_id: int | None) -> bool:
    """Whether the channel's "CSAT survey" setting is on (a conversation without a channel: no)."""
    if channel_id is None:
        return False
    return bool(rows.dialect(conn).decode_bool(rows.scalar(conn, _OFFERS, (channel_id,))))


def survey(conn: Connection, survey_id: int) -> dict[str, Any] | None:
    found = rows.by_id(conn, csat_surveys, survey_id)
    return None if found is None else dict(found)


def survey_of_close(conn: Connection, conversation_id: int, closed_at: dt.datetime) -> int | None:
    params = (conversation_id, rows.dialect(conn).encode_time(closed_at))
    row = rows.select_one(conn, csat_surveys, "conversation_id = ? AND closed_at = ?", params)
    return None if row is None else int(row["id"])


def insert_survey(conn: Connection, conversation_id: int, closed_at: dt.datetime, at: dt.datetime) -> int:
    values = {"conversation_id": conversation_id, "closed_at": closed_at, "created_at": at}
    return rows.insert(conn, csat_surveys, values)


def rate(conn: Connection, survey_id: int, rating: int, comment: str | None, at: dt.datetime) -> bool:
    """Fill the survey's rating; False when it already had one (the row is not changed)."""
    values = {"rating": rating, "comment": comment, "rated_at": at}
    return rows.update(conn, csat_surveys, "id = ? AND rating IS NULL", (survey_id,), values) == 1


def ratings(conn: Connection, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's ratings, oldest first: what the inbox shows beside the thread."""
    c = csat_surveys.c
    query = (
        select(c.rating, c.comment, c.rated_at, c.closed_at)
        .where(c.conversation_id == conversation_id, c.rating.is_not(None))
        .order_by(c.rated_at)
    )
    return [dict(row) for row in conn.execute(query).mappings()]

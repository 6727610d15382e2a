"""The CSAT survey page a contact reaches from the link sent after a close (actions/csat.py): the
question, five choices and an optional comment, in plain HTML (no script needed); no login.

No CSRF token either: the signed token in the path is the form's authority. A forged cross-site
POST would have to carry a token that names a survey, which only the contact's message holds; it
could then only do what the link already lets its holder do, once (one rating per close)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from pydantic import BaseModel, ConfigDict

from frontdesk.actions.csat import rate_by_token, survey_of_token
from frontdesk.api.deps import Db
from frontdesk.domain.csat import MAX_COMMENT, QUESTION, SCORES
from frontdesk.domain.errors import Conflict, DomainError, NotFound

LABELS = {1: "Very unsatisfied", 2: "Unsatisfied", 3: "Neutral", 4: "Satisfied", 5: "Very satisfied"}
_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class RatingForm(BaseModel):
    """As posted: checked by the domain (domain/csat.py), so a bad value gets the page, not a 500."""

    model_config = ConfigDict(extra="ignore")

    rating: str | None = None
    comment: str | None = None


class SurveyPages(Controller):
    path = "/csat"
    include_in_schema = False
    opt = {"auth": "public"}

    @get("/{token:str}")
    async def survey(self, db: Db, token: FromPath[str]) -> Template:
        try:
            found = await db.read(lambda c: survey_of_token(c, token))
        except NotFound:
            return _page("unknown", 404)
        return _page("rated" if found["rating"] is not None else "ask", 200)

    @post("/{token:str}", status_code=200)
    async def rate(self, db: Db, token: FromPath[str], data: Annotated[RatingForm, _FORM]) -> Template:
        given = (data.rating or "").strip()
        rating: object = int(given) if given.isascii() and given.isdigit() and len(given) < 4 else given
        try:
            await db.write(lambda c: rate_by_token(c, token, rating, data.comment))
        except NotFound:
            return _page("unknown", 404)
        except Conflict:
            return _page("rated", 409)
        except DomainError as exc:  # InvalidRating: the form again, naming the field
            return _page("ask", 400, error=exc.message, field=exc.field, comment=data.comment or "")
        return _page("thanks", 200)


def _page(state: str, status: int, **context: Any) -> Template:
    return Template(
        "csat.html",
        context={
            "state": state,
            "question": QUESTION,
            "choices": [(score, LABELS[score]) for score in SCORES],
            "max_comment": MAX_COMMENT,
            **context,
        },
        status_code=status,
    )

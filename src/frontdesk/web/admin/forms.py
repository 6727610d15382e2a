"""What the admin pages share: the posted form, checked by the API's own body models (so the web
refuses exactly what the API refuses), and a refusal shown beside the form, naming the field."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.params import QueryParameter
from litestar.response import Template
from pydantic import BaseModel, ValidationError

from frontdesk.api.auth import Principal
from frontdesk.api.schemas import FORM
from frontdesk.domain.errors import DomainError, InvalidInput
from frontdesk.domain.model import Role

B = TypeVar("B", bound=BaseModel)
Saved = Annotated[str | None, QueryParameter(pattern="^(1|created)$")]  # after a save: what the notice says


async def posted(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The posted form without its blank fields: a blank optional setting means "none"."""
    form = await request.form()
    return FormMultiDict([(key, value) for key, value in form.multi_items() if str(value).strip()])


def checked(model: type[B], data: dict[str, Any]) -> B:
    """`data` as the API's `model` accepts it, or one InvalidInput naming every field at fault."""
    try:
        return model.model_validate(data, context=FORM)  # form values are text: "10" is the capacity 10
    except ValidationError as exc:
        errors = exc.errors()
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in errors)
        first = str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else None
        raise InvalidInput("invalid_form", problems, first) from None


def page(name: str, principal: Principal, error: DomainError | None = None, **context: Any) -> Template:
    """An admin page; with `error`, the form is shown again with its message, and the status says why."""
    status = error.status if error is not None else 200
    shown = {"error": error, "is_admin": principal.role.includes(Role.ADMIN), **context}
    return Template(f"admin/{name}.html", context=shown, status_code=status)


def lines(text: str | None) -> list[str]:
    """Values typed one per line or separated by commas."""
    return [part.strip() for part in (text or "").replace(",", "\n").splitlines() if part.strip()]

"""The request class of the app: JSON bodies are checked for nesting depth before they are decoded.

msgspec (and then pydantic) decode recursively: a body nested ~1,000 deep exhausts Python's stack
and would end as a 500. One check here, before Litestar decodes any JSON body, keeps every
endpoint — public ones first — at a 400 naming the problem."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request

from frontdesk.domain.errors import DomainError

MAX_JSON_DEPTH = 64  # workflow definitions, the deepest bodies we take, nest about 10 levels

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STEP = tuple(1 if byte in b"[{" else -1 if byte in b"]}" else 0 for byte in range(256))
_NOT_BRACKET = bytes(byte for byte in range(256) if not _STEP[byte])


class TooDeep(DomainError):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "too_deep", f"the request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels", "body"
        )


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text; brackets inside strings do not count.
    C-level passes only (a regex, translate, accumulate): a 1 MiB body takes milliseconds."""
    brackets = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_json_depth(body: bytes) -> None:
    few_brackets = body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH  # almost every body: no scan
    if not few_brackets and json_depth(body) > MAX_JSON_DEPTH:
        raise TooDeep()


class FrontdeskRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        check_json_depth(await self.body())
        return await super().json()

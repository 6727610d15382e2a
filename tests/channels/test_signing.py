"""The HMAC signature of API channels: the timestamp is read strictly, as the header's text."""

from __future__ import annotations

import pytest

from frontdesk.channels import signing

NOW = 1_800_000_000
BODY = b'{"hello": "world"}'


def verify_at(timestamp: str) -> str | None:
    return signing.verify("secret", timestamp, signing.signature("secret", timestamp, BODY), BODY, now=NOW)


def test_a_signature_with_a_current_timestamp_holds() -> None:
    assert verify_at(str(NOW)) is None


@pytest.mark.parametrize(
    "timestamp",
    ["\xb2", "\u0661\u0662\u0663", "1" * 4_301, "1" * 13, " 1800000000", "+1800000000", "1.8e9"],
    ids=["superscript two", "arabic-indic digits", "4301 digits", "13 digits", "a space", "a plus", "an exponent"],
)
def test_a_timestamp_that_is_not_ascii_unix_seconds_is_refused_with_a_reason(timestamp: str) -> None:
    assert verify_at(timestamp) == "x-frontdesk-timestamp must be Unix seconds: 1 to 12 ASCII digits"

"""What an SMS costs: GSM-7 160/153 septets a segment, UCS-2 70/67 code units, a character never
split across segments."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.domain.sms import Encoding, SmsCost, sms_cost

GSM_TEXT = st.text(alphabet="abcXYZ 0123@£$¥èé\nÄÖÑÜ§¿!?.,", max_size=700)
EXTENDED = st.text(alphabet="ab {}[]~^|€\\", max_size=700)
ANY_TEXT = st.text(max_size=400)


@pytest.mark.parametrize(
    ("text", "cost"),
    [
        ("", SmsCost(Encoding.GSM7, 0, 0, 160)),
        ("Hello", SmsCost(Encoding.GSM7, 5, 1, 160)),
        ("a" * 160, SmsCost(Encoding.GSM7, 160, 1, 160)),
        ("a" * 161, SmsCost(Encoding.GSM7, 161, 2, 153)),
        ("a" * 306, SmsCost(Encoding.GSM7, 306, 2, 153)),
        ("a" * 307, SmsCost(Encoding.GSM7, 307, 3, 153)),
        ("€" * 80, SmsCost(Encoding.GSM7, 160, 1, 160)),  # two septets each
        ("a" + "€" * 80, SmsCost(Encoding.GSM7, 161, 2, 153)),
        ("Olá", SmsCost(Encoding.UCS2, 3, 1, 70)),  # á is not in GSM-7
        ("ç" * 70, SmsCost(Encoding.UCS2, 70, 1, 70)),
        ("ç" * 71, SmsCost(Encoding.UCS2, 71, 2, 67)),
        ("👍" * 35, SmsCost(Encoding.UCS2, 70, 1, 70)),  # a surrogate pair each
        ("a" + "👍" * 34, SmsCost(Encoding.UCS2, 69, 1, 70)),
        ("a" + "👍" * 35, SmsCost(Encoding.UCS2, 71, 2, 67)),
        ("a" * 66 + "👍" * 34, SmsCost(Encoding.UCS2, 134, 3, 67)),  # no half pair in the first 67
    ],
)
def test_known_texts_cost_what_twilio_bills(text: str, cost: SmsCost) -> None:
    assert sms_cost(text) == cost


@given(GSM_TEXT)
def test_a_gsm_text_of_single_septets_takes_ceil_of_153(text: str) -> None:
    cost = sms_cost(text)

    assert cost.encoding is Encoding.GSM7 and cost.units == len(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert cost.segments == expected


@given(EXTENDED)
def test_an_extension_character_is_never_split_across_segments(text: str) -> None:
    cost = sms_cost(text)

    assert cost.encoding is Encoding.GSM7
    assert cost.units == len(text) + sum(ch not in "ab " for ch in text)
    if cost.units > 160:  # at least the septets over 153 a segment; at most one septet lost per segment
        assert math.ceil(cost.units / 153) <= cost.segments <= math.ceil(cost.units / 152)


@given(ANY_TEXT, ANY_TEXT)
def test_a_longer_text_never_costs_fewer_segments(text: str, more: str) -> None:
    assert sms_cost(text + more).segments >= sms_cost(text).segments


@given(ANY_TEXT)
def test_segments_hold_the_text_and_waste_at_most_a_unit_each(text: str) -> None:
    cost = sms_cost(text)

    assert cost.per_segment in ((160, 153) if cost.encoding is Encoding.GSM7 else (70, 67))
    assert cost.units <= cost.per_segment * cost.segments
    if cost.segments > 1:  # a character of two units left out of a full part wastes one
        assert cost.segments <= math.ceil(cost.units / (cost.per_segment - 1))
    assert (cost.segments == 0) == (text == "")

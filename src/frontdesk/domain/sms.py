"""What an SMS costs: its encoding and how many segments a text is sent (and billed) as.

GSM-7 (3GPP TS 23.038) carries 160 septets in one segment, 153 in each part of a longer message
(the rest holds the concatenation header); a character of the extension table (`€`, `{`, `^`, …)
takes two septets, which are never split across parts. A text with any other character goes as
UCS-2: 70 UTF-16 code units in one segment, 67 per part, a surrogate pair never split. Pure: the
inbox shows it under the reply box of an SMS conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"  # sent as ESC + a character: two septets
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsCost:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # what one segment holds at this length (160/153, 70/67)


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text) else Encoding.UCS2


def sms_cost(text: str) -> SmsCost:
    """How `text` goes out: its encoding, its size in that encoding and its segments (0 when empty)."""
    encoding = encoding_of(text)
    sizes = [_size(ch, encoding) for ch in text]
    single, part = (GSM_SINGLE, GSM_PART) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_PART)
    units = sum(sizes)
    if units <= single:
        return SmsCost(encoding, units, 1 if units else 0, single)
    return SmsCost(encoding, units, _parts(sizes, part), part)


def _size(ch: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if ch in GSM_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # outside the BMP: a surrogate pair


def _parts(sizes: list[int], capacity: int) -> int:
    """Parts filled in order, a character that does not fit whole starting the next part."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts

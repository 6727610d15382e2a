"""The reply's own text: quoted history and signatures cut in the formats of the common clients."""

from __future__ import annotations

import pytest

from frontdesk.channels.email_text import html_text, reply_text

GMAIL = """Thursday works.

On Tue, Dec 1, 2026 at 10:02 AM Acme Support <support@acme.example> wrote:

> When would you like to come in?
"""
GMAIL_WRAPPED = """Thursday works.

On Tue, Dec 1, 2026 at 10:02 AM Acme Support <
support@acme.example> wrote:
> When would you like to come in?
"""
OUTLOOK_RULE = """Thursday works.

Marc

________________________________
From: Acme Support <support@acme.example>
Sent: Tuesday, December 1, 2026 9:02 AM
To: Marc Dupont
Subject: Appointment

When would you like to come in?
"""
OUTLOOK_CLASSIC = """Thursday works.

-----Original Message-----
From: Acme Support <support@acme.example>
Sent: Tuesday, December 1, 2026 9:02 AM
Subject: Appointment

When would you like to come in?
"""
OUTLOOK_BARE_HEADERS = """Thursday works.

From: Acme Support <support@acme.example>
Date: Tuesday, 1 December 2026 at 09:02
To: Marc Dupont <marc@contoso.example>
Subject: Appointment

When would you like to come in?
"""
APPLE_MAIL = """Thursday works.

Sent from my iPhone

> On Dec 1, 2026, at 10:02, Acme Support <support@acme.example> wrote:
>
> When would you like to come in?
"""
THUNDERBIRD = """Thursday works.

-- {}
Jan Novak
+420 601 123 456

On 12/1/26 11:02 AM, Acme Support wrote:
> When would you like to come in?
""".format(" ")  # the delimiter is "-- ", its space kept
FRENCH_GMAIL = """Thursday works.

Le mar. 1 déc. 2026 à 10:02, Acme Support <support@acme.example> a écrit :
> When would you like to come in?
"""
OUTLOOK_MOBILE = """Thursday works.

Get Outlook for Android
________________________________
From: Acme Support
"""


@pytest.mark.parametrize(
    "text",
    [GMAIL, GMAIL_WRAPPED, OUTLOOK_RULE, OUTLOOK_CLASSIC, OUTLOOK_BARE_HEADERS, APPLE_MAIL, THUNDERBIRD, FRENCH_GMAIL],
    ids=[
        "gmail",
        "gmail wrapped attribution",
        "outlook web rule",
        "outlook original message",
        "outlook header block",
        "apple mail iphone",
        "thunderbird signature",
        "gmail in french",
    ],
)
def test_a_replys_quoted_history_and_signature_are_cut(text: str) -> None:
    assert reply_text(text).splitlines()[0] == "Thursday works."
    assert "When would you like" not in reply_text(text)
    assert "Novak" not in reply_text(text)
    assert "iPhone" not in reply_text(text)


def test_outlook_mobiles_get_outlook_line_is_a_signature() -> None:
    assert reply_text(OUTLOOK_MOBILE) == "Thursday works."


def test_lines_quoted_with_a_chevron_are_dropped_and_the_answers_between_them_kept() -> None:
    text = "> Which order?\n1042\n> And the size?\nLarge\n"

    assert reply_text(text) == "1042\nLarge"


def test_a_mail_that_is_only_a_quote_is_kept_whole() -> None:
    assert reply_text("> Which order?\n") == "> Which order?"


def test_a_message_mentioning_from_in_a_sentence_is_not_cut() -> None:
    text = "From: my side all is fine.\nSee you Thursday."

    assert reply_text(text) == text


def test_html_becomes_safe_text_without_scripts_styles_or_quoted_blocks() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><script>alert(1)</script>"
        "<p>Hello &amp; welcome</p><div>Line one<br>Line two</div>"
        '<div class="gmail_quote"><div>On Mon … wrote:</div><blockquote>old</blockquote></div>'
        "<blockquote>older</blockquote><p>&lt;b&gt;not bold&lt;/b&gt;</p></body></html>"
    )

    assert html_text(html) == "Hello & welcome\n\nLine one\nLine two\n\n<b>not bold</b>"

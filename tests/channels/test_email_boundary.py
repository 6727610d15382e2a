"""A multipart mail is parsed with its top-level boundary renamed to one name shared by all mails
(the parser compiles a regular expression per boundary: half of a mail's reading went to it).
Whatever the mail holds, that reading must be the one policy `default` makes of the mail as it
came: the same parts, the same bytes, the same message."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from frontdesk.channels import email_inbound
from frontdesk.channels.email_inbound import mail_of, message_of
from tests.channels.email_support import FIXTURES, fixture

PLAIN = BytesParser(policy=policy.default)
BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "


def parts(message: Message) -> list[object]:
    """Everything of the parsed tree but the boundaries' names."""
    found: list[object] = []
    for part in message.walk():
        params = [(key, value) for key, value in part.get_params(failobj=[]) if key.lower() != "boundary"]
        payload = None if part.is_multipart() else part.get_payload(decode=True)
        found.append((part.get_content_type(), params, part.get_filename(), payload, part.preamble, part.epilogue))
        found.append([type(defect).__name__ for defect in part.defects])
    return found


def same_reading(raw: bytes) -> None:
    ours, theirs = message_of(raw), PLAIN.parsebytes(raw)
    assert isinstance(theirs, EmailMessage)
    assert parts(ours) == parts(theirs)
    assert mail_of(ours, raw) == mail_of(theirs, raw)


@st.composite
def multipart_mails(draw: st.DrawFn) -> bytes:
    """A multipart mail as clients write them, and as they should not: any boundary (short, long,
    with spaces), quoted or not, folded or not, parts whose lines start with the boundary or hold
    it, a nested multipart (with the same boundary, even), CR, LF or CRLF line ends, a top-level
    type that is not multipart, and bytes cut out or put in."""
    eol = draw(st.sampled_from(["\r\n", "\r\n", "\r\n", "\n", "\r"]))
    boundary = draw(
        st.one_of(
            st.text(alphabet=BCHARS, min_size=1, max_size=72),
            st.text(alphabet=BCHARS.replace(" ", "").replace("?", ""), min_size=16, max_size=70),
            st.text(alphabet=BCHARS.replace(" ", "").replace("?", ""), min_size=16, max_size=70),
            st.sampled_from(["000000000000a1b2c3d4e5f6", "Apple-Mail=_9C7B7C5E-1234", "_000_DB9PR01MB1234abcd_"]),
        )
    )
    inner = draw(st.sampled_from([boundary, boundary + "x"] + ["inner-boundary-0123456789"] * 4))
    quoted = draw(st.booleans())
    value = f'"{boundary}"' if quoted else boundary
    fold = draw(st.sampled_from(["; ", ";" + eol + "\t", ";" + eol + " ", ";"]))
    kind = draw(st.sampled_from(["multipart/alternative", "multipart/mixed", "text/plain"]))
    name = draw(st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE"]))
    param = draw(st.sampled_from(["boundary", "BOUNDARY", "boundary "]))
    usual = st.sampled_from(["Hello there", "", "--", "-- ", "--" + boundary])
    lines = (
        usual
        | usual
        | st.sampled_from(
            [
                "Hello there",
                "--" + boundary,
                "--" + boundary + "--",
                "--" + boundary + " \t",
                "--" + boundary + "-- x",
                "--" + boundary + "x",
                "a --" + boundary,
                "",
                "--",
            ]
        )
    )
    body_parts = []
    for _ in range(draw(st.integers(0, 3))):
        text = eol.join(draw(st.lists(lines, max_size=4)))
        if draw(st.booleans()):
            nested = f"--{inner}{eol}{eol}{text}{eol}--{inner}--"
            body_parts.append(f"Content-Type: multipart/mixed; boundary={inner}{eol}{eol}{nested}")
        else:
            body_parts.append(f"Content-Type: text/plain; charset=utf-8{eol}{eol}{text}")
    body = "".join(f"--{boundary}{eol}{part}{eol}" for part in body_parts) + f"--{boundary}--{eol}"
    preamble = draw(st.sampled_from(["", "This is a multi-part message." + eol]))
    headers = [
        "From: Ada <ada@customers.example>",
        "Subject: Hi",
        "Message-ID: <m1@customers.example>",
        f"{name}: {kind}{fold}{param}={value}" + draw(st.sampled_from(["", "; charset=utf-8", "; x=1"])),
    ]
    raw = (eol.join(headers) + eol + eol + preamble + body).encode()
    if draw(st.integers(0, 3)) == 0:
        start = draw(st.integers(0, len(raw)))
        raw = raw[:start] + draw(st.binary(max_size=30)) + raw[start + draw(st.integers(0, 30)) :]
    return raw


@settings(max_examples=1000, deadline=None)
@given(multipart_mails())
@example(b'Content-Type: text/plain; boundary="abcdefghijklmnopqrst"\r\n\r\n--abcdefghijklmnopqrst\r\n')
@example(b"Content-Type: multipart/mixed; boundary=abcdefghijklmnopqrst\r\r--abcdefghijklmnopqrst\rhi\r")
def test_a_renamed_boundary_reads_as_the_mail_that_came(raw: bytes) -> None:
    same_reading(raw)


def test_the_common_clients_mails_read_as_they_came_and_multiparts_take_the_shared_boundary() -> None:
    """The fixtures (real clients' formats); the multipart ones are renamed, so that the property
    above cannot pass by never renaming."""
    renamed = set()
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = fixture(path.stem, message_id="x@y", sender="ada@customers.example")
        same_reading(raw)
        if message_of(raw).get_boundary() == email_inbound._SHARED:
            renamed.add(path.stem)
    assert {"gmail_reply", "bounce", "with_attachments"} <= renamed

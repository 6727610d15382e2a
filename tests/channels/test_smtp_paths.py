"""The SMTP receiver reads a plain `<local@domain>` path itself (aiosmtpd's reading is a sixth of
its CPU): whatever the command's argument, it must read exactly what aiosmtpd reads."""

from __future__ import annotations

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.smtp_receiver import _PLAIN_PATH, _Smtp

OURS, THEIRS = _Smtp(Sink()), SMTP(Sink())
TRICKY = ' \t<>@."()[]:;,\\=+-_aZ9é'


def reading(server: SMTP, argument: str) -> object:
    """What the server makes of the argument: the address and the rest, or the error it raises
    (aiosmtpd itself raises IndexError on a lone `"`)."""
    try:
        return server._getaddr(argument)
    except Exception as exc:
        return type(exc)


@given(
    st.one_of(
        st.from_regex(_PLAIN_PATH, fullmatch=True),
        st.text(alphabet=TRICKY, max_size=40),
        st.text(max_size=30).map(lambda text: f"<a@b.example>{text}"),
    )
)
def test_any_argument_is_read_as_aiosmtpd_reads_it(argument: str) -> None:
    assert reading(OURS, argument) == reading(THEIRS, argument)


def test_the_usual_paths_take_the_quick_reading_and_the_rest_aiosmtpd_s() -> None:
    usual = ["<ada@customers.example>", "<a.b+tag@x-y.example> SIZE=1234 BODY=8BITMIME"]
    assert all(_PLAIN_PATH.fullmatch(path) for path in usual)
    unusual = ['<"quoted"@x.example>', "<@route:a@b.example>", "<a@[192.0.2.1]>", "a@b.example", "<>", "<a@b> (c) X"]
    assert not any(_PLAIN_PATH.fullmatch(path) for path in unusual)
    for path in usual + unusual:
        assert OURS._getaddr(path) == THEIRS._getaddr(path)


def test_a_local_part_over_the_limit_is_refused_as_aiosmtpd_refuses_it() -> None:
    ours, theirs = _Smtp(Sink()), SMTP(Sink())
    ours.local_part_limit = theirs.local_part_limit = 8
    for path in ["<abcdefgh@x.example>", "<abcdefghi@x.example>"]:
        assert ours._getaddr(path) == theirs._getaddr(path)
    assert ours._getaddr("<abcdefghi@x.example>") == (None, None)

"""What a contact wrote in an e-mail, without what they did not: the quoted history mail clients
append under a reply, the signature, "Sent from my iPhone"; and HTML turned into plain text.

Pure functions on strings. The inbox shows the thread already, so a reply's quoted copy of it is
noise; when cutting would leave nothing (a mail that is only a quote), the text is kept whole.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A line that starts the quoted history, in the formats of the common clients:
_HISTORY = (
    re.compile(r"^On\b.{4,300}\bwrote:\s*$", re.I),  # Gmail, Apple Mail, Thunderbird (English)
    re.compile(r"^Le\b.{4,300}\ba écrit\s*:\s*$", re.I),  # the same in French
    re.compile(r"^Am\b.{4,300}\bschrieb\b.{0,200}:\s*$", re.I),  # and German
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.I),  # Outlook, classic
    re.compile(r"^_{20,}\s*$"),  # Outlook (web, new): a rule above a From:/Sent: block
    re.compile(r"^-{2,}\s*Forwarded message\s*-{2,}\s*$", re.I),  # Gmail's forward of the history
)
_HEADER_BLOCK = re.compile(r"^\*?(From|De|Von)\s*:\*?\s", re.I)  # Outlook's header block without a rule
_HEADER_FOLLOW = re.compile(r"^\*?(Sent|Date|Envoyé|Gesendet|To|Subject)\s*:", re.I)
_SIGNATURE = re.compile(r"^--\s?$")  # the "-- " delimiter (RFC 3676), also as clients trim it
_SENT_FROM = re.compile(
    r"^(Sent from my \w[\w ]{0,40}|Sent from (Outlook|Mail|Yahoo Mail)\b.{0,60}|Get Outlook for \w+.{0,20}"
    r"|Envoyé de mon \w[\w ]{0,40}|Von meinem \w[\w ]{0,40} gesendet)\s*$",
    re.I,
)


def reply_text(text: str) -> str:
    """The new part of a reply: up to the quoted history or the signature, `>` lines dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _ends_the_reply(line.strip(), lines[index + 1 : index + 3]):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    cut = "\n".join(kept).strip()
    return _squeeze(cut) if cut else text.strip()


def _ends_the_reply(line: str, after: list[str]) -> bool:
    if any(pattern.match(line) for pattern in _HISTORY) or _SIGNATURE.match(line) or _SENT_FROM.match(line):
        return True
    if _HEADER_BLOCK.match(line):
        return any(_HEADER_FOLLOW.match(next_line.strip()) for next_line in after)
    # Gmail wraps a long "On … <address>" before "wrote:": join it with the next line.
    return line.startswith("On ") and bool(after) and _HISTORY[0].match(f"{line} {after[0].strip()}") is not None


def _squeeze(text: str) -> str:
    """At most one blank line in a row (dropped quotes leave gaps)."""
    return re.sub(r"\n{3,}", "\n\n", text)


_SKIPPED = frozenset({"script", "style", "head", "title", "blockquote", "template"})
_BLOCKS = frozenset({"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"})


class _Text(HTMLParser):
    """Collects the text a reader sees: no scripts, styles or quoted blocks; blocks on their own lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipped: str | None = None  # the tag whose content is being skipped
        self.depth = 0  # how deep in it (the same tag nested)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipped is not None:
            self.depth += tag == self.skipped
        elif tag in _SKIPPED or _is_quote(attrs):
            self.skipped, self.depth = tag, 1
        elif tag == "br" or tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipped is None:
            self.parts.append("\n" if tag in _BLOCKS else "")
        elif tag == self.skipped:
            self.depth -= 1
            self.skipped = None if self.depth == 0 else self.skipped

    def handle_data(self, data: str) -> None:
        if self.skipped is None:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def _is_quote(attrs: list[tuple[str, str | None]]) -> bool:
    """Gmail's quoted history is a `div.gmail_quote` (its blockquote inside is skipped anyway)."""
    return any(name == "class" and value and "gmail_quote" in value for name, value in attrs)


def html_text(html: str) -> str:
    """The readable text of an HTML body: tags, scripts and styles gone, entities decoded."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return _squeeze("\n".join(lines)).strip()

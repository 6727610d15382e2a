"""Message templates: the pre-approved messages a channel may send outside its reply window
(WhatsApp's templates). A channel's config lists the ones it may use, each a name, a language and
how many body parameters it takes; a send names one and gives exactly that many texts.

Pure rules: reading the list from a channel's config, finding a template, checking a send, and
the readable text a template message shows in the thread."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from frontdesk.domain.errors import InvalidInput

NAME = re.compile(r"[a-z0-9_]{1,512}")  # Meta's rule for a template's name
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,8})?")  # en, en_US, pt_BR, zh_Hant_TW...
MAX_TEMPLATES, MAX_PARAMETERS, MAX_PARAMETER_TEXT = 100, 20, 1024


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    language: str
    parameters: int  # how many body parameters ({{1}}, {{2}}...) it takes

    def as_config(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "parameters": self.parameters}

    def label(self) -> str:
        return f"{self.name} ({self.language})"


def parse_templates(value: Any) -> list[MessageTemplate]:
    """A channel's `templates` setting, checked: a list of {name, language, parameters}, each
    (name, language) once. The first problem is refused naming the entry."""
    if not isinstance(value, list) or len(value) > MAX_TEMPLATES:
        raise InvalidInput("invalid_templates", f"templates: a list of at most {MAX_TEMPLATES} templates", "templates")
    found = [_template(entry, f"templates[{n}]") for n, entry in enumerate(value)]
    seen: set[tuple[str, str]] = set()
    for n, template in enumerate(found):
        key = (template.name, template.language)
        if key in seen:
            raise InvalidInput("invalid_templates", f"templates[{n}]: {template.label()} is listed twice", "templates")
        seen.add(key)
    return found


def _template(entry: Any, where: str) -> MessageTemplate:
    if not isinstance(entry, dict) or set(entry) - {"name", "language", "parameters"}:
        raise InvalidInput("invalid_templates", f"{where}: an object with name, language and parameters", "templates")
    name, language, parameters = entry.get("name"), entry.get("language"), entry.get("parameters", 0)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput("invalid_templates", f"{where}.name: lower-case letters, digits and _", "templates")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        raise InvalidInput("invalid_templates", f"{where}.language: a code such as en or en_US", "templates")
    if not isinstance(parameters, int) or isinstance(parameters, bool) or not 0 <= parameters <= MAX_PARAMETERS:
        raise InvalidInput("invalid_templates", f"{where}.parameters: 0 to {MAX_PARAMETERS}", "templates")
    return MessageTemplate(name, language, parameters)


def configured(config: dict[str, Any]) -> list[MessageTemplate]:
    """The templates a channel's (already checked) config lists."""
    return [MessageTemplate(t["name"], t["language"], t["parameters"]) for t in config.get("templates") or []]


class TemplateProblem(InvalidInput):
    """A send naming a template the channel does not list, or giving the wrong number of parameters."""


def problem(templates: Iterable[MessageTemplate], name: str, language: str, given: int) -> TemplateProblem | None:
    """Why sending `name` in `language` with `given` parameters is wrong; None when it is right."""
    available = list(templates)
    found = next((t for t in available if (t.name, t.language) == (name, language)), None)
    if found is None:
        known = ", ".join(t.label() for t in available) or "none"
        message = f"template {name} ({language}) is not configured (configured: {known})"
        return TemplateProblem("unknown_template", message, "name")
    if given != found.parameters:
        message = f"template {found.label()} takes {found.parameters} parameter(s), not {given}"
        return TemplateProblem("wrong_parameter_count", message, "parameters")
    return None


def check_send(templates: Iterable[MessageTemplate], name: str, language: str, parameters: Sequence[str]) -> None:
    """Refuse a send that names an unknown template, gives the wrong number of parameters or an
    empty one (Meta refuses an empty parameter)."""
    for n, text in enumerate(parameters):
        if not text.strip() or len(text) > MAX_PARAMETER_TEXT:
            message = f"parameters[{n}]: 1 to {MAX_PARAMETER_TEXT} characters, not blank"
            raise InvalidInput("invalid_parameter", message, "parameters")
    found = problem(templates, name, language, len(parameters))
    if found is not None:
        raise found


def thread_text(name: str, language: str, parameters: Sequence[str]) -> str:
    """What a template message shows in the thread (the provider renders the approved text)."""
    shown = " · ".join(parameters)
    return f"[template {name} ({language})]" + (f" {shown}" if shown else "")

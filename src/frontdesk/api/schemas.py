"""Request bodies, and the ids of paths and queries. Unknown keys are refused so a typo never
passes silently; ids are bounded (1 to 2^63-1) so that none reaches the database as an integer it
cannot hold, and body integers are strict: `true` is not contact 1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from litestar.params import PathParameter, QueryParameter
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
)

from frontdesk.domain.model import Availability, ChannelType, FieldType, Role

MAX_ID = 2**63 - 1  # the largest integer SQLite (and a PostgreSQL BIGINT) can hold
FORM = {"form": True}  # the validation context of web forms, whose values are all text


def _integer(value: Any, info: ValidationInfo) -> Any:
    """A JSON integer, not `true` (Python's 1) nor a numeric string; web forms send text, and say so."""
    if isinstance(value, bool) or (isinstance(value, str) and info.context != FORM):
        raise ValueError("must be an integer")
    return value


def _boolean(value: Any, info: ValidationInfo) -> Any:
    """A JSON boolean, not 0 or "yes" (which pydantic would take); web forms send text, and say so."""
    if not isinstance(value, bool) and info.context != FORM:
        raise ValueError("must be true or false")
    return value


Boolean = Annotated[bool, BeforeValidator(_boolean)]
# The bounds come before the validator, or pydantic's JSON schema writes them as "ge"/"le".
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_integer)]
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
Capacity = Annotated[int, Field(ge=0, le=1000), BeforeValidator(_integer)]

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=120)]


def never_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The published schema of a patch says what its validator does: its `never_null` keys may be
    left out, but not null."""
    for name in getattr(model, "never_null", ()):
        field = schema["properties"][model.model_fields[name].alias or name]
        options = [option for option in field.pop("anyOf", [field]) if option != {"type": "null"}]
        field.update(options[0])
        field.pop("default", None)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=never_null)


class Patch(Body):
    """A change: each key may be left out, and those in `never_null` may not be null (a channel, an
    agent, a team always has them). The published schema says the same (`never_null`)."""

    never_null: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.never_null:
            raise ValueError("may be left out, but not null")
        return value


class InboundContact(Body):
    external_id: Text200
    name: Annotated[str, Field(max_length=200)] | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class InboundText(Body):
    id: Text200
    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class InboundBody(Body):
    contact: InboundContact
    message: InboundText


Credential = Annotated[str, Field(min_length=1, max_length=1000, json_schema_extra={"writeOnly": True})]
# whatsapp's and telegram's, sealed and never returned
CREDENTIALS = (
    "access_token",
    "app_secret",
    "verify_token",
    "bot_token",
    "webhook_secret",
    "smtp_password",
    "auth_token",
    "imap_password",
    "oauth2_client_secret",
    "oauth2_refresh_token",
)
# Telegram's setWebhook secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -
WebhookSecret = Annotated[
    str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_-]+$", json_schema_extra={"writeOnly": True})
]
EmailAddress = Annotated[str, Field(min_length=3, max_length=320)]  # checked by the email adapter
SmtpSecurity = Literal["none", "starttls", "tls"]
Port = Annotated[int, Field(ge=1, le=65535), BeforeValidator(_integer)]
EMAIL_SETTINGS = (
    "inbound_address",
    "from_address",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    *("imap_host", "imap_port", "imap_security", "imap_username", "imap_mailbox", "imap_poll_seconds"),
    *("smtp_auth", "imap_auth", "oauth2_provider", "oauth2_tenant", "oauth2_token_url", "oauth2_client_id"),
    "oauth2_scope",
)
MailAuth = Literal["password", "oauth2"]
# Microsoft's refresh tokens run past a thousand characters
RefreshToken = Annotated[str, Field(min_length=1, max_length=4000, json_schema_extra={"writeOnly": True})]
PollSeconds = Annotated[int, Field(ge=1, le=3600), BeforeValidator(_integer)]
PhoneNumberId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")]
PageId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")]
TemplateName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
TWILIO_SETTINGS = ("account_sid", "from_number", "messaging_service_sid")
AccountSid = Annotated[str, Field(pattern=r"^AC[0-9a-fA-F]{32}$")]
ServiceSid = Annotated[str, Field(pattern=r"^MG[0-9a-fA-F]{32}$")]
PhoneNumber = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]  # E.164
TemplateLanguage = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")]


class ChannelTemplate(Body):
    """A template the channel may send (whatsapp): as Meta's console lists it once approved."""

    name: TemplateName
    language: TemplateLanguage
    parameters: Annotated[int, Field(ge=0, le=20), BeforeValidator(_integer)] = 0  # its body's {{1}}, {{2}}...


Templates = Annotated[list[ChannelTemplate], Field(max_length=100)]


class _ChannelSettings(Body):
    """What creating a channel and changing one share: each type's settings and write-only
    credentials (sealed at rest, never returned)."""

    # every type: after an agent or the API closes a conversation, the contact gets a survey link
    csat_survey: Boolean | None = None
    callback_url: HttpUrl | None = None  # api channels (a patch's null removes it)
    allowed_origins: list[Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=50)  # webchat
    # whatsapp: the phone number id, the templates it may send (a patch sends the whole list; [] removes them)
    phone_number_id: PhoneNumberId | None = None
    access_token: Credential | None = None
    app_secret: Credential | None = None
    verify_token: Credential | None = None
    templates: Templates | None = None
    # telegram
    bot_token: Credential | None = None
    webhook_secret: WebhookSecret | None = None
    # email: the inbound address (the SMTP receiver's RCPT TO), the outbound SMTP server, a write-only password
    inbound_address: EmailAddress | None = None
    from_address: EmailAddress | None = None
    smtp_host: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    smtp_port: Port | None = None
    smtp_security: SmtpSecurity | None = None
    smtp_username: Annotated[str, Field(max_length=320)] | None = None
    smtp_password: Credential | None = None
    # email, read by IMAP too when `imap_host` is set (a patch's null stops it): the server, the
    # mailbox (INBOX), how often it is looked at (IDLE also says when mail comes), a write-only password
    imap_host: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    imap_port: Port | None = None
    imap_security: SmtpSecurity | None = None
    imap_username: Annotated[str, Field(max_length=320)] | None = None
    imap_mailbox: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    imap_poll_seconds: PollSeconds | None = None
    imap_password: Credential | None = None
    # email: how SMTP and IMAP log in (password, the default, or oauth2: SASL XOAUTH2), and the one
    # OAuth2 grant both use: the provider (its token URL; custom: `oauth2_token_url`, https), the
    # app's client id, the scope (the provider's mail scopes by default) and write-only client
    # secret and refresh token
    smtp_auth: MailAuth | None = None
    imap_auth: MailAuth | None = None
    oauth2_provider: Literal["google", "microsoft", "custom"] | None = None
    oauth2_tenant: Annotated[str, Field(min_length=1, max_length=100)] | None = None  # microsoft: common by default
    oauth2_token_url: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    oauth2_client_id: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    oauth2_scope: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    oauth2_client_secret: Credential | None = None
    oauth2_refresh_token: RefreshToken | None = None
    # twilio: the account, its sender (a number, or a Messaging Service that picks one; a patch's null
    # removes one, the other must then send), the auth token
    account_sid: AccountSid | None = None
    from_number: PhoneNumber | None = None
    messaging_service_sid: ServiceSid | None = None
    auth_token: Credential | None = None
    # messenger, instagram: the Facebook Page's id (for Instagram, the Page linked to the account);
    # access_token (the page access token), app_secret and verify_token as whatsapp's
    page_id: PageId | None = None


class ChannelBody(_ChannelSettings):
    type: ChannelType
    name: Name


class ChannelPatch(_ChannelSettings, Patch):
    """Only the keys sent change: name, callback_url (api channels; null removes it), allowed_origins
    (webchat), phone_number_id and the write-only credentials (whatsapp, telegram)."""

    never_null: ClassVar = (
        "name",
        "csat_survey",
        "allowed_origins",
        "phone_number_id",
        "templates",
        "account_sid",
        "page_id",
        "smtp_auth",
        "imap_auth",
        "oauth2_provider",
        *CREDENTIALS,
    )

    name: Name | None = None


class ContactPatch(Body):
    name: Annotated[str, Field(max_length=200)] | None = None
    fields: dict[str, Any] | None = None
    owner_agent_id: Id | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)


class ContactFieldBody(Body):
    key: Annotated[str, Field(min_length=1, max_length=64)]
    label: Name
    type: FieldType
    options: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=list, max_length=100)


class OpenConversationBody(Body):
    contact_id: Id
    channel_id: Id | None = None


class AttachmentUrl(Body):
    """A file the server fetches (through the HTTP step's private-address guard) and attaches."""

    url: HttpUrl
    file_name: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class ReplyBody(Body):
    text: Annotated[str, Field(max_length=10_000)] = ""  # may be empty when attachments are sent
    attachments: Annotated[list[AttachmentUrl], Field(max_length=10)] = Field(default_factory=list)


class TemplateBody(Body):
    """A template message: a template the conversation's channel lists, and its body parameters."""

    name: TemplateName
    language: TemplateLanguage
    parameters: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(default_factory=list, max_length=20)


class CloseBody(Body):
    note: Annotated[str, Field(max_length=2000)] | None = None
    category: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class RatingBody(Body):
    """A CSAT rating of the conversation's last close: 1 (very unsatisfied) to 5 (very satisfied)."""

    rating: Annotated[int, Field(ge=1, le=5), BeforeValidator(_integer)]
    comment: Annotated[str, Field(max_length=1000)] | None = None


class AssignBody(Body):
    agent_id: Id | None = None
    team_id: Id | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class AgentBody(Body):
    name: Name
    email: Annotated[str, Field(min_length=3, max_length=254)]
    role: Role = Role.AGENT
    capacity: Capacity = 10
    skills: dict[str, str] = Field(default_factory=dict)
    availability: Availability = Availability.OFFLINE


class AgentPatch(Patch):
    """Only the keys sent change. None of them may be null: an agent always has each."""

    never_null: ClassVar = ("name", "role", "availability", "capacity", "skills", "active")

    name: Name | None = None
    role: Role | None = None
    availability: Availability | None = None
    capacity: Capacity | None = None
    skills: dict[str, str] | None = None
    active: bool | None = None  # false deactivates (admins only): no login, no token, no assignment


class TeamBody(Body):
    name: Name
    assignment: dict[str, Any] | None = None
    business_hours: dict[str, Any] | None = None
    away_message: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class TeamPatch(Patch):
    """Any of: name, assignment settings, business hours (null removes them), away message."""

    never_null: ClassVar = ("name",)

    name: Name | None = None
    assignment: dict[str, Any] | None = None
    business_hours: dict[str, Any] | None = None
    away_message: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class MemberBody(Body):
    capacity: Capacity | None = None


class TransferBody(Body):
    agent_id: Id | None = None
    team_id: Id | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class TokenBody(Body):
    name: Name
    role: Role
    agent_id: Id | None = None
    expires_at: dt.datetime | None = None  # checked by actions.tokens.check_expiry (aware, in the future)
    expires_in_days: int | None = None

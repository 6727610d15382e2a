"""All configuration, from environment variables prefixed FRONTDESK_ (see docs/operations.md)."""

from __future__ import annotations

import ssl
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerPart(StrEnum):
    """Which loops a worker process runs (`frontdesk worker --part`, frontdesk.worker)."""

    ALL = "all"
    ENGINE = "engine"  # all but the webhook sender
    WEBHOOKS = "webhooks"  # the webhook sender only


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    database_url: str = Field("sqlite:///var/frontdesk.db", description="SQLAlchemy URL of the database")
    host: str = Field("127.0.0.1", description="address the server listens on")
    port: int = Field(8000, description="port the server listens on (PORT is honoured too)")
    max_body_bytes: int = Field(1_048_576, description="largest accepted request body")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: str = Field("auto", description="json (one object a line), text, or auto: text on a terminal")
    token_cache_seconds: float = Field(5.0, description="how long a checked API token is trusted in memory")
    delivery_max_attempts: int = Field(8, description="outbound deliveries tried before a message is failed")
    delivery_timeout_seconds: float = Field(10.0, description="timeout of one outbound delivery request")
    delivery_backoff_seconds: float = Field(2.0, description="first retry delay; doubles each attempt")
    engine_lease_seconds: float = Field(
        5.0,
        ge=0.5,
        description="how long an engine worker holds the event-log partitions it no longer renews (a dead "
        "worker's are taken over after this); renewed about every second",
    )
    worker: Literal["process", "inline"] = Field(
        "process",
        description="serve: run the engine and delivery, and the webhook sender, in worker processes (ADR 0004), "
        "or inline in the server's",
    )
    secret_key: str | None = Field(
        None,
        description="Fernet key(s) sealing channel and named secrets at rest, comma-separated: the first seals, "
        "any opens; unset: a key file made once beside the database (var/frontdesk.key)",
        repr=False,
    )
    secret_rotation_grace_hours: float = Field(
        24.0, ge=0, description="after a channel secret is rotated, how long the old one still verifies inbound calls"
    )
    http_allow_private: bool = Field(
        False, description="let http_request steps call loopback/private addresses (tests, on-premise CRMs)"
    )
    media_dir: str = Field(
        "var/media", description="where attachments' content is kept on disk (content-addressed by SHA-256)"
    )
    media_max_bytes: int = Field(
        25 * 1024 * 1024, ge=1, description="largest attachment accepted: uploaded, or fetched from a provider or URL"
    )
    media_fetch_timeout_seconds: float = Field(
        30.0, gt=0, description="media fetcher: timeout of each request to a provider (a whole fetch gets twice this)"
    )
    media_fetch_max_attempts: int = Field(
        6, ge=1, description="media fetcher: attempts before an attachment that keeps failing is marked failed"
    )
    media_fetch_backoff_seconds: float = Field(
        5.0, ge=0, description="media fetcher: first retry delay, doubled each attempt (never under Retry-After)"
    )
    whatsapp_graph_base_url: str = Field(
        "https://graph.facebook.com", description="WhatsApp Cloud API: the Graph API's base URL (a fake in tests)"
    )
    whatsapp_api_version: str = Field("v21.0", description="WhatsApp Cloud API: the Graph API version sent to")
    meta_graph_base_url: str = Field(
        "https://graph.facebook.com", description="Messenger and Instagram: the Graph API's base URL (a fake in tests)"
    )
    meta_api_version: str = Field("v21.0", description="Messenger and Instagram: the Graph API version sent to")
    telegram_base_url: str = Field(
        "https://api.telegram.org", description="Telegram Bot API: its base URL (a fake in tests)"
    )
    webchat_token_days: int = Field(30, ge=1, description="web-chat visitor tokens expire this many days after issue")
    webchat_visitor_messages_per_minute: int = Field(
        20, ge=1, description="messages one web-chat visitor may send a minute (also the burst)"
    )
    webchat_address_requests_per_minute: int = Field(
        300, ge=1, description="web-chat requests of any kind one client address may make a minute (per process)"
    )
    webchat_address_sessions_per_hour: int = Field(
        60, ge=1, description="new web-chat sessions one client address may start an hour (per process)"
    )
    public_url: str | None = Field(
        None,
        description="Frontdesk's public base URL (https://frontdesk.example): the webhook URLs the admin pages show, "
        "Telegram's setWebhook registers and CSAT survey links start with; unset: the URL the request came to",
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP receiver: the address it listens on (e-mail channels)")
    smtp_port: int = Field(
        0, ge=0, le=65535, description="SMTP receiver: the port it listens on (in the server); 0 or unset: off"
    )
    smtp_tls_cert: str | None = Field(
        None,
        description="SMTP receiver: a PEM file of its certificate chain; with smtp_tls_key, STARTTLS is offered",
    )
    smtp_tls_key: str | None = Field(None, description="SMTP receiver: the PEM file of that certificate's private key")
    smtp_require_tls: bool = Field(
        False, description="SMTP receiver: refuse mail (530) from a client that did not STARTTLS first"
    )
    smtp_max_bytes: int = Field(
        36 * 1024 * 1024, ge=1024, description="SMTP receiver: the largest mail taken (SIZE), attachments included"
    )
    email_ca_file: str | None = Field(
        None,
        description="e-mail channels: a PEM file of CA certificates trusted, beside the system's, for the channels' "
        "SMTP and IMAP servers (a private CA); unset: the system's only",
    )
    twilio_base_url: str = Field(
        "https://api.twilio.com", description="Twilio: the REST API's base URL, also its media's host (a fake in tests)"
    )
    metrics_token: str | None = Field(
        None,
        description="the bearer token Prometheus scrapes /metrics with (Authorization: Bearer …); unset: metrics off",
        repr=False,
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="outgoing webhooks: timeout of one delivery to a subscriber (the whole request)"
    )
    webhook_backoff_seconds: float = Field(
        5.0, gt=0, description="outgoing webhooks: first retry delay; doubles each attempt (jittered, at most 6 h)"
    )
    webhook_disable_after_hours: float = Field(
        24.0, gt=0, description="outgoing webhooks: a subscription whose deliveries all failed this long is disabled"
    )
    reports_rollups: bool = Field(
        True,
        description="the worker folds the event log into the reports' rollups as it grows; false: the reports stand "
        "still (`frontdesk reports rebuild` catches up), and that fold's writes are saved",
    )
    time_zone: ZoneInfo = Field(
        ZoneInfo("UTC"), description="the workspace's IANA time zone (Europe/Paris): the days and weeks of the reports"
    )

    @model_validator(mode="after")
    def _smtp_tls_pair(self) -> Settings:
        """A receiver certificate without its key, or one that cannot be read, fails at start."""
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ValueError("FRONTDESK_SMTP_TLS_CERT and FRONTDESK_SMTP_TLS_KEY go together: set both or neither")
        if self.smtp_require_tls and not self.smtp_tls_cert:
            raise ValueError("FRONTDESK_SMTP_REQUIRE_TLS needs FRONTDESK_SMTP_TLS_CERT and FRONTDESK_SMTP_TLS_KEY")
        if self.smtp_tls_cert:
            try:
                smtp_server_context(self)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise ValueError(f"FRONTDESK_SMTP_TLS_CERT/KEY: not a readable certificate and key ({exc})") from None
        return self

    @field_validator("email_ca_file")
    @classmethod
    def _readable_ca_file(cls, path: str | None) -> str | None:
        """A CA file that cannot be read fails at start, not at the first mail."""
        if not path:
            return None
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise ValueError(f"not a readable PEM file of CA certificates: {path} ({exc})") from None
        return path


def smtp_server_context(settings: Settings) -> ssl.SSLContext | None:
    """The SMTP receiver's TLS context (its certificate and key), or None when it offers no STARTTLS."""
    if not (settings.smtp_tls_cert and settings.smtp_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    return context

"""Channel adapters: one module per provider, listed in the registry by the channel type they serve.

The contract is `channels.base.ChannelAdapter`. Adapters are pure (no database): ingest and
delivery look them up here by a channel row's `type`. Adding a provider is its module, one line
below, its test and its section in docs/channels.md.
"""

from frontdesk.channels import api, email, meta, telegram, twilio, webchat, whatsapp
from frontdesk.channels.base import ChannelAdapter
from frontdesk.domain.plugins import Registry

BUILTIN: tuple[ChannelAdapter, ...] = (
    api.ADAPTER,
    webchat.ADAPTER,
    whatsapp.ADAPTER,
    telegram.ADAPTER,
    email.ADAPTER,
    twilio.ADAPTER,
    meta.MESSENGER_ADAPTER,
    meta.INSTAGRAM_ADAPTER,
)
ADAPTERS: Registry[ChannelAdapter] = Registry("channel type", ((adapter.type, adapter) for adapter in BUILTIN))

__all__ = ["ADAPTERS", "ChannelAdapter"]

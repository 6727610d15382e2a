"""The admin pages for managers and admins, one module per concept: the overview, agents, teams,
channels, API tokens, outgoing webhooks. Each form is checked by the API's body model and saved by the API's action."""

from __future__ import annotations

from frontdesk.web.admin.agents import AgentPages
from frontdesk.web.admin.channels import ChannelPages
from frontdesk.web.admin.overview import AdminOverview
from frontdesk.web.admin.teams import TeamPages
from frontdesk.web.admin.tokens import TokenPages
from frontdesk.web.admin.webhooks import WebhookPages

ADMIN_PAGES = [AdminOverview, AgentPages, TeamPages, ChannelPages, TokenPages, WebhookPages]

"""Frontdesk: self-hosted inbound customer conversations (inbox, workflows, routing, assignment)."""

__version__ = "0.1.0"

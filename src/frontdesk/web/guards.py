"""Who may open a page: the route options the session guard reads (api.auth), one definition each."""

from __future__ import annotations

from frontdesk.domain.model import Role

SESSION = {"auth": "session"}  # anyone signed in
MANAGER = {"auth": "session", "role": Role.MANAGER}  # managers and admins
ADMIN = {"auth": "session", "role": Role.ADMIN}

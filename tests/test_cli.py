"""The `frontdesk` command, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from litestar.testing import TestClient

from tests.conftest import FRONTDESK


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": db_url}
    return subprocess.run([str(FRONTDESK), *args], env=env, capture_output=True, text=True, timeout=60)


def test_migrate_creates_a_fresh_database_and_is_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/fresh.db"

    assert _run(url, "migrate").returncode == 0
    assert _run(url, "migrate").returncode == 0
    assert (tmp_path / "nested/dir/fresh.db").exists()


def test_created_token_authenticates_with_its_role(db_url: str, client: TestClient) -> None:  # type: ignore[type-arg]
    result = _run(db_url, "tokens", "create", "--role", "manager", "--name", "ops")

    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("fd_")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    assert client.get("/api/v1/tokens", headers=headers).status_code == 403  # admin only


def test_token_for_an_unknown_agent_is_refused_clearly(db_url: str) -> None:
    result = _run(db_url, "tokens", "create", "--role", "agent", "--agent", "ghost@example.org")

    assert result.returncode == 2
    assert "ghost@example.org" in result.stderr


def test_demo_loads_once_and_prints_a_working_login(db_url: str, client: TestClient) -> None:  # type: ignore[type-arg]
    first = _run(db_url, "demo")
    second = _run(db_url, "demo")

    assert first.returncode == second.returncode == 0
    token = second.stdout.split("Admin login (API token, Alice Martin): ")[1].split()[0]
    agents = client.get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(agents) == 5
    assert {a["availability"] for a in agents} == {"online"}

"""The `frontdesk` command, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from litestar.testing import TestClient

from tests.conftest import FRONTDESK, LiveServer
from tests.databases import ON_POSTGRESQL, Databases, query, sqlite_only
from tests.factories import eventually


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": db_url}
    return subprocess.run([str(FRONTDESK), *args], env=env, capture_output=True, text=True, timeout=60)


def test_migrate_creates_a_fresh_database_and_is_repeatable(tmp_path: Path, template_db: Databases) -> None:
    url = template_db.empty(tmp_path / "nested/dir", "fresh")

    assert _run(url, "migrate").returncode == 0
    assert _run(url, "migrate").returncode == 0
    assert query(url, "SELECT count(*) FROM agents") == [(0,)]
    assert ON_POSTGRESQL or (tmp_path / "nested/dir/fresh.db").exists()


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
    assert "WhatsApp webhook (demo channel, not connected; app secret demo-app-secret):" in second.stdout
    assert second.stdout.count("/webhooks/whatsapp/3") == 1


def test_workflow_files_are_validated_imported_and_exported(db_url: str, tmp_path: Path) -> None:
    assert _run(db_url, "demo").returncode == 0
    good = tmp_path / "welcome.yaml"
    good.write_text(
        "name: Welcome\ntrigger: {event: conversation.opened}\n"
        "steps:\n  - {id: hi, type: send_message, text: 'Hello {{ contact.first_name }}', next: to_sales}\n"
        "  - {id: to_sales, type: assign, team: Sales}\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("team: Sales", "team: Nobody").replace("next: to_sales", "next: gone"))

    assert _run(db_url, "workflows", "validate", str(good)).stdout.strip().endswith("valid")
    refused = _run(db_url, "workflows", "validate", str(bad))
    assert refused.returncode == 1
    assert "step 'hi', next: target step 'gone' does not exist" in refused.stdout
    assert "step 'to_sales', team: team 'Nobody' does not exist" in refused.stdout
    assert _run(db_url, "workflows", "validate", "--offline", str(bad)).stdout.count("does not exist") == 1

    imported = _run(db_url, "workflows", "import", str(good), "--enable")
    assert imported.returncode == 0, imported.stderr
    assert "version 1 published, enabled" in imported.stdout
    exported = _run(db_url, "workflows", "export", "Welcome", "--version", "1", "--json")
    assert '"team": "Sales"' in exported.stdout
    assert _run(db_url, "workflows", "import", str(bad), "--publish").returncode == 1


def test_runs_show_prints_the_path_and_the_reasons(db_url: str, client: TestClient) -> None:  # type: ignore[type-arg]
    token = _run(db_url, "demo").stdout.split("Admin login (API token, Alice Martin): ")[1].split()[0]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"contact": {"external_id": "ada", "name": "Ada"}, "message": {"id": "m1", "text": "Hi"}}
    client.post("/api/v1/channels/1/inbound", json=body, headers=headers)
    run_id = eventually(lambda: client.get("/api/v1/runs", headers=headers).json(), "a run")[0]["id"]
    eventually(lambda: client.get(f"/api/v1/runs/{run_id}", headers=headers).json()["status"] == "waiting", "wait")

    shown = _run(db_url, "runs", "show", str(run_id))

    assert shown.returncode == 0, shown.stderr
    assert f"run {run_id} · workflow 1 v1 · waiting for reply" in shown.stdout
    assert "1. greet [send_message] → next" in shown.stdout
    assert "2. ask_topic [ask_question] waits for reply" in shown.stdout


def test_dry_run_of_a_file_prints_the_path_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    flow = tmp_path / "triage.yaml"
    flow.write_text(
        "name: Triage\ntrigger: {event: conversation.opened}\nsteps:\n"
        "  - {id: ask, type: ask_question, text: 'Topic?', save_to: vars.topic, next: route,\n"
        "     answer: {type: choice, options: [Sales, Support]}}\n"
        "  - id: route\n    type: branch\n    branches:\n"
        "      - {label: sales, when: {all: [{field: vars.topic, operator: equals, value: Sales}]}, next: to_sales}\n"
        "    else: to_support\n"
        "  - {id: to_sales, type: assign, team: Sales}\n  - {id: to_support, type: assign, team: Support}\n"
    )

    result = _run(db_url, "workflows", "dry-run", str(flow), "--answer", "sales")

    assert result.returncode == 0, result.stderr
    assert "ask [ask_question] → answered (answer 'Sales' accepted)" in result.stdout
    assert "route [branch] → sales (vars.topic equals 'Sales')" in result.stdout
    assert "ends completed" in result.stdout
    refused = _run(db_url, "workflows", "dry-run", str(flow), "--answer", "sales", "--nobody-available")
    assert "to_sales [assign] → nobody_available" in refused.stdout


def test_each_demo_login_revokes_the_previous_demo_token_and_the_log_holds_no_secret(
    db_url: str,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    first = _run(db_url, "demo")
    second = _run(db_url, "demo")

    def login(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
        token = result.stdout.split("Admin login (API token, Alice Martin): ")[1].split()[0]
        password = result.stdout.split("log in as admin@demo.frontdesk.local / ")[1].split()[0]
        return token, password

    (old_token, old_password), (token, password) = login(first), login(second)
    assert client.get("/api/v1/agents", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    assert client.get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    demo_tokens = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["revoked_at"] is None for t in demo_tokens if t["name"] == "demo login"] == [False, True]
    for secret in (old_token, old_password, token, password):
        assert secret not in first.stderr + second.stderr


def test_serve_demo_prints_the_login_on_the_terminal_and_never_in_its_log(live_server: LiveServer) -> None:
    assert live_server.token and live_server.password  # read from stdout

    log = live_server.log_path.read_text()
    assert live_server.token not in log
    assert live_server.password not in log


@sqlite_only("the key file beside the SQLite database (PostgreSQL has none beside it)")
def test_new_key_prints_a_key_that_frontdesk_accepts(tmp_path: Path) -> None:
    result = subprocess.run([str(FRONTDESK), "secrets", "new-key"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    env = {**os.environ, "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path}/f.db", "FRONTDESK_SECRET_KEY": key}
    migrated = subprocess.run([str(FRONTDESK), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    assert not (tmp_path / "f.key").exists()

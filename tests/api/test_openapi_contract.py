"""The API does what its OpenAPI document says: schemathesis, all checks, every operation, against
a real server process (`frontdesk serve --demo`, engine inline) with the demo's admin token.

Any request the document accepts must not get 400 (422 is the answer for data that fits the
document but breaks a rule it cannot state: tests/api/schemathesis.toml), any request it refuses
must be refused, every answer's status and body must be declared, never a 500."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

HERE = Path(__file__).parent
SCHEMATHESIS = Path(sys.executable).parent / "st"
EXAMPLES = 25  # per operation and phase
SEED = 11  # fixed, so that a failure is reproducible (`st run … --seed 11`)


@pytest.fixture
def server(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("FRONTDESK_WORKER", "inline")  # one process: the engine's work counts too
    found = LiveServer(db_url, tmp_path / "server.log")
    found.start()
    yield found  # type: ignore[misc]
    found.stop()


@pytest.mark.timeout(300)
def test_every_operation_does_what_the_openapi_document_says(server: LiveServer, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{server.base_url}/api/v1/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {server.token}",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path / "report"),
        "--no-color",
        # Revoking tokens may revoke the very token this run authenticates with, and every later
        # request would answer 401; test_bad_input and test_auth cover that operation.
        "--exclude-path",
        "/api/v1/tokens/{token_id}",
    ]

    result = subprocess.run(command, capture_output=True, text=True, timeout=280, cwd=tmp_path)

    failures = result.stdout.split("= FAILURES =", 1)[-1].split("= WARNINGS =", 1)[0]
    readable = "\n".join(line[:500] for line in failures.splitlines())  # bodies can be a megabyte
    assert result.returncode == 0, readable[-20_000:] + result.stderr[-5_000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated and generated[1] == generated[2], result.stdout[-3_000:]
    document = httpx.get(f"{server.base_url}/api/v1/schema/openapi.json").json()
    operations = sum(
        method in ("get", "put", "post", "patch", "delete")
        for path, item in document["paths"].items()
        if path != "/api/v1/tokens/{token_id}"
        for method in item
    )
    assert f"Tested: {operations}" in result.stdout  # every operation but the one excluded above

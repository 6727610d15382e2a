"""Shared fixtures: a real, migrated database per test (SQLite, or PostgreSQL in the second pass of
`make test`: tests/databases.py), the real app, a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from frontdesk import assignment
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests import pgcluster
from tests.databases import ON_POSTGRESQL, Databases
from tests.factories import Api, make_token
from tests.tls import Certificates, make_certificates

assignment.install()  # as every composition root does: tests write through actions/ directly
ROOT = Path(__file__).resolve().parents[1]
FRONTDESK = Path(sys.executable).parent / "frontdesk"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """Migrate once; each test gets a copy (running Alembic per test would dominate the suite)."""
    folder = tmp_path_factory.mktemp("template")
    if not ON_POSTGRESQL:
        yield Databases(folder, None)
        return
    with pgcluster.running() as server_url:
        databases = Databases(folder, server_url)
        yield databases
        databases.close()


@pytest.fixture
def db_url(template_db: Databases, tmp_path: Path) -> Iterator[str]:
    url = template_db.new(tmp_path)
    yield url
    template_db.drop(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.start()
    yield database
    database.close()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", media_dir=str(tmp_path / "media")
    )


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """The session's throw-away CA and its servers' certificates (tests/tls.py)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> Api:  # type: ignore[type-arg]
    return Api(client, make_token(client.app.state.db, "admin"))


# -- a real server process -------------------------------------------------------------------
def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def listening_pids(port: int) -> set[int]:
    """The processes holding a TCP socket listening on `port` (Linux: /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    pids.add(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return pids


def worker_pids(pid: int, part: str = "engine") -> list[int]:
    """The `frontdesk worker --part PART` processes under `pid` (`serve` starts the engine's and
    the webhook sender's, frontdesk.worker)."""
    return descendants(pid, f"worker\0--part\0{part}\0")


def descendants(pid: int, marker: str) -> list[int]:
    """The processes under `pid` whose command line (arguments joined by NUL) holds `marker`."""
    from bench.servers import process_tree

    found = []
    for member in process_tree(pid)[1:]:
        try:
            if marker.encode() in Path(f"/proc/{member}/cmdline").read_bytes():
                found.append(member)
        except OSError:  # it exited meanwhile
            continue
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`frontdesk serve --demo` in its own process, as `make run` starts it (`args`: more options)."""

    def __init__(self, db_url: str, log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.db_url = db_url
        self.args = args
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.email = self.password = ""

    def start(self) -> None:
        env = {
            # Unless a test says otherwise: media in the test's folder, and the demo's WhatsApp and
            # Telegram channels talking to nobody (a closed loopback port).
            "FRONTDESK_MEDIA_DIR": str(self.log_path.parent / "media"),
            "FRONTDESK_WHATSAPP_GRAPH_BASE_URL": "http://127.0.0.1:9",
            "FRONTDESK_TELEGRAM_BASE_URL": "http://127.0.0.1:9",
            **os.environ,
            "FRONTDESK_DATABASE_URL": self.db_url,
            "PORT": str(self.port),
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(FRONTDESK), "serve", "--demo", *self.args], stdout=subprocess.PIPE, stderr=log, env=env, cwd=ROOT
            )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode()
            if "log in as" in line:
                self.email, self.password = line.split("log in as ", 1)[1].strip().split(" / ")
            if "Admin login" in line:
                self.token = line.rsplit(" ", 1)[-1].strip()
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(db_url, tmp_path / "server.log")
    server.start()
    yield server
    server.stop()

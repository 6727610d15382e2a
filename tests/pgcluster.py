"""A throw-away PostgreSQL cluster from Debian's package, on a free loopback port.

The suite's PostgreSQL pass (`FRONTDESK_TEST_DATABASE=postgresql`) and the benchmarks start one:
`initdb` into a temporary folder (as the `postgres` user when running as root: the server
refuses to run as root), `pg_ctl start` listening on 127.0.0.1 only, trust authentication for
local connections. The tests' cluster trades durability for speed (`fsync=off`): it holds test
data that dies with it, and the crash tests kill Frontdesk's processes, never the database's.
The benchmarks' is `durable` (PostgreSQL's defaults: fsync on, synchronous commit), as SQLite
runs with `synchronous=FULL` beside it.
`FRONTDESK_TEST_POSTGRES_URL` points the tests at a server of your own instead (a superuser URL).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "postgres"


def binaries() -> Path | None:
    """The newest Debian PostgreSQL's bin folder, or the folder of `pg_ctl` on the PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One server in its own folder; `url(name)` for a database on it."""

    def __init__(self, root: Path, bin_dir: Path, *, durable: bool = False) -> None:
        self.root = root
        self.durable = durable
        self.data = root / "data"
        self.bin = bin_dir
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:  # initdb and postgres refuse root
            command = ["runuser", "-u", USER, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            user = pwd.getpwnam(USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
        settings = [
            "listen_addresses=127.0.0.1",
            f"port={self.port}",
            f"unix_socket_directories={self.root}",
            "max_connections=400",
            "shared_buffers=128MB",
            "max_pred_locks_per_transaction=256",
        ]
        if not self.durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        options = " ".join(f"-c {setting}" for setting in settings)
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int:
        """The postmaster's: its process tree is the whole server (for CPU accounting)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def running() -> Iterator[str]:
    """A superuser URL: `FRONTDESK_TEST_POSTGRES_URL`, or a new cluster's, stopped and deleted on exit."""
    given = os.environ.get("FRONTDESK_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (make test does it as root)")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="frontdesk-pg-")), bin_dir)
    try:
        cluster.start()
        yield cluster.url()
    finally:
        cluster.stop()

"""Start and stop the servers under test — (a) the bare baseline, (b) Frontdesk, (c) Node-RED —
each a fresh process on 127.0.0.1 with a fresh database, and read their CPU time and peak
memory from /proc (utime+stime of /proc/PID/stat, VmHWM of /proc/PID/status), summed over the
server and its child processes (Frontdesk's worker, ADR 0004)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_RED_DIR = BENCH / ".node-red"
NODE_RED_JS = NODE_RED_DIR / "node_modules" / "node-red" / "red.js"
NODE_RED_VERSION = "node-red@4.1.15"
FRONTDESK = Path(sys.executable).parent / "frontdesk"
TOKEN_LINE = re.compile(r"Admin login \(API token, Alice Martin\): (\S+)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Usage:
    """A process's CPU seconds so far and its peak resident memory (MiB)."""

    cpu_s: float
    peak_rss_mb: float
    rss_mb: float


def usage(pid: int) -> Usage:
    """Of `pid` and its descendants; peak memory is the sum of each process's own peak."""
    total = Usage(0.0, 0.0, 0.0)
    for member in process_tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:  # it exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total.cpu_s += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)
        total.peak_rss_mb += _status_kb(status, "VmHWM") / 1024
        total.rss_mb += _status_kb(status, "VmRSS") / 1024
    return total


def process_tree(pid: int) -> list[int]:
    """`pid` and every live process under it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        member = todo.pop()
        found.append(member)
        todo.extend(parents.get(member, []))
    return found


def _status_kb(status: str, key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass
class Server:
    """A running server process and what the bench needs to talk to it."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    workdir: Path
    token: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def usage(self) -> Usage:
        return usage(self.pid)

    def reset_peak_memory(self) -> bool:
        """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so a phase's peak is its own."""
        try:
            for member in process_tree(self.pid):
                Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def headers(self) -> dict[str, str]:
        base = {"content-type": "application/json"}
        return {**base, "authorization": f"Bearer {self.token}"} if self.token else base

    def api(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers(), timeout=timeout)

    def log_tail(self, lines: int = 20) -> str:
        path = self.workdir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(name: str, command: list[str], workdir: Path, port: int, env: dict[str, str] | None = None) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})}
    )
    log.close()
    return Server(name=name, process=process, base_url=f"http://127.0.0.1:{port}", workdir=workdir)


def _wait_ready(server: Server, path: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(server.base_url + path, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {path} within {seconds} s:\n{server.log_tail()}")


def start_baseline(workdir: Path) -> Server:
    """(a) bench/baseline_app.py on a fresh SQLite file."""
    port = free_port()
    command = [sys.executable, "-m", "bench.baseline_app", "--port", str(port), "--database", str(workdir / "b.db")]
    server = _spawn("bare", command, workdir, port)
    _wait_ready(server, "/healthz")
    return server


def frontdesk_command(src: Path | None, *args: str) -> tuple[list[str], dict[str, str]]:
    """The `frontdesk` command line and environment, of the work tree or of a snapshot's `src`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the token line must reach the log before the server blocks
    if src is None:
        return [str(FRONTDESK), *args], env
    env["PYTHONPATH"] = str(src)  # ahead of the editable install's path entry
    return [sys.executable, "-c", "from frontdesk.cli import app; app(prog_name='frontdesk')", *args], env


def start_frontdesk(
    workdir: Path,
    name: str = "frontdesk",
    src: Path | None = None,
    database: Path | str | None = None,
    settings: dict[str, str] | None = None,
    serve_args: tuple[str, ...] = (),
) -> Server:
    """(b) `frontdesk serve --demo` on a fresh SQLite file; the admin token is read from its output.
    `src`: run the `frontdesk` package found there (a snapshot of a commit) instead of the work tree.
    `database`: serve that existing database instead (scenario 5's data set; the demo is already in it),
    or, as a URL, that database (a new PostgreSQL database: bench/postgres.py).
    `settings`: more environment (`FRONTDESK_…`), e.g. a fake provider's base URL.
    `serve_args`: more options of `frontdesk serve` (`--processes 2 --workers 2`)."""
    port = free_port()
    command, env = frontdesk_command(src, "serve", "--demo", *serve_args)
    env.update(settings or {})
    url = database if isinstance(database, str) else f"sqlite:///{database or workdir / 'frontdesk.db'}"
    env["FRONTDESK_DATABASE_URL"] = url
    env["PORT"] = str(port)
    server = _spawn(name, command, workdir, port, env)
    _wait_ready(server, "/healthz", 600.0 if isinstance(database, Path) else 60.0)
    match = TOKEN_LINE.search((workdir / "server.log").read_text(errors="replace"))
    if match is None:
        server.stop()
        raise RuntimeError(f"no admin token in the output of frontdesk serve:\n{server.log_tail()}")
    server.token = match.group(1)
    return server


def snapshot(commit: str, into: Path) -> Path:
    """The `src/` of `commit`, extracted with `git archive` (read-only for the repository), so a
    bench can measure a commit while the work tree is being edited."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def node_red_installed() -> bool:
    return NODE_RED_JS.exists() and shutil.which("node") is not None


def install_node_red() -> None:
    """`npm install node-red@4` into bench/.node-red (gitignored), once."""
    if node_red_installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: Node-RED cannot be benchmarked")
    NODE_RED_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(NODE_RED_DIR), NODE_RED_VERSION, "--no-audit", "--no-fund"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start_node_red(workdir: Path) -> Server:
    """(c) Node-RED running bench/nodered/flow.json, editor and admin API disabled."""
    install_node_red()
    port = free_port()
    user_dir = workdir / "node-red"
    user_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(BENCH / "nodered" / "flow.json", user_dir / "flow.json")
    command = [
        shutil.which("node") or "node",
        str(NODE_RED_JS),
        "--settings",
        str(BENCH / "nodered" / "settings.js"),
        "--userDir",
        str(user_dir),
        "--port",
        str(port),
        "flow.json",
    ]
    server = _spawn("node-red", command, workdir, port, {"NODE_RED_HOST": "127.0.0.1"})
    _wait_ready(server, "/healthz")
    server.info["version"] = _node_red_version()
    return server


def _node_red_version() -> str:
    package = NODE_RED_DIR / "node_modules" / "node-red" / "package.json"
    return str(json.loads(package.read_text()).get("version", "?")) if package.exists() else "?"

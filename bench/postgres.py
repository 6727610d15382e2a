"""PostgreSQL for the benchmarks: one durable throw-away cluster per bench run (Debian's
package, fsync on as a production server runs it), a fresh database per phase, and the CPU the
server spent, so that a phase's CPU per conversation splits into Frontdesk's and PostgreSQL's."""

from __future__ import annotations

import atexit
import itertools
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from tests.pgcluster import Cluster, binaries

from bench.servers import CLOCK_TICKS, usage

_cluster: Cluster | None = None
_numbers = itertools.count(1)


def _running() -> Cluster:
    global _cluster
    if _cluster is None:
        bin_dir = binaries()
        if bin_dir is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql): no frontdesk-pg target")
        _cluster = Cluster(Path(tempfile.mkdtemp(prefix="frontdesk-bench-pg-")), bin_dir, durable=True)
        _cluster.start()
        atexit.register(_cluster.stop)
    return _cluster


def new_database() -> str:
    """The URL of a new, empty database (Frontdesk migrates it at start)."""
    cluster = _running()
    name = f"bench_{next(_numbers)}"
    engine = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return cluster.url(name)


def cpu_seconds() -> float:
    """CPU seconds of PostgreSQL so far: its live processes, and the backends that have exited
    (their time is in the postmaster's cutime and cstime once reaped). 0 before it started."""
    if _cluster is None:
        return 0.0
    stat = Path(f"/proc/{_cluster.pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime, cstime (fields 16, 17)
    return usage(_cluster.pid).cpu_s + reaped

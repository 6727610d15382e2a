"""`make test`'s two passes of the suite: on SQLite and on PostgreSQL, side by side.

Each pass is one pytest run, mostly on one core (the servers and workers it starts take the
rest), so the two run at once and the suite costs about one pass of wall time on two cores.
Each writes its own log under var/; the summaries (and any failure) are printed at the end, and
the exit status is non-zero if either pass failed. Without PostgreSQL on the machine (not root,
no apt-get) the second pass is skipped with that reason printed, never silently.

    python -m tests.passes [pytest arguments…]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests import pgcluster

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "var"
PROGRESS_SECONDS = 120


def _start(kind: str, args: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
    log = LOGS / f"test-{kind}.log"
    env = {**os.environ, "FRONTDESK_TEST_DATABASE": kind}
    command = [sys.executable, "-m", "pytest", f"--basetemp={LOGS / f'pytest-{kind}'}", "-p", "no:cacheprovider"]
    # Where the pass's time goes, to keep the suite under 30 min: the slowest in its log, every
    # test's time (setup and teardown included) in var/junit-KIND.xml.
    command += ["--durations=60", f"--junitxml={LOGS / f'junit-{kind}.xml'}"]
    with log.open("wb") as out:
        process = subprocess.Popen([*command, *args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return process, log


def _last_line(log: Path) -> str:
    lines = log.read_bytes().decode(errors="replace").strip().splitlines()
    return lines[-1][-100:] if lines else ""


def _report(kind: str, log: Path, status: int) -> None:
    text = log.read_text(errors="replace")
    print(f"\n===== {kind}: {'passed' if status == 0 else f'FAILED (exit {status})'} — {log} =====")
    failures = text.find("= FAILURES =")
    if status != 0 and failures >= 0:
        print(text[failures:])
    else:
        summary = text.rfind("short test summary info")
        print(text[summary - 30 :] if summary >= 0 else "\n".join(text.splitlines()[-15:]))


def main(args: list[str]) -> int:
    LOGS.mkdir(exist_ok=True)
    kinds = ["sqlite", "postgresql"]
    if pgcluster.binaries() is None and not os.environ.get("FRONTDESK_TEST_POSTGRES_URL"):
        print("PostgreSQL is not installed (apt-get install postgresql): the PostgreSQL pass is SKIPPED", flush=True)
        kinds = ["sqlite"]
    started = time.monotonic()
    running = {kind: _start(kind, args) for kind in kinds}
    statuses: dict[str, int] = {}
    while len(statuses) < len(running):
        time.sleep(2)
        for kind, (process, _) in running.items():
            if kind not in statuses and process.poll() is not None:
                statuses[kind] = process.returncode
        if int(time.monotonic() - started) % PROGRESS_SECONDS < 2:
            progress = " | ".join(f"{kind}: {_last_line(log)}" for kind, (_, log) in running.items())
            print(f"[{int(time.monotonic() - started)} s] {progress}", flush=True)
    for kind, (_, log) in running.items():
        _report(kind, log, statuses[kind])
    print(f"\nboth passes took {time.monotonic() - started:.0f} s", flush=True)
    return 0 if all(status == 0 for status in statuses.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

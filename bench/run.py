"""`make bench`: run the scenarios against fresh servers and write bench/results/<time>.json and .md.

python -m bench.run                      # default run (~10 minutes; scenario 10 builds its 1 M data set once)
BENCH_QUICK=1 python -m bench.run        # a few seconds per scenario
python -m bench.run --targets bare,frontdesk --scenarios 1 --seconds 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    inbox_list,
    mail_sms,
    media_downloads,
    outgoing_webhooks,
    queue_drain,
    reports_90d,
    waiting_runs,
    whatsapp_webhooks,
)
from bench.report import markdown
from bench.scenarios import TARGETS, BenchConfig, scenario1, scenario2
from bench.servers import ROOT, install_node_red, node_red_installed, snapshot
from bench.targets import evaluate

RESULTS = Path(__file__).resolve().parent / "results"
QUICK = BenchConfig(
    seconds=2.0,
    open_seconds=2.0,
    open_rate=500.0,
    s2_contacts=300,
    drain_timeout=60.0,
    queue_size=1000,
    waiting_runs=1000,
    inbox_contacts=10_000,
    inbox_iterations=50,
    inbox_seconds=2.0,
    report_conversations=20_000,
    report_requests=30,
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = _config(args)
    with tempfile.TemporaryDirectory(prefix="frontdesk-src-") as tmp:
        if args.commit:
            config.frontdesk_src = snapshot(args.commit, Path(tmp))
        report = run(config, args.targets.split(","), args.scenarios.split(","), quick=args.quick)
    report["meta"]["frontdesk_source"] = f"commit {args.commit}" if args.commit else "work tree"
    paths = write(report, Path(args.out))
    print(markdown(report))
    print("\n".join(f"written: {path}" for path in paths))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    parser.add_argument("--scenarios", default="1,2,3,4,5,6,7,8,9,10", help="comma-separated: 1 2 3 4 5 6 7 8 9 10")
    parser.add_argument("--seconds", type=float, help="duration of each closed- and open-loop phase")
    parser.add_argument("--rate", type=float, help="open-loop rate of scenario 1 (req/s)")
    parser.add_argument("--connections", type=int, help="closed-loop connections")
    parser.add_argument("--waiting-runs", type=int, help="scenario 3: runs left waiting on a question")
    parser.add_argument("--queue-size", type=int, help="scenario 4: conversations queued before agents come online")
    parser.add_argument(
        "--inbox-contacts", type=int, help="scenario 5: data set size (x1.2 conversations, x10 messages); 1000000"
    )
    parser.add_argument("--inbox-db", type=Path, help="scenario 5: build or reuse the data set at this path")
    parser.add_argument("--inbox-rebuild", action="store_true", help="scenario 5: build the data set even if it exists")
    parser.add_argument("--report-conversations", type=int, help="scenario 10: data set size (default 1000000)")
    parser.add_argument("--report-db", type=Path, help="scenario 10: build or reuse the data set at this path")
    parser.add_argument("--report-requests", type=int, help="scenario 10: reports of each case")
    parser.add_argument("--inbox-iterations", type=int, help="scenario 5: in-process calls per case")
    parser.add_argument("--inbox-rate", type=float, help="scenario 5: HTTP requests/s per phase")
    parser.add_argument(
        "--commit",
        default=os.environ.get("BENCH_COMMIT"),
        help="measure this commit's src/ (git archive) instead of the work tree, e.g. HEAD",
    )
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON and Markdown reports go")
    return parser


def _config(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig(**vars(QUICK)) if args.quick else BenchConfig()
    if args.seconds:
        config.seconds = config.open_seconds = args.seconds
    if args.rate:
        config.open_rate = args.rate
    if args.connections:
        config.connections = args.connections
    if args.waiting_runs:
        config.waiting_runs = args.waiting_runs
    if args.queue_size:
        config.queue_size = args.queue_size
    if args.inbox_contacts:
        config.inbox_contacts = args.inbox_contacts
    if args.seconds:
        config.inbox_seconds = args.seconds
    options = ("inbox_db", "inbox_iterations", "inbox_rate", "report_conversations", "report_db", "report_requests")
    for option in options:
        if getattr(args, option):
            setattr(config, option, getattr(args, option))
    config.inbox_rebuild = args.inbox_rebuild
    return config


def run(config: BenchConfig, targets: list[str], scenarios: list[str], *, quick: bool = False) -> dict[str, Any]:
    """Every requested phase on a fresh server; returns the report (meta, config, results, targets)."""
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    if "node-red" in targets and not node_red_installed():
        print("installing Node-RED with npm into bench/.node-red …", file=sys.stderr)
        install_node_red()
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(config).items()}
    report: dict[str, Any] = {"meta": _meta(quick), "config": settings, "results": {}}
    results = report["results"]
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        workdir = Path(tmp)
        phases: list[tuple[str, str, Callable[[], dict[str, Any]]]] = []
        for target in targets:
            if "1" in scenarios:
                phases.append(("s1_closed", target, lambda t=target: scenario1(t, config, workdir, "closed")))
                phases.append(("s1_open", target, lambda t=target: scenario1(t, config, workdir, "open")))
            if "2" in scenarios:
                phases.append(("s2", target, lambda t=target: scenario2(t, config, workdir)))
        if "4" in scenarios and "frontdesk" in targets:
            phases.append(("s4", "frontdesk", lambda: queue_drain.run(config, workdir)))
        if "3" in scenarios and "frontdesk" in targets:
            phases.append(("s3", "frontdesk", lambda: waiting_runs.run(config, workdir)))
        if "5" in scenarios and "frontdesk" in targets:
            phases.append(("s5", "frontdesk", lambda: inbox_list.run(config, workdir)))
        if "6" in scenarios and "frontdesk" in targets:
            phases.append(("s6", "frontdesk", lambda: whatsapp_webhooks.run(config, workdir)))
        if "7" in scenarios and "frontdesk" in targets:
            phases.append(("s7", "frontdesk", lambda: media_downloads.run(config, workdir)))
        if "8" in scenarios and "frontdesk" in targets:
            phases.append(("s8", "frontdesk", lambda: mail_sms.run(config, workdir)))
        if "9" in scenarios and "frontdesk" in targets:
            phases.append(("s9", "frontdesk", lambda: outgoing_webhooks.run(config, workdir)))
        if "10" in scenarios and "frontdesk" in targets:
            phases.append(("s10", "frontdesk", lambda: reports_90d.run(config, workdir)))
        for key, target, phase in phases:
            print(f"{key} {target} …", file=sys.stderr, flush=True)
            outcome = phase()
            if key in ("s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10"):
                results[key] = outcome
            else:
                results.setdefault(key, {})[target] = outcome
            _progress(key, target, outcome)
    report["targets"] = evaluate(results)
    return report


def _progress(key: str, target: str, outcome: dict[str, Any]) -> None:
    load = outcome.get("load", {})
    line = f"  {key} {target}: {load.get('throughput', '')} req/s, latency {load.get('latency_ms', '')}"
    if "end_to_end" in outcome:
        e2e = outcome["end_to_end"]
        line += f"; assigned {e2e['assigned']}/{e2e['conversations']} at {e2e['throughput']}/s"
    print(line if load else f"  {key}: {json.dumps(outcome)[:400]}", file=sys.stderr, flush=True)


def _meta(quick: bool) -> dict[str, Any]:
    node = shutil.which("node")
    return {
        "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if quick else "default",
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "node": _output([node, "--version"]) if node else None,
        "node_red": _node_red_version(),
        "commit": _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _node_red_version() -> str | None:
    package = ROOT / "bench" / ".node-red" / "node_modules" / "node-red" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.exists() else None


def _output(command: list[str]) -> str | None:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def write(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = report["meta"]["started_at"].replace(":", "").replace("-", "")
    if report["meta"]["mode"] == "quick":
        stem += "-quick"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(markdown(report) + "\n")
    return [json_path, md_path]


if __name__ == "__main__":
    raise SystemExit(main())

"""Scenario 7: text ingest through signed WhatsApp webhooks while inbound media downloads are in
flight, beside the same text load with none, back to back in the same run on fresh servers.

Both servers point their Graph API at a slow fake on 127.0.0.1 (bench/slow_graph.py) and have the
same WhatsApp channels (as many as the media fetcher's bounds need to fill its global one), with
workflows off. Phase (b) first posts image webhooks spread over those channels, so the worker's
media fetcher has more pending attachments than it may download at once; once its downloads are
trickling, the text load runs. The ratio of new conversations/s, (b) ÷ (a), is the issue's bar
(≥ 0.8x); the report says how many downloads were open at the fake and how many attachments were
still pending in the database during the measure."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from bench import frontdesk_setup as fd
from bench.loadgen import closed_loop
from bench.scenarios import BenchConfig, measured
from bench.servers import Server, start_frontdesk
from bench.slow_graph import SlowGraph
from bench.whatsapp_webhooks import counter, create_whatsapp_channel, new_contact_webhook, signed_webhook
from frontdesk.media_fetcher import IN_FLIGHT, PER_CHANNEL


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """The text load alone, then with the downloads in flight; their ratio of new conversations/s,
    and of the server CPU each conversation cost (steadier on a machine shared with others)."""
    graph = SlowGraph().start()
    try:
        quiet = phase("quiet", config, workdir, graph, 0)
        busy = phase("media", config, workdir, graph, config.media_images)
    finally:
        graph.stop()
    ratio = busy["opened_per_s"] / quiet["opened_per_s"] if quiet["opened_per_s"] else None
    cpu = (quiet["server_cpu_ms_per_conversation"], busy["server_cpu_ms_per_conversation"])
    cpu_ratio = cpu[0] / cpu[1] if cpu[0] and cpu[1] else None
    return {
        "quiet": quiet,
        "media": busy,
        "fetcher_bound": {"in_flight": IN_FLIGHT, "per_channel": PER_CHANNEL},
        "ratio": None if ratio is None else round(ratio, 3),
        "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 3),  # (a)'s CPU ÷ (b)'s, per conversation
    }


def phase(name: str, config: BenchConfig, workdir: Path, graph: SlowGraph, images: int) -> dict[str, Any]:
    """One closed loop of new contacts' text webhooks on a fresh server, after `images` image webhooks."""
    settings = {"FRONTDESK_WHATSAPP_GRAPH_BASE_URL": graph.base_url}
    server = start_frontdesk(workdir / f"s7-{name}", "frontdesk-nowf", config.frontdesk_src, settings=settings)
    try:
        with server.api() as api:
            fd.disable_workflows(api)
            paths = [f"/webhooks/whatsapp/{create_whatsapp_channel(api)}" for _ in range(IN_FLIGHT // PER_CHANNEL)]
            _post_images(api, paths, images)
        downloads = _wait_for_downloads(graph, min(images, IN_FLIGHT))
        return {**_measure(server, config, paths[0], graph), "downloads_open_before": downloads}
    finally:
        server.stop()


def _post_images(api: httpx.Client, paths: list[str], images: int) -> None:
    """`images` new contacts' photos, round robin over the channels (a webhook each, as Meta sends)."""
    for index in range(images):
        image = {"id": f"bench-media-{index}", "mime_type": "image/jpeg"}
        message = {"id": f"wamid.bench-image-{index}", "type": "image", "image": image}
        request = signed_webhook(paths[index % len(paths)], f"7{index:08d}", message)
        response = api.post(request.path, content=request.body, headers=request.headers)
        if response.status_code != 200:
            raise RuntimeError(f"posting image webhook {index}: {response.status_code} {response.text}")


def _wait_for_downloads(graph: SlowGraph, expected: int, seconds: float = 15.0) -> int:
    """Until the fetcher has `expected` downloads open at the fake (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while graph.counts()["open"] < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return graph.counts()["open"]


def _measure(server: Server, config: BenchConfig, path: str, graph: SlowGraph) -> dict[str, Any]:
    """The text load, with the fake's open downloads sampled and the pending attachments counted."""
    database = server.workdir / "frontdesk.db"
    pending_before, before = _pending(database), graph.counts()
    samples: list[int] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(graph, samples, done), daemon=True)
    sampler.start()
    opened = [0]
    load = closed_loop(
        server.base_url,
        new_contact_webhook(path, 8),
        connections=config.connections,
        duration=config.seconds,
        on_response=counter(opened, "messages"),
    )
    try:
        result, usage = measured(server, lambda: load)
    finally:
        done.set()
        sampler.join()
    after, seconds = graph.counts(), result.duration_s
    return {
        "load": result.summary(),
        "opened": opened[0],
        "opened_per_s": round(opened[0] / seconds, 1) if seconds else 0.0,
        "server_cpu_ms_per_conversation": round(usage["server_cpu_s"] * 1000 / opened[0], 3) if opened[0] else None,
        "downloads_open": {"min": min(samples, default=0), "max": max(samples, default=0), "samples": len(samples)},
        "downloads_finished": after["finished"] - before["finished"],
        "attachments_pending": {"before": pending_before, "after": _pending(database)},
        **usage,
    }


def _sample(graph: SlowGraph, samples: list[int], done: threading.Event) -> None:
    while not done.wait(0.1):
        samples.append(graph.counts()["open"])


def _pending(database: Path) -> int:
    """Attachments not fetched yet (leased ones included: a lease keeps them pending)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
        return int(conn.execute("SELECT count(*) FROM attachments WHERE state = 'pending'").fetchone()[0])

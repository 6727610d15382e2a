"""Draws a workflow as SVG, by our own code: steps as boxes laid out top to bottom by distance
from the start, outcomes as labelled arrows. Problems, a run's path and the funnel's figures
(`Notes`) are marked on the boxes. Every text is escaped; the SVG is built from strings we control."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from frontdesk.steps import STEP_TYPES

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 190, 46, 40, 70, 20
NOTE_H = 15  # a line of figures under a box's type


@dataclass(frozen=True)
class Notes:
    """Figures written on the drawing (the workflow funnel): lines in each step's box, a count
    after each outcome's label, and the steps where runs were lost (drawn as alerts)."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (step id, outcome label) -> runs
    alerts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Edge:
    source: str
    label: str
    target: str


def graph(definition: Any) -> tuple[list[dict[str, Any]], list[Edge], str | None]:
    """Steps (raw dicts, even invalid ones), their edges and the start, read leniently: a draft
    may be broken and must still be drawn."""
    raw = definition.get("steps") if isinstance(definition, dict) else None
    steps = [s for s in raw if isinstance(s, dict) and isinstance(s.get("id"), str)] if isinstance(raw, list) else []
    ids = {s["id"] for s in steps}
    edges = []
    for step in steps:
        for label, target in _targets(step).items():
            if isinstance(target, str):
                edges.append(Edge(step["id"], label, target if target in ids else f"?{target}"))
    start = definition.get("start") if isinstance(definition, dict) else None
    return steps, edges, start if start in ids else (steps[0]["id"] if steps else None)


def _targets(step: dict[str, Any]) -> dict[str, Any]:
    kind = str(step.get("type"))
    if kind in STEP_TYPES:
        try:
            return STEP_TYPES[kind].config.model_validate(step).targets()
        except Exception:  # an invalid step: fall back to the fields that look like targets
            pass
    found = {k: v for k, v in step.items() if k == "next" or k.startswith("on_")}
    if step.get("type") == "branch":
        for i, branch in enumerate(step.get("branches") or []):
            if isinstance(branch, dict):
                found[str(branch.get("label") or f"branch {i + 1}")] = branch.get("next")
        found["else"] = step.get("else")
    return found


def layout(steps: list[dict[str, Any]], edges: list[Edge], start: str | None) -> dict[str, tuple[int, int]]:
    """Layer = distance from the start (unreachable steps go last); position = order within it."""
    layer: dict[str, int] = {}
    if start is not None:
        layer[start] = 0
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for edge in edges:
                if edge.source == current and edge.target not in layer and not edge.target.startswith("?"):
                    layer[edge.target] = layer[current] + 1
                    queue.append(edge.target)
    last = max(layer.values(), default=-1) + 1
    for step in steps:
        layer.setdefault(step["id"], last)
    rows: dict[int, list[str]] = {}
    for step in steps:
        rows.setdefault(layer[step["id"]], []).append(step["id"])
    return {sid: (col, row) for row, ids in rows.items() for col, sid in enumerate(ids)}


STYLE = (
    "<style>"
    ".step rect{fill:#fff;stroke:#5b6475;stroke-width:1.5}"
    ".step.visited rect{fill:#e8f0fc;stroke:#1f5fbf}"
    ".step.current rect{stroke-width:3}"
    ".step.problem rect{fill:#fde8e8;stroke:#b3261e;stroke-width:2.5}"
    ".step.alert rect{fill:#fff4e0;stroke:#a15c00;stroke-width:2.5}"
    ".step-note{font:12px system-ui,sans-serif;fill:#1d2330}"
    ".step-id{font:600 13px system-ui,sans-serif;fill:#1d2330}"
    ".step-type{font:12px system-ui,sans-serif;fill:#5b6475}"
    ".edge{fill:none;stroke:#8a93a5;stroke-width:1.5}"
    ".edge.taken{stroke:#1f5fbf;stroke-width:3}"
    ".edge-label{font:11px system-ui,sans-serif;fill:#3d4556}"
    "marker path{fill:#8a93a5}"
    "</style>"
)


def render(
    definition: Any,
    problems: dict[str, list[str]] | None = None,
    path: list[str] | None = None,
    notes: Notes | None = None,
) -> Markup:
    steps, edges, start = graph(definition)
    if not steps:
        return Markup('<p class="empty">No steps to draw yet.</p>')
    notes = notes or Notes()
    box_h = BOX_H + NOTE_H * max((len(lines) for lines in notes.lines.values()), default=0)
    places = layout(steps, edges, start)
    problems = problems or {}
    visited = set(path or [])
    taken = set(zip(path or [], (path or [])[1:], strict=False))
    merged: dict[tuple[str, str], list[str]] = {}
    for edge in edges:
        if edge.target in places:
            merged.setdefault((edge.source, edge.target), []).append(edge.label)
    columns = max(c for c, _ in places.values()) + 1
    backs = [key for key in merged if places[key[1]][1] <= places[key[0]][1]]
    lanes = {key: i for i, key in enumerate(backs)}
    width = columns * (BOX_W + GAP_X) + MARGIN * 2 + 14 * len(backs)
    height = (max(r for _, r in places.values()) + 1) * (box_h + GAP_Y) + MARGIN * 2

    def corner(step_id: str) -> tuple[int, int]:
        col, row = places[step_id]
        return MARGIN + col * (BOX_W + GAP_X), MARGIN + row * (box_h + GAP_Y)

    def label(source: str, labels: list[str]) -> str:
        if not notes.counts:
            return ", ".join(labels)
        return ", ".join(f"{name} ({notes.counts.get((source, name), 0)})" for name in labels)

    parts = [
        f'<svg class="flow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Workflow diagram">',
        STYLE,
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    for (source, target), labels in merged.items():
        x1, y1 = corner(source)
        x2, y2 = corner(target)
        css = "edge taken" if (source, target) in taken else "edge"
        lx: float
        ly: float
        if (source, target) in lanes:  # back or sideways: around the right of the drawing, in its own lane
            lane = MARGIN + columns * (BOX_W + GAP_X) + 14 * lanes[(source, target)]
            sy, ty = y1 + box_h / 2 + 6, y2 + box_h / 2 - 6
            d = f"M{x1 + BOX_W},{sy} L{lane},{sy} L{lane},{ty} L{x2 + BOX_W},{ty}"
            lx, ly = x1 + BOX_W + 6, sy - 4
        else:
            sx, sy, tx, ty = x1 + BOX_W / 2, y1 + box_h, x2 + BOX_W / 2, y2
            d = f"M{sx},{sy} C{sx},{sy + GAP_Y / 2} {tx},{ty - GAP_Y / 2} {tx},{ty}"
            lx, ly = (sx + tx) / 2 + 4, (sy + ty) / 2
        parts.append(f'<path class="{css}" d="{d}" marker-end="url(#arrow)"/>')
        parts.append(f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}">{escape(label(source, labels))}</text>')
    for step in steps:
        parts.append(
            _box(
                step,
                corner(step["id"]),
                box_h,
                problems.get(step["id"], []),
                step["id"] in visited,
                bool(path) and step["id"] == (path or [""])[-1],
                notes.lines.get(step["id"], []),
                step["id"] in notes.alerts,
            )
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _box(
    step: dict[str, Any],
    at: tuple[int, int],
    height: int,
    problems: list[str],
    visited: bool,
    current: bool,
    lines: list[str],
    alert: bool,
) -> str:
    x, y = at
    flags = ["problem"] * bool(problems) + ["visited"] * visited + ["current"] * current + ["alert"] * alert
    css = " ".join(["step", *flags])
    title = "; ".join(problems) or str(step.get("label") or "")
    return (
        f'<g class="{css}" data-step="{escape(step["id"])}">'
        + (f"<title>{escape(title)}</title>" if title else "")
        + f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{height}" rx="6"/>'
        + f'<text x="{x + 10}" y="{y + 19}" class="step-id">{escape(step["id"])}</text>'
        + f'<text x="{x + 10}" y="{y + 36}" class="step-type">{escape(str(step.get("type")))}</text>'
        + "".join(
            f'<text x="{x + 10}" y="{y + 36 + NOTE_H * (i + 1)}" class="step-note">{escape(line)}</text>'
            for i, line in enumerate(lines)
        )
        + "</g>"
    )

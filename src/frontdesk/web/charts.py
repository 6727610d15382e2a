"""The geometry of the reports page's charts, drawn as inline SVG by its template: numbers here,
markup there, so every label goes through the template's escaping and no library draws for us."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

WIDTH, HEIGHT, AXIS = 640, 200, 20  # the drawing's size in SVG units; the bottom band holds labels
ROW = 22  # a horizontal bar's height, its gap included


@dataclasses.dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # shown as the bar's <title> and, when there is room, under or beside it
    series: str  # opened / closed: the bar's class


@dataclasses.dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    top: int  # the largest value, written on the axis


def columns(points: Sequence[Mapping[str, object]], keys: Sequence[str]) -> Chart:
    """A group of vertical bars per point (one per key: opened, closed), scaled to the largest."""
    top = max((int(str(p[k])) for p in points for k in keys), default=0)
    slot = WIDTH / max(len(points), 1)
    bar = slot * 0.8 / len(keys)
    found = []
    for i, point in enumerate(points):
        for j, key in enumerate(keys):
            value = int(str(point[key]))
            height = (HEIGHT - AXIS) * value / top if top else 0
            x = i * slot + slot * 0.1 + j * bar
            label = f"{point['start']} {key}: {value}"
            found.append(
                Bar(round(x, 2), round(HEIGHT - AXIS - height, 2), round(bar, 2), round(height, 2), value, label, key)
            )
    return Chart(found, WIDTH, HEIGHT, top)


def rows(items: Sequence[tuple[str, int]]) -> Chart:
    """A horizontal bar per (label, value), the longest scaled to half the drawing's width."""
    top = max((value for _, value in items), default=0)
    room = WIDTH * 0.5  # and 0.1 for the value written after the bar
    found = [
        Bar(WIDTH * 0.4, i * ROW, round(room * value / top, 2) if top else 0, ROW - 4, value, label, "opened")
        for i, (label, value) in enumerate(items)
    ]
    return Chart(found, WIDTH, max(len(items), 1) * ROW, top)

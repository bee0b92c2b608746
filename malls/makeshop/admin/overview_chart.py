"""The overview's 30-day line chart as plain geometry for a server-rendered SVG.

No charting script: the template draws polylines and labels from these numbers, and
a table beside it carries the same numbers for screen readers. Only presentation
attributes and classes are used, which the Content-Security-Policy allows (inline
``style`` is not).
"""

from dataclasses import dataclass

from malls.makeshop.admin import overview

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 30
X_LABEL_EVERY = 5  # days


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    day: object


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge (the zero line)
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


Y_STEPS = 4  # grid lines above zero


def axis_step(peak: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... whose ``Y_STEPS`` steps reach ``peak``."""
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if scale * factor * Y_STEPS >= peak:
                return scale * factor
        scale *= 10


def line_chart(days: list[overview.Day]) -> Chart:
    """Place each series' daily values on a ``WIDTH`` x ``HEIGHT`` canvas."""
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    step = axis_step(
        max((day.value(series) for day in days for series in overview.SERIES), default=0)
    )
    top_value = step * Y_STEPS
    span = max(len(days) - 1, 1)

    def x(index):
        return LEFT + (right - LEFT) * index / span

    def y(value):
        return bottom - (bottom - TOP) * value / top_value

    lines = [
        Line(
            series,
            str(overview.SERIES_LABELS[series]),
            [Point(x(i), y(day.value(series)), day.value(series), day.day)
             for i, day in enumerate(days)],
        )
        for series in overview.SERIES
    ]
    y_ticks = [Tick(y(step * k), f"{step * k:,}") for k in range(Y_STEPS + 1)]
    last = len(days) - 1
    x_ticks = [
        Tick(x(i), f"{day.day.month}/{day.day.day}")
        for i, day in enumerate(days)
        if (last - i) % X_LABEL_EVERY == 0
    ]
    return Chart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, lines, y_ticks, x_ticks)

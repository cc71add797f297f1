"""The run report as one self-contained HTML page: inline CSS and SVG, no script, no network.

The score of every dimension after every iteration is drawn as an SVG line chart computed here; the
page carries the figures it shows as ``data-*`` attributes too, so that a test (or a script) can read
them back and compare them with the JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitorch.report.build import SEVERITIES, STOP_TEXT, Report

TEMPLATE = Path(__file__).with_name("report.html.j2")
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")
SEVERITY_COLOUR = {"P0": "#7f1d1d", "P1": "#dc2626", "P2": "#ea580c", "P3": "#ca8a04", "P4": "#64748b"}


@dataclass(frozen=True)
class Point:
    iteration: int
    score: float
    x: float
    y: float


@dataclass(frozen=True)
class Series:
    dimension: str
    colour: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    """The score chart's geometry: one series per dimension, x the iteration (0 = before the run)."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    iterations: list[int]
    series: list[Series]
    target_y: float

    def x(self, iteration: int) -> float:
        last = max(self.iterations[-1], 1)
        return self.left + iteration * self.plot_width / last

    def y(self, score: float) -> float:
        return self.top + (100 - score) * self.plot_height / 100

    @property
    def ticks(self) -> list[tuple[int, float]]:
        return [(score, self.y(score)) for score in range(0, 101, 20)]


def score_history(report: Report) -> dict[str, list[tuple[int, float | None]]]:
    """Each dimension's score at the start (iteration 0) and at the end of every iteration."""
    history = {d: [(0, report.initial_scores.get(d))] for d in report.dimensions}
    for it in report.iterations:
        for d in report.dimensions:
            history[d].append((it.iteration, it.scores_after.get(d)))
    return history


def chart(report: Report, width: int = 720, height: int = 300) -> Chart:
    left, top, right, bottom = 48, 16, 24, 36
    iterations = [0, *(it.iteration for it in report.iterations)]
    plot_width, plot_height = width - left - right, height - top - bottom
    geometry = Chart(width, height, left, top, plot_width, plot_height, iterations, [], 0.0)
    series = []
    for n, (dimension, scores) in enumerate(score_history(report).items()):
        points = [
            Point(i, score, geometry.x(i), geometry.y(score)) for i, score in scores if score is not None
        ]
        series.append(Series(dimension, PALETTE[n % len(PALETTE)], points))
    return Chart(
        width, height, left, top, geometry.plot_width, geometry.plot_height, iterations, series,
        geometry.y(report.target_score),
    )  # fmt: skip


def _money(value: float) -> str:
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def render_html(report: Report) -> str:
    import jinja2

    from gitorch import __version__

    env = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    env.filters["money"] = _money
    env.filters["score"] = _score
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    most = max([*report.findings_initial.values(), *report.findings_final.values(), 1])
    return template.render(
        r=report,
        status=STOP_TEXT.get(report.stop_reason, report.status),
        chart=chart(report),
        severities=SEVERITIES,
        severity_colour=SEVERITY_COLOUR,
        most=most,
        spent_share=min(report.cost_usd / report.budget_usd, 1.0) if report.budget_usd else 0.0,
        version=__version__,
    )

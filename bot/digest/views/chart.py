"""The digest's chart: health over the last weeks per objective, and key results against pace.

Drawn with matplotlib's object API on the Agg canvas (no pyplot: no global state, safe in any
thread) and returned as PNG bytes. Titles are user text: math parsing is off, and glyphs the font
lacks (emoji) are dropped quietly instead of failing the chart.
"""

from __future__ import annotations

import io
import warnings

from bot.digest.models import DigestData

OBJECTIVES_SHOWN = 8
KEY_RESULTS_SHOWN = 12
COLOURS = {"on_track": "#2e8540", "at_risk": "#f2a900", "blocked": "#d0312d", "pace": "#1d3b53"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def title(data: DigestData) -> str:
    if data.period.in_progress:
        return f"Health and pace, {data.noun} so far"
    local = data.period.end.astimezone(data.period.tz)
    return f"Health and pace, {data.noun} to {local.day} {local:%b %Y}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(data: DigestData) -> bytes:
    """The chart as PNG bytes: one small panel per objective (the first `OBJECTIVES_SHOWN` by
    priority) stacking on track / at risk / blocked initiatives per week, and a bar per key result
    (the first `KEY_RESULTS_SHOWN`) showing progress with a marker where it should be by now."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    objectives = data.objectives[:OBJECTIVES_SHOWN]
    krs = [kr for kr in data.key_results if kr.measurable][:KEY_RESULTS_SHOWN]
    columns = 4
    health_rows = max(1, -(-len(objectives) // columns))
    kr_height = max(1.6, 0.42 * len(krs) + 0.9)
    figure = Figure(figsize=(12, 2.5 * health_rows + kr_height + 0.8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title(data), fontsize=14, fontweight="bold", parse_math=False)
    grid = figure.add_gridspec(health_rows + 1, columns, height_ratios=[2.5] * health_rows + [kr_height])

    from matplotlib.ticker import MaxNLocator

    local_ends = [end.astimezone(data.period.tz) for end in data.week_ends]
    labels = [f"{end.day} {end:%b}" for end in local_ends]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Glyph .* missing from", category=UserWarning)
        if not objectives:
            axes = figure.add_subplot(grid[0, :])
            axes.set_axis_off()
            axes.text(0.5, 0.5, "No objectives yet", ha="center", va="center", fontsize=12, parse_math=False)
        for index, objective in enumerate(objectives):
            axes = figure.add_subplot(grid[index // columns, index % columns])
            weeks = objective.health_weeks
            bottom = [0] * len(weeks)
            for name in ("on_track", "at_risk", "blocked"):
                values = [getattr(w, name) for w in weeks]
                axes.bar(range(len(weeks)), values, bottom=bottom, color=COLOURS[name], width=0.75)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            axes.set_title(
                _short(f"{objective.key} · {objective.title}", 30), fontsize=9, loc="left", parse_math=False
            )
            axes.set_xticks(range(len(weeks)), labels, fontsize=7, rotation=45, ha="right")
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.tick_params(axis="y", labelsize=7)
            axes.spines[["top", "right"]].set_visible(False)
            if not any(bottom):
                axes.text(
                    0.5,
                    0.5,
                    "no check-ins",
                    transform=axes.transAxes,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="#777777",
                )
                axes.set_yticks([])
        if objectives:
            from matplotlib.patches import Patch

            figure.axes[0].legend(
                handles=[
                    Patch(color=COLOURS["on_track"], label="on track"),
                    Patch(color=COLOURS["at_risk"], label="at risk"),
                    Patch(color=COLOURS["blocked"], label="blocked"),
                ],
                loc="upper left",
                fontsize=7,
                frameon=False,
            )

        axes = figure.add_subplot(grid[health_rows, :])
        if not krs:
            axes.set_axis_off()
            axes.text(
                0.5,
                0.5,
                "No key results with a start, target and current value",
                ha="center",
                va="center",
                fontsize=11,
                parse_math=False,
            )
        else:
            # tick labels go through mathtext: an escaped `$` shows as itself
            names = [_short(f"{kr.key} · {kr.title}", 48).replace("$", r"\$") for kr in krs][::-1]
            progress = [max(0.0, min(1.2, kr.progress or 0.0)) * 100 for kr in krs][::-1]
            colours = [COLOURS["blocked"] if kr.pace == "behind" else COLOURS["on_track"] for kr in krs][::-1]
            positions = list(range(len(krs)))
            axes.barh(positions, progress, color=colours, height=0.6)
            for position, kr in zip(positions, krs[::-1], strict=True):
                shown = max(0.0, min(1.2, kr.progress or 0.0)) * 100
                axes.text(
                    shown + 1,
                    position,
                    f"{round((kr.progress or 0) * 100)}%",
                    va="center",
                    fontsize=8,
                    parse_math=False,
                )
            expected = [(kr.expected * 100 if kr.expected is not None else None) for kr in krs][::-1]
            marks = [(e, p) for e, p in zip(expected, positions, strict=True) if e is not None]
            if marks:
                axes.scatter(
                    [e for e, _ in marks],
                    [p for _, p in marks],
                    marker="|",
                    s=260,
                    linewidths=3,
                    color=COLOURS["pace"],
                    zorder=3,
                    label="where it should be by now",
                )
                axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
            axes.set_yticks(positions, names, fontsize=8)
            axes.set_xlim(0, 120)
            axes.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=8)
            axes.axvline(100, color="#999999", linewidth=0.8, linestyle=":")
            axes.set_title("Key results: progress from start to target", fontsize=10, loc="left")
            axes.spines[["top", "right"]].set_visible(False)

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()

"""The simulation's chart: bot DMs per person per week, by kind, week by week, and how the
person-weeks spread. Drawn as the digest's chart is (matplotlib's object API on the Agg canvas,
no pyplot), returned as PNG bytes."""

from __future__ import annotations

from typing import Any

from bot.simulate.observe import KINDS

COLOURS = {"nudges": "#1d3b53", "reminders": "#5b8db8", "notices": "#f2a900", "escalations": "#d0312d"}
BOUND = 2.0  # the target: at most this many DMs a person a week outside escalations


def render(data: dict[str, Any]) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weekly = data["weekly_mean_by_kind"]
    weeks = list(range(1, len(weekly) + 1))
    figure = Figure(figsize=(12, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    o = data["options"]
    figure.suptitle(
        f"Bot DMs per person per week: {o['people']} people, {o['initiatives']} initiatives, {o['config']}",
        fontsize=13,
        fontweight="bold",
        parse_math=False,
    )
    left, right = figure.subplots(1, 2, width_ratios=[2, 1])
    bottom = [0.0] * len(weeks)
    for kind in KINDS:
        values = [w[kind] for w in weekly]
        left.bar(weeks, values, bottom=bottom, color=COLOURS[kind], label=kind)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    left.set_ylim(0, max([*bottom, BOUND]) * 1.3)
    left.axhline(BOUND, color="#444444", linestyle="--", linewidth=1)
    left.text(weeks[-1] + 0.4, BOUND, "2 a week", va="bottom", ha="right", fontsize=9, parse_math=False)
    left.set_xlabel("week")
    left.set_ylabel("mean DMs per person")
    left.set_xticks(weeks)
    left.legend(loc="upper left", fontsize=9, ncols=4)
    left.set_title("Mean per person, by kind", fontsize=11)
    spread = {int(k): v for k, v in data["person_weeks_by_dms"].items()}
    counts = sorted(spread)
    right.bar(counts, [spread[c] for c in counts], color="#5b8db8")
    right.axvline(3.5, color="#d0312d", linestyle="--", linewidth=1)
    right.set_xlabel("DMs in the week (all kinds)")
    right.set_ylabel("person-weeks")
    right.set_title(f"Person-weeks over 3: {data['share_person_weeks_over_3']:.1%}", fontsize=11)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()

"""The weekly report's charts as PNG bytes: one look, one palette, readable at a glance."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")  # no display: files only, safe in workers and tests

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

# One colour per meaning, the same in every chart.
POSITIVE: Final = "#3B75AF"
MEETING: Final = "#F0A13A"
BOOKED: Final = "#2E9E6A"
AI: Final = "#7B4FBF"
SETTER: Final = "#D1495B"
MUTED: Final = "#A7B1BC"
INK: Final = "#1F2933"
STAGES: Final = (("Positive", POSITIVE), ("Meeting requested", MEETING), ("Booked", BOOKED))

# Typed loosely: matplotlib's stubs want literal keys.
_STYLE: Any = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.titlepad": 14,
    "axes.labelsize": 11,
    "axes.edgecolor": "#CBD2D9",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


@dataclass(frozen=True)
class FunnelRow:
    label: str
    positive: int
    meeting_requested: int
    booked: int


@dataclass(frozen=True)
class ArmRate:
    label: str
    positive_leads: int
    booking_rate: float | None
    ci_low: float | None
    ci_high: float | None


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height), dpi=130)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with plt.rc_context(_STYLE):
        fig.tight_layout()
        fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _empty(ax: Axes, message: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color=MUTED)


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def funnel_chart(rows: Sequence[FunnelRow], title: str) -> bytes:
    """Grouped horizontal bars per campaign: positive → meeting requested → booked."""
    height = max(3.2, 1.2 + 0.62 * len(rows))
    fig, ax = _figure(10, height)
    with plt.rc_context(_STYLE):
        ax.set_title(title, loc="left")
        if not rows:
            _empty(ax, "No positive replies, meeting requests or bookings this week")
            return _png(fig)
        bar = 0.26
        for i, (name, colour) in enumerate(STAGES):
            values = [(r.positive, r.meeting_requested, r.booked)[i] for r in rows]
            ys = [n + (i - 1) * bar for n in range(len(rows))]
            bars = ax.barh(ys, values, height=bar, color=colour, label=name)
            ax.bar_label(bars, padding=3, fontsize=9, color=INK)
        ax.set_yticks(range(len(rows)), [_short(r.label) for r in rows])
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Leads", labelpad=2)
        ax.grid(axis="x", color="#E4E7EB")
        ax.set_axisbelow(True)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize=10)
    return _png(fig)


def arms_chart(arms: Sequence[ArmRate], title: str, verdict: str) -> bytes:
    """Booking rate of positive leads per arm, with the 95 % Wilson interval as error bars."""
    fig, ax = _figure(8, 4.8)
    with plt.rc_context(_STYLE):
        ax.set_title(title, loc="left")
        measured = [a for a in arms if a.booking_rate is not None]
        if not measured:
            _empty(ax, "No positive leads in either arm yet")
            return _png(fig)
        colours = [AI if "AI" in a.label else SETTER for a in measured]
        rates = [float(a.booking_rate or 0) for a in measured]
        low = [
            r - float(a.ci_low if a.ci_low is not None else r)
            for r, a in zip(rates, measured, strict=True)
        ]
        high = [
            float(a.ci_high if a.ci_high is not None else r) - r
            for r, a in zip(rates, measured, strict=True)
        ]
        xs = range(len(measured))
        ax.bar(xs, rates, width=0.55, color=colours)
        ax.errorbar(xs, rates, yerr=[low, high], fmt="none", ecolor=INK, capsize=10, lw=1.6)
        for x, rate in zip(xs, rates, strict=True):
            ax.annotate(
                f"{rate:.0%}",
                (x, rate),
                xytext=(14, 4),
                textcoords="offset points",
                fontsize=12,
                fontweight="bold",
                color=INK,
            )
        ax.set_xticks(
            list(xs), [f"{a.label}\n{a.positive_leads:,} positive leads" for a in measured]
        )
        top = max(float(a.ci_high or 0) for a in measured)
        ax.set_ylim(0, min(1.0, max(0.1, top * 1.2)))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("Booked per positive lead")
        ax.grid(axis="y", color="#E4E7EB")
        ax.set_axisbelow(True)
        fig.text(0.01, 0.01, verdict, fontsize=9.5, color="#52606D", wrap=True)
        fig.subplots_adjust(bottom=0.22)
    buffer = io.BytesIO()
    with plt.rc_context(_STYLE):
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def trend_chart(weeks: Sequence[str], series: Mapping[str, Sequence[int]], title: str) -> bytes:
    """The week against the four before it: grouped bars per week, the report's week in front."""
    fig, ax = _figure(10, 4.8)
    with plt.rc_context(_STYLE):
        ax.set_title(title, loc="left")
        bar = 0.26
        last = len(weeks) - 1
        for i, (name, colour) in enumerate(STAGES):
            values = list(series[name])
            xs = [n + (i - 1) * bar for n in range(len(weeks))]
            bars = ax.bar(xs, values, width=bar, color=colour, label=name)
            for n, patch in enumerate(bars):
                patch.set_alpha(1.0 if n == last else 0.45)
            ax.bar_label(bars, padding=2, fontsize=9, color=INK)
        ax.axvspan(last - 0.5, last + 0.5, color="#F5F7FA", zorder=0)
        ax.set_xticks(range(len(weeks)), weeks)
        ax.get_xticklabels()[last].set_fontweight("bold")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Leads")
        ax.set_xlabel("Week starting (the report's week is highlighted)")
        ax.grid(axis="y", color="#E4E7EB")
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", ncols=3, fontsize=10)
        ax.margins(y=0.18)
    return _png(fig)


def ranking_chart(
    top: Sequence[tuple[str, float, int]], bottom: Sequence[tuple[str, float, int]], title: str
) -> bytes:
    """Booked per positive lead: the top five campaigns in green, the bottom five in red."""
    rows = [(label, rate, n, BOOKED) for label, rate, n in top]
    rows += [(label, rate, n, SETTER) for label, rate, n in bottom]
    fig, ax = _figure(10, max(3.2, 1.3 + 0.5 * len(rows)))
    with plt.rc_context(_STYLE):
        ax.set_title(title, loc="left")
        if not rows:
            _empty(ax, "No campaign has positive leads yet")
            return _png(fig)
        ys = range(len(rows))
        bars = ax.barh(list(ys), [r[1] for r in rows], color=[r[3] for r in rows], height=0.6)
        ax.bar_label(
            bars, labels=[f"{r[1]:.0%}  (n={r[2]:,})" for r in rows], padding=4, fontsize=9.5
        )
        ax.set_yticks(list(ys), [_short(r[0]) for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, min(1.0, max(0.1, max(r[1] for r in rows) * 1.35)))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Booked per positive lead (n = positive leads)")
        ax.grid(axis="x", color="#E4E7EB")
        ax.set_axisbelow(True)
        if top and bottom:
            ax.axhline(len(top) - 0.5, color=MUTED, lw=1, ls="--")
    return _png(fig)

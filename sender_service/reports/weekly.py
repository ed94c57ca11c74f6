"""The weekly report: Markdown, self-contained HTML, kpis.csv and PNG charts from the marts.

Written to `exports/<workspace_id>/weekly/<week_start>/` by `replyline report weekly` and by the
Dagster asset (`write_weekly_report`). Reads only the published warehouse, read-only.
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sender_service.cohorts import CohortIndex, DateRange
from sender_service.db.models import GUARD_RULES
from sender_service.experiment_verdict import format_rate, verdict
from sender_service.reports import charts
from sender_service.reports.document import (
    Bullets,
    Document,
    Heading,
    Image,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)
from sender_service.reports.private_files import private_folder, write_private
from sender_service.reports.warehouse import Marts, open_marts
from sender_service.settings import Settings

# "Many positive replies but few bookings": at least this many positive leads, and a booking
# rate below this fraction of the workspace's.
MANY_POSITIVES: Final = 10
FEW_BOOKINGS_FRACTION: Final = 0.5
FUNNEL_CAMPAIGNS: Final = 15
RANK_SIZE: Final = 5
ARM_LABELS: Final = {"AI_AUTO_SEND": "AI auto-send", "SETTER_MANAGED": "Setter-managed"}
WEEK_COLUMNS: Final = (
    "new_positive_leads",
    "new_meetings_requested_leads",
    "new_booked_leads",
    "ai_sends",
    "setter_sends",
    "sequence_sends",
)


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_complete_week(timezone: str, now: datetime) -> date:
    """Monday of the last week that has ended in the workspace's time zone."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return week_start_of(today) - timedelta(days=7)


def report_dir(settings: Settings, workspace_id: uuid.UUID, week_start: date) -> Path:
    return settings.exports_dir / str(workspace_id) / "weekly" / week_start.isoformat()


def _int(value: Any) -> int:
    return int(value or 0)


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _n(value: int) -> str:
    return f"{value:,}"


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


class _Report:
    """Gathers the marts of one workspace and week, then builds the document and charts."""

    def __init__(self, marts: Marts, name: str, week: date) -> None:
        self.week = week
        self.weeks = [week - timedelta(weeks=k) for k in range(4, -1, -1)]
        self.kpis = marts.table("campaign_kpis")
        weekly = marts.table(
            "weekly_campaign_report", "week_start between ? and ?", (self.weeks[0], week)
        )
        for row in weekly.rows:
            row["week_start"] = _as_date(row["week_start"])
        self.weekly = weekly.rows
        self.arms = marts.table("ai_vs_setter").rows
        self.drafts = marts.table("draft_outcomes", "week_start = ?", (week,)).rows
        # The week's cohort (leads whose first reply came this week) and the four weeks before.
        this_week = DateRange(week, week + timedelta(days=6))
        before = DateRange(week - timedelta(weeks=4), week - timedelta(days=1))
        cohorts = CohortIndex(marts)
        self.cohort = cohorts.ranged(this_week)
        self.trailing = cohorts.ranged(before)
        self.sentiments = cohorts.sentiment_counts(this_week)
        self.sentiments_before = cohorts.sentiment_counts(before)
        self.leads = marts.table("lead_booking_status", "is_positive").rows
        self.as_of = marts.as_of
        self.name = name
        self.images: dict[str, bytes] = {}
        end = week + timedelta(days=6)
        self.doc = Document(
            f"Weekly report — {name}",
            f"Week of {week:%a %d %b %Y} to {end:%a %d %b %Y}; "
            f"numbers as of the warehouse refresh at {self.as_of:%Y-%m-%d %H:%M} UTC.",
        )

    # -- data ------------------------------------------------------------------------------------

    def week_rows(self, week: date) -> list[dict[str, Any]]:
        return [r for r in self.weekly if r["week_start"] == week]

    def totals(self, week: date) -> dict[str, int]:
        rows = self.week_rows(week)
        return {c: sum(_int(r[c]) for r in rows) for c in WEEK_COLUMNS}

    def kpis_csv(self) -> str:
        """campaign_kpis rows as the mart has them, plus the week's numbers per campaign."""
        by_campaign = {str(r["email_campaign_id"]): r for r in self.week_rows(self.week)}
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self.kpis.columns, "week_start", *(f"week_{c}" for c in WEEK_COLUMNS)])
        for row in sorted(
            self.kpis.rows, key=lambda r: (str(r["campaign_name"]), str(r["email_campaign_id"]))
        ):
            week = by_campaign.get(str(row["email_campaign_id"]), {})
            writer.writerow(
                [
                    *("" if row[c] is None else row[c] for c in self.kpis.columns),
                    self.week.isoformat(),
                    *(_int(week.get(c)) for c in WEEK_COLUMNS),
                ]
            )
        return buffer.getvalue()

    # -- sections --------------------------------------------------------------------------------

    def build(self) -> None:
        self.summary()
        self.trend()
        self.funnel()
        self.ranking()
        self.underperformers()
        self.arms_section()
        self.responses()
        self.drafts_section()
        self.segments_section()
        self.sentiment_section()

    def summary(self) -> None:
        now = self.totals(self.week)
        before = [self.totals(w) for w in self.weeks[:-1]]
        labels = {
            "new_positive_leads": "Leads newly positive",
            "new_meetings_requested_leads": "Leads newly asking for a meeting",
            "new_booked_leads": "Leads newly booked",
            "ai_sends": "Replies sent by the AI",
            "setter_sends": "Replies sent by setters",
            "sequence_sends": "Follow-up steps sent",
        }
        rows = []
        for column, label in labels.items():
            average = sum(b[column] for b in before) / len(before)
            change = "—" if average == 0 else f"{(now[column] - average) / average:+.0%}"
            rows.append([label, _n(now[column]), f"{average:,.1f}", change])
        self.doc.add(
            Heading("This week"),
            Table(["", "This week", "Average of the 4 weeks before", "Change"], rows),
        )

    def trend(self) -> None:
        series: dict[str, list[int]] = {name: [] for name, _ in charts.STAGES}
        for week in self.weeks:
            t = self.totals(week)
            series["Positive"].append(t["new_positive_leads"])
            series["Meeting requested"].append(t["new_meetings_requested_leads"])
            series["Booked"].append(t["new_booked_leads"])
        labels = [f"{w:%d %b}" for w in self.weeks]
        self.images["trend.png"] = charts.trend_chart(
            labels, series, "This week against the four before it"
        )
        self.doc.add(
            Image("trend.png", "Leads newly positive, asking for a meeting, booked: 5 weeks")
        )

    def funnel(self) -> None:
        rows = sorted(
            self.week_rows(self.week),
            key=lambda r: (
                -_int(r["new_positive_leads"]),
                -_int(r["new_booked_leads"]),
                str(r["campaign_name"]),
            ),
        )
        rows = [
            r
            for r in rows
            if _int(r["new_positive_leads"])
            or _int(r["new_meetings_requested_leads"])
            or _int(r["new_booked_leads"])
        ]
        shown = rows[:FUNNEL_CAMPAIGNS]
        self.images["funnel.png"] = charts.funnel_chart(
            [
                charts.FunnelRow(
                    str(r["campaign_name"]),
                    _int(r["new_positive_leads"]),
                    _int(r["new_meetings_requested_leads"]),
                    _int(r["new_booked_leads"]),
                )
                for r in shown
            ],
            "This week per campaign: positive → meeting requested → booked",
        )
        self.doc.add(Heading("Funnel per campaign"))
        if len(rows) > len(shown):
            self.doc.add(
                Paragraph(
                    f"The {len(shown)} campaigns with most positive leads this week, "
                    f"of {len(rows)} active."
                )
            )
        self.doc.add(Image("funnel.png", "Per-campaign funnel this week"))

    def _before(self) -> dict[str, dict[str, Any]]:
        return {str(r["email_campaign_id"]): r for r in self.trailing["campaigns"]}

    def _ranked(self) -> list[tuple[str, float, int, str]]:
        before = self._before()
        ranked = [
            (
                str(r["campaign_name"]),
                float(r["booking_rate"]),
                _int(r["positive_leads"]),
                _pct(_rate(before.get(str(r["email_campaign_id"]), {}).get("booking_rate"))),
            )
            for r in self.cohort["campaigns"]
            if _int(r["positive_leads"]) > 0 and r["booking_rate"] is not None
        ]
        return sorted(ranked, key=lambda t: (-t[1], -t[2], t[0]))

    def ranking(self) -> None:
        ranked = self._ranked()
        top = ranked[:RANK_SIZE]
        bottom = ranked[len(top) :][-RANK_SIZE:]
        self.images["ranking.png"] = charts.ranking_chart(
            [(name, rate, n) for name, rate, n, _ in top],
            [(name, rate, n) for name, rate, n, _ in bottom],
            "Booked per positive lead: top and bottom campaigns (this week's replies)",
        )
        self.doc.add(Heading("Top and bottom campaigns by booked per positive lead"))
        self.doc.add(
            Paragraph(
                "Leads whose first reply came this week: positive and booked ÷ positive, as of "
                "the refresh; beside it the same for the four weeks before. Campaigns without "
                "a positive lead this week are not ranked."
            )
        )
        table_rows = [["Top", name, _pct(rate), _n(n), prev] for name, rate, n, prev in top]
        table_rows += [["Bottom", name, _pct(rate), _n(n), prev] for name, rate, n, prev in bottom]
        self.doc.add(
            Image("ranking.png", "Top and bottom five campaigns by booked per positive lead"),
            Table(
                ["", "Campaign", "Booked per positive", "Positive leads", "4 weeks before"],
                table_rows,
            )
            if table_rows
            else Paragraph("No campaign has positive leads this week."),
        )

    def underperformers(self) -> None:
        rows = self.cohort["campaigns"]
        positives = sum(_int(r["positive_leads"]) for r in rows)
        booked = sum(_int(r["booked_positive_leads"]) for r in rows)
        overall = booked / positives if positives else None
        self.doc.add(Heading("Many positive replies, few bookings"))
        if overall is None:
            self.doc.add(Paragraph("No positive leads this week."))
            return
        before = self._before()
        flagged = [
            r
            for r in rows
            if _int(r["positive_leads"]) >= MANY_POSITIVES
            and float(r["booking_rate"] or 0) < FEW_BOOKINGS_FRACTION * overall
        ]
        flagged.sort(key=lambda r: -_int(r["positive_leads"]))
        if not flagged:
            self.doc.add(
                Paragraph(
                    f"None: no campaign with {MANY_POSITIVES}+ positive leads books below half "
                    f"the workspace's rate ({overall:.0%})."
                )
            )
            return
        self.doc.add(
            Paragraph(
                f"{len(flagged)} campaign(s) with {MANY_POSITIVES}+ positive leads this week "
                f"book below half the workspace's rate of {overall:.0%}: their replies are worth "
                "a look.",
                callout=True,
            ),
            Bullets(
                [
                    f"{r['campaign_name']}: {_n(_int(r['positive_leads']))} positive leads, "
                    f"{_n(_int(r['booked_positive_leads']))} booked "
                    f"({_pct(_rate(r['booking_rate']))}; 4 weeks before "
                    f"{_previous_rate(before, r)}), "
                    f"{ARM_LABELS.get(str(r['response_mode']), r['response_mode'])}"
                    for r in flagged
                ]
            ),
        )

    def arm_verdict(self) -> str:
        return verdict(self.arms).sentence()

    def arms_section(self) -> None:
        verdict = self.arm_verdict()
        order = {"AI_AUTO_SEND": 0, "SETTER_MANAGED": 1}
        arms = sorted(self.arms, key=lambda r: order.get(str(r["arm"]), 2))
        self.images["ai_vs_setter.png"] = charts.arms_chart(
            [
                charts.ArmRate(
                    ARM_LABELS.get(str(r["arm"]), str(r["arm"])),
                    _int(r["positive_leads"]),
                    _rate(r["booking_rate"]),
                    _rate(r["booking_rate_ci_low"]),
                    _rate(r["booking_rate_ci_high"]),
                )
                for r in arms
            ],
            "AI auto-send vs setter-managed: booked per positive lead",
            verdict,
        )
        self.doc.add(
            Heading("AI auto-send vs setter-managed"),
            Paragraph(
                "Each positive lead counts in the arm its campaign was in when the lead first "
                "replied positively, so a campaign moved between arms is compared only over the "
                "time it spent in each. Error bars are 95 % Wilson intervals."
            ),
            Paragraph(verdict, callout=True),
            Image("ai_vs_setter.png", "Booking rate per arm with 95 % intervals"),
            self.experiment_table(),
            Table(
                [
                    "Arm",
                    "Positive leads",
                    "Answered",
                    "Median answer",
                    "Booked",
                    "Booked per positive",
                    "95 % interval",
                ],
                [
                    [
                        ARM_LABELS.get(str(r["arm"]), str(r["arm"])),
                        _n(_int(r["positive_leads"])),
                        _n(_int(r["responded_leads"])),
                        _duration(_rate(r["median_response_seconds"])),
                        _n(_int(r["booked_leads"])),
                        _pct(_rate(r["booking_rate"])),
                        f"{_pct(_rate(r['booking_rate_ci_low']))}–{_pct(_rate(r['booking_rate_ci_high']))}",
                    ]
                    for r in arms
                ],
            ),
        )

    def experiment_table(self) -> Table:
        """The experiment's verdict in numbers: `replyline experiment status` as a table."""
        result = verdict(self.arms)
        rows = [
            [ARM_LABELS[a.arm], _n(a.positive_leads), _n(a.booked_leads), format_rate(a)]
            for a in (result.ai, result.setter)
        ]
        if result.difference is not None:
            rows.append(
                [
                    "Difference (AI − setters)",
                    "",
                    "",
                    f"{result.difference:+.1%} ({result.difference_low:+.1%} to "
                    f"{result.difference_high:+.1%})",
                ]
            )
        if result.more_needed_ai is not None:
            rows.append(
                [
                    "Still needed at 80 % power",
                    f"{_n(result.more_needed_ai)} AI, {_n(result.more_needed_setter or 0)} setter",
                    "",
                    "",
                ]
            )
        return Table(["Experiment", "Positive leads", "Booked", "Booking rate (95 %)"], rows)

    def responses(self) -> None:
        """Who first answered this week's positive replies, and how fast."""
        week_leads = [
            r
            for r in self.leads
            if r["first_positive_at"] is not None
            and self.week <= _as_date(r["first_positive_at"]) < self.week + timedelta(days=7)
        ]
        self.doc.add(Heading("First answers to this week's positive replies"))
        if not week_leads:
            self.doc.add(Paragraph("No lead replied positively for the first time this week."))
            return
        groups: dict[str, list[float]] = {}
        for r in week_leads:
            groups.setdefault(str(r["first_response_by"] or "unanswered"), []).append(
                float(r["response_seconds"] or 0)
            )
        rows = []
        for who in ("ai", "setter", "sequence", "unanswered"):
            if who in groups:
                times = sorted(groups[who])
                median = None if who == "unanswered" else times[len(times) // 2]
                rows.append([who, _n(len(times)), _duration(median)])
        self.doc.add(Table(["First answered by", "Leads", "Median time to answer"], rows))

    def drafts_section(self) -> None:
        columns = (
            "drafts",
            "auto_sent",
            "approved_unchanged",
            "sent_after_edit",
            "rejected",
            "unused",
            "pending",
            "booked_within_30d",
        )
        totals = {c: sum(_int(r[c]) for r in self.drafts) for c in columns}
        self.doc.add(Heading("AI drafts created this week"))
        if not totals["drafts"]:
            self.doc.add(Paragraph("No AI drafts this week."))
            return
        labels = (
            "Drafts",
            "Sent by the AI",
            "Approved unchanged",
            "Sent after edit",
            "Rejected",
            "Unused",
            "Pending",
            "Booked within 30 days",
        )
        self.doc.add(Table(list(labels), [[_n(totals[c]) for c in columns]]))
        self.doc.add(Paragraph(self.guard_line()))

    def guard_line(self) -> str:
        """How many drafts each outbound guard rule sent to a person instead of the lead."""
        stopped = sum(_int(r.get("guard_stopped")) for r in self.drafts)
        if not stopped:
            return "The outbound guard stopped no AI drafts this week."
        per_rule = {
            rule: sum(_int(r.get(f"guard_stopped_{rule}")) for r in self.drafts)
            for rule in GUARD_RULES
        }
        ranked = sorted(((n, rule) for rule, n in per_rule.items() if n), key=lambda t: -t[0])
        named = ", ".join(f"{rule} {_n(n)}" for n, rule in ranked)
        drafts = "draft" if stopped == 1 else "drafts"
        return f"The outbound guard stopped {_n(stopped)} AI {drafts} for a person: {named}."

    def segments_section(self) -> None:
        self.doc.add(Heading("Segments of this week's replies"))
        for kind, title in (("headcount_bucket", "Company size"), ("industry", "Industry")):
            now = _segment_sums(self.cohort["segments"], kind)
            before = _segment_sums(self.trailing["segments"], kind)
            ranked = sorted(
                ((v, p, b) for v, (p, b) in now.items() if p), key=lambda t: (-t[1], t[0])
            )[:8]
            if ranked:
                self.doc.add(
                    Table(
                        [
                            title,
                            "Positive leads",
                            "Booked",
                            "Booked per positive",
                            "4 weeks before",
                        ],
                        [
                            [v, _n(p), _n(b), _pct(b / p), _share(*before.get(v, (0, 0)))]
                            for v, p, b in ranked
                        ],
                    )
                )
        if not self.cohort["segments"]:
            self.doc.add(Paragraph("No lead replied for the first time this week."))

    def sentiment_section(self) -> None:
        now = _label_sums(self.sentiments)
        before = _label_sums(self.sentiments_before)
        self.doc.add(Heading("Replies by sentiment"))
        if not now:
            self.doc.add(Paragraph("No replies this week."))
            return
        rows = [
            [label, _n(count), f"{before.get(label, 0) / 4:,.1f}"]
            for label, count in sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        self.doc.add(Table(["Sentiment", "Replies this week", "Weekly average before"], rows))


def _segment_sums(rows: list[dict[str, Any]], kind: str) -> dict[str, tuple[int, int]]:
    sums: dict[str, tuple[int, int]] = {}
    for r in rows:
        if r["segment_type"] == kind:
            p, b = sums.get(str(r["segment_value"]), (0, 0))
            sums[str(r["segment_value"])] = (
                p + _int(r["positive_leads"]),
                b + _int(r["booked_positive_leads"]),
            )
    return sums


def _previous_rate(before: dict[str, dict[str, Any]], row: dict[str, Any]) -> str:
    return _pct(_rate(before.get(str(row["email_campaign_id"]), {}).get("booking_rate")))


def _share(positive: int, booked: int) -> str:
    return _pct(booked / positive) if positive else "—"


def _label_sums(rows: list[dict[str, Any]]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for r in rows:
        sums[str(r["sentiment"])] = sums.get(str(r["sentiment"]), 0) + _int(r["replies"])
    return sums


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _write_all(target: Path, files: Iterable[tuple[str, bytes]]) -> None:
    """Write beside the target, then swap it in: readers never see half a report."""
    staging = private_folder(target.parent, f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        for name, data in files:
            write_private(staging / name, data)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_weekly_report(
    settings: Settings,
    workspace_id: uuid.UUID,
    week_start: date,
    *,
    workspace_name: str | None = None,
) -> Path:
    """Write the report of the week starting `week_start` (a Monday); return its directory.

    Raises WarehouseMissingError when there is no published warehouse to read.
    """
    week = week_start_of(week_start)
    with open_marts(settings.warehouse_path, workspace_id) as marts:
        report = _Report(marts, workspace_name or str(workspace_id), week)
    report.build()
    target = report_dir(settings, workspace_id, week)
    private_folder(settings.exports_dir, str(workspace_id), target.parent.name)
    files: list[tuple[str, bytes]] = [
        ("report.md", to_markdown(report.doc).encode()),
        ("report.html", to_html(report.doc, report.images).encode()),
        ("kpis.csv", report.kpis_csv().encode()),
        *report.images.items(),
    ]
    _write_all(target, files)
    return target


def chart_names() -> Sequence[str]:
    return ("trend.png", "funnel.png", "ranking.png", "ai_vs_setter.png")

"""`/`: the workspace's numbers from the published warehouse, and the ChatGPT download.

`?from=YYYY-MM-DD&to=YYYY-MM-DD` narrows the funnel to the cohort of leads whose first reply
falls in the range, as the API does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from flask import Response, current_app, render_template, request

from sender_service.analytics import sentiment_counts
from sender_service.cohorts import CohortIndex, DateRange
from sender_service.db.engine import session_scope
from sender_service.definitions import HEADCOUNT_BUCKETS
from sender_service.exports.chatgpt import chatgpt_export
from sender_service.exports.filters import parse_filters
from sender_service.ingest import journal
from sender_service.reports.charts import STAGES
from sender_service.reports.warehouse import Marts, WarehouseMissingError, open_marts
from sender_service.web.errors import ApiError
from sender_service.web.exports import capped, connection_socket
from sender_service.web.pages.base import (
    bp,
    chosen_member,
    database_url,
    member_of,
    parse_id,
    services,
)
from sender_service.web.pages.charts import weekly_svg

RECENT_WEEKS = 8
_SEGMENT_LABELS = {"industry": "Industry", "headcount_bucket": "Headcount"}
HEADCOUNT_ORDER = HEADCOUNT_BUCKETS


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _segments(segment_rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each segment's funnel summed over the campaigns, largest first."""
    sums: defaultdict[tuple[str, str], defaultdict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for row in segment_rows:
        totals = sums[(row["segment_type"], row["segment_value"])]
        for column in ("leads", "leads_replied", "positive_leads", "booked_positive_leads"):
            totals[column] += int(row[column] or 0)
    out: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for (kind, value), t in sums.items():
        out[kind].append(
            {
                "value": value,
                **t,
                "reply_rate": _ratio(t["leads_replied"], t["leads"]),
                "positive_rate": _ratio(t["positive_leads"], t["leads_replied"]),
                "booking_rate": _ratio(t["booked_positive_leads"], t["positive_leads"]),
            }
        )

    def order(kind: str, row: dict[str, Any]) -> tuple[Any, ...]:
        # Headcount reads smallest to largest; industries by size.
        if kind == "headcount_bucket" and row["value"] in HEADCOUNT_ORDER:
            return (HEADCOUNT_ORDER.index(row["value"]),)
        return (-row["leads"], row["value"])

    return {
        _SEGMENT_LABELS.get(kind, kind): sorted(rows, key=lambda r: order(kind, r))
        for kind, rows in sorted(out.items())
    }


def _weekly_chart(marts: Marts) -> Any:
    columns = dict(
        zip(
            [name for name, _ in STAGES],
            ["new_positive_leads", "new_meetings_requested_leads", "new_booked_leads"],
            strict=True,
        )
    )
    by_week: defaultdict[date, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in marts.table("weekly_campaign_report").rows:
        for name, column in columns.items():
            by_week[row["week_start"]][name] += int(row[column] or 0)
    weeks = sorted(by_week)[-RECENT_WEEKS:]
    if not weeks:
        return None
    series = {name: [by_week[w][name] for w in weeks] for name in columns}
    return weekly_svg([f"{w:%d %b}" for w in weeks], series, "New leads per week")


def _range() -> DateRange | None:
    """The dashboard's `from`/`to`; both empty means all time."""
    raw = {name: (request.args.get(name) or "").strip() for name in ("from", "to")}
    if not raw["from"] and not raw["to"]:
        return None
    try:
        start, end = date.fromisoformat(raw["from"]), date.fromisoformat(raw["to"])
        return DateRange(start, end)
    except ValueError as exc:
        raise ApiError(
            400, f"from and to must be dates YYYY-MM-DD, to not before from: {exc}"
        ) from None


def _sentiments(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    sums: defaultdict[str, int] = defaultdict(int)
    for row in rows:
        sums[str(row["sentiment"])] += int(row["replies"] or 0)
    return sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))


def _numbers(member_id: Any, date_range: DateRange | None) -> dict[str, Any]:
    try:
        with open_marts(services().settings.warehouse_path, member_id) as marts:
            if date_range is not None:
                cohorts = CohortIndex(marts)
                ranged = cohorts.ranged(date_range)
                rows, arm_rows = ranged["campaigns"], ranged["ai_vs_setter"]
                segment_rows, setter_rows = ranged["segments"], ranged["setters"]
                sentiments = cohorts.sentiment_counts(date_range)
            else:
                rows = marts.table("campaign_kpis").rows
                arm_rows = marts.table("ai_vs_setter").rows
                segment_rows = marts.table("campaign_segment_kpis").rows
                setter_rows = marts.table("setter_kpis").rows
                sentiments = sentiment_counts(marts)
            campaigns = sorted(rows, key=lambda r: (r["archived"], r["campaign_name"] or ""))
            totals = {
                c: sum(int(r[c] or 0) for r in campaigns)
                for c in ("leads", "leads_replied", "positive_leads", "booked_positive_leads")
            }
            arms = sorted(arm_rows, key=lambda r: r["arm"])
            return {
                "campaigns": campaigns,
                "totals": {
                    **totals,
                    "booking_rate": _ratio(
                        totals["booked_positive_leads"], totals["positive_leads"]
                    ),
                },
                "arms": arms,
                "segments": _segments(segment_rows),
                "sentiments": _sentiments(sentiments),
                "setters": sorted(
                    setter_rows, key=lambda r: (str(r["week_start"]), str(r["setter_email"]))
                )[::-1][:12],
                "date_range": date_range,
                "chart": _weekly_chart(marts),
                "as_of": marts.as_of,
                "missing": None,
            }
    except WarehouseMissingError as exc:
        return {"missing": str(exc), "date_range": date_range}


@bp.get("/")
def dashboard() -> Any:
    with session_scope(database_url()) as session:
        member, members = chosen_member(session)
        held = journal.held_count(session, member.workspace_id)
    return render_template(
        "dashboard.html",
        member=member,
        members=members,
        active="dashboard",
        held_deliveries=held,
        **_numbers(member.workspace_id, _range()),
    )


@bp.get("/export/chatgpt")
def export_chatgpt() -> Any:
    """The same zip as `GET /api/export/chatgpt`, for the signed-in session (viewer or above).

    Checkbox groups arrive as repeated parameters; comma lists work too, like the API's."""
    workspace_id = parse_id(request.args.get("workspace_id"))
    with session_scope(database_url()) as session:
        member_of(session, workspace_id)

    def joined(name: str) -> str | None:
        values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]
        return ",".join(values) if name in request.args else None

    try:
        filters = parse_filters(
            request.args.get("positive_only", "").lower() in ("true", "on", "1"),
            request.args.get("from") or None,
            request.args.get("to") or None,
            joined("channels"),
            joined("directions"),
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    export = chatgpt_export(database_url(), workspace_id, filters=filters)
    limit = current_app.extensions["replyline_services"].settings.export_max_seconds
    return Response(
        capped(iter(export), limit, connection_socket()),  # capped as the API's download
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",  # personal data, as the API's download
        },
    )

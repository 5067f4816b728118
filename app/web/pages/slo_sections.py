"""The parts of the SLO page that are tables and text: the headline figures, who spent the
budget, budget incidents, the alert timeline and the corrections (buying it back: slo_spenders)."""

from __future__ import annotations

from typing import Any

from dash import html

from app.slo.report import IncidentOut, SLOReport
from app.web import components as ui
from app.web import format as fmt
from app.web.slo_data import SLOPageData
from app.web.theme import UNATTRIBUTED, mode_colours

HEADLINE_WINDOWS = ("5m", "1h", "6h", "1d", "3d")


def _stat(label: str, content: Any, wide: bool = False) -> html.Div:
    return html.Div(
        [html.Div(label, className="stat-label"), content],
        className="stat wide" if wide else "stat",
    )


def _sli_text(report: SLOReport) -> str:
    """A window with data but no events has no SLI: 'no events', not 100 %."""
    if report.sli is None and report.events.total == 0 and report.status.value == "ok":
        return "no events"
    return fmt.ratio(report.sli)


def _sampling_line(report: SLOReport) -> html.Span | None:
    """One line: the slice the SLO is evaluated on, and the sample interval behind it."""
    sampling = report.sampling
    if sampling is None:
        return None
    interval = (
        f"series sampled every {fmt.duration(sampling.sample_interval_seconds)}"
        f" ({sampling.interval_origin})"
        if sampling.sample_interval_seconds is not None
        else "sample interval not known yet"
    )
    text = f"{fmt.duration(sampling.slice_seconds)} slices · {interval}"
    if sampling.slice_seconds != sampling.configured_slice_seconds:
        text += f" · configured {fmt.duration(sampling.configured_slice_seconds)}, too short for it"
    return html.Span(text, className="muted", id="detail-sampling")


def _no_data_line(report: SLOReport) -> html.P | None:
    """Why the SLO has no data now, or had some no-data slices in the last hour."""
    note = report.no_data
    if note is None:
        return None
    when = (
        f"No data since {fmt.moment(note.since)}"
        if report.status.value == "no-data"
        else f"No data from {fmt.moment(note.since)} to {fmt.moment(note.last)}"
    )
    return html.P(
        f"{when} ({note.reason}): {note.message}",
        className="muted",
        id="detail-no-data",
        **{"data-reason": note.reason},
    )


def headline(data: SLOPageData) -> html.Section:
    """The report's figures, as `GET /api/v1/slos/{service}/{slo}?at=<range end>` answers."""
    report = data.report
    budget = report.budget
    stats: list[Any] = [
        _stat(
            "Budget left (period)",
            ui.budget_bar(budget.remaining, id="detail-remaining"),
            wide=True,
        ),
        _stat(
            "Consumed (period)",
            ui.figure(budget.consumed, fmt.percent(budget.consumed), id="detail-consumed"),
        ),
        _stat("SLI", ui.figure(report.sli, _sli_text(report), id="detail-sli")),
        _stat(
            "Exhausted in",
            html.Span(fmt.duration(budget.time_to_exhaustion_seconds), id="detail-exhaustion"),
        ),
    ]
    for window in HEADLINE_WINDOWS:
        value = report.burn_rates.get(window)
        stats.append(
            _stat(f"Burn {window}", ui.figure(value, fmt.rate(value), id=f"detail-burn-{window}"))
        )
    if data.firing:
        firing: list[Any] = [
            html.Details(
                [
                    html.Summary(
                        [
                            ui.badge(alert.tier, ui.SEVERITY_CLASS.get(alert.severity, "warn")),
                            f" firing since {fmt.moment(alert.since)}",
                        ]
                    ),
                    html.P(alert.summary, className="small"),
                ],
                className="firing",
                **{"data-tier": alert.tier},
            )
            for alert in data.firing
        ]
    else:
        why = f" ({data.alerts_note})" if data.alerts_note else " firing"
        firing = [html.Span("no alerts" + why, className="muted", id="detail-no-alerts")]
    spec = data.definition.spec
    state = html.Div(
        [
            ui.status_badge(report.status.value, report.error),
            ui.policy_badge(report.policy),
            html.Span(
                f"{report.objective:g}% over {report.period} · {report.budgeting}",
                className="muted",
            ),
            html.Span(
                f"evaluated through {fmt.moment(report.evaluated_through)}", className="muted"
            ),
            _sampling_line(report),
        ],
        className="badges",
        id="detail-state",
        **{"data-status": report.status.value, "data-policy": report.policy},
    )
    return html.Section(
        [
            state,
            html.P(report.error, className="error", id="detail-error") if report.error else None,
            _no_data_line(report),
            html.P(spec.description, className="lead") if spec.description else None,
            html.P(["Invariant: ", spec.invariant], className="muted") if spec.invariant else None,
            html.Div(stats, className="stats"),
            html.Div(firing, className="firing-list", id="detail-alerts"),
        ],
        className="card headline",
    )


def _mode_row(name: str, colour: str | None, cells: list[Any], **attributes: Any) -> html.Tr:
    swatch = html.Span(className="swatch", style={"background": colour})
    return html.Tr([html.Td([swatch, name]), *cells], **attributes)


def attribution_table(data: SLOPageData) -> html.Div:
    """`GET …/attribution` for the range: each mode's budget consumed and share of bad events."""
    key = data.definition.key
    colours = mode_colours([mode.name for mode in data.definition.spec.failure_modes])
    rows = []
    for group in data.attribution.groups:
        mine = next((share for share in group.slos if share.slo == key), None)
        share = mine.share if mine else 0.0
        cells = [
            html.Td(group.design_choice or "—"),
            html.Td(
                ui.figure(group.consumed, fmt.percent(group.consumed, 2)), className="consumed"
            ),
            html.Td(ui.figure(share, fmt.percent(share)), className="share"),
            html.Td(ui.figure(group.bad, fmt.number(group.bad)), className="bad"),
        ]
        rows.append(
            _mode_row(
                group.group,
                colours.get(group.group),
                cells,
                id=f"mode-{group.group}",
                **{"data-mode": group.group},
            )
        )
    rest = next((s for s in data.attribution.unattributed if s.slo == key), None)
    rest_bad = (rest.bad or 0.0) if rest else 0.0
    unattributed = [
        html.Td("no failure mode names it", className="muted"),
        html.Td(
            ui.figure(data.unattributed, fmt.percent(data.unattributed, 2)), className="consumed"
        ),
        html.Td(
            ui.figure(data.unattributed_share, fmt.percent(data.unattributed_share)),
            className="share",
        ),
        html.Td(ui.figure(rest_bad, fmt.number(rest_bad)), className="bad"),
    ]
    # Ranked with the named modes (the API lists them by budget consumed, most first).
    rank = sum(1 for group in data.attribution.groups if group.consumed >= data.unattributed)
    rows.insert(rank, _mode_row("unattributed", UNATTRIBUTED, unattributed, id="mode-unattributed"))
    titles = ("Failure mode", "Design choice", "Budget consumed (range)", "Share of bad", "Bad")
    head = html.Thead(html.Tr([html.Th(title) for title in titles]))
    table = html.Table([head, html.Tbody(rows)], id="attribution-table", className="data-table")
    return html.Div(table, className="table-wrap")


def _incident_rows(incident: IncidentOut) -> list[html.Tr]:
    rows = [
        html.Tr(
            [
                html.Td(row.failure_mode),
                html.Td(row.design_choice),
                html.Td(ui.figure(row.consumed, fmt.percent(row.consumed, 2))),
                html.Td(ui.figure(row.share, fmt.percent(row.share))),
            ]
        )
        for row in incident.attribution
        if row.bad > 0
    ]
    rest = incident.unattributed
    if rest is not None and rest.bad > 0:
        rows.append(
            html.Tr(
                [
                    html.Td("unattributed"),
                    html.Td("—"),
                    html.Td(ui.figure(rest.consumed, fmt.percent(rest.consumed, 2))),
                    html.Td(ui.figure(rest.share, fmt.percent(rest.share))),
                ]
            )
        )
    return rows


def incidents(data: SLOPageData) -> list[Any]:
    found = data.report.incidents
    if not found:
        text = "No burn episode spent enough of the period's budget to count."
        return [html.P(text, className="muted", id="no-incidents")]
    titles = ("Failure mode", "Design choice", "Consumed", "Share")
    out = []
    for index, incident in enumerate(found):
        top = incident.top_failure_mode or "unattributed"
        summary = html.Summary(
            [
                f"{fmt.moment(incident.start)} → {fmt.moment(incident.end)}: ",
                ui.figure(incident.consumed, fmt.percent(incident.consumed), classes="num strong"),
                f" of the budget, mostly {top}",
            ]
        )
        table = html.Table(
            [
                html.Thead(html.Tr([html.Th(title) for title in titles])),
                html.Tbody(_incident_rows(incident)),
            ],
            className="data-table",
        )
        out.append(
            html.Details(
                [summary, html.Div(table, className="table-wrap")],
                open=index == 0,
                className="incident",
                id=f"incident-{index}",
            )
        )
    return out


def timeline(data: SLOPageData) -> Any:
    if not data.timeline:
        return html.P(data.timeline_note, className="muted", id="timeline-empty")
    rows = [
        html.Tr(
            [
                html.Td(fmt.moment(event.t)),
                html.Td(event.tier),
                html.Td(ui.badge(event.state, "bad" if event.state == "firing" else "ok")),
                html.Td(
                    ui.badge("replayed", "muted") if event.replayed else ui.badge("live", "ok")
                ),
                html.Td(event.summary, className="small"),
            ],
            className="replayed" if event.replayed else "live",
            **{
                "data-t": fmt.moment(event.t),
                "data-epoch": event.t,
                "data-tier": event.tier,
                "data-state": event.state,
                "data-source": "replayed" if event.replayed else "live",
            },
        )
        for event in data.timeline
    ]
    titles = ("When", "Tier", "State", "Source", "Summary")
    head = html.Thead(html.Tr([html.Th(title) for title in titles]))
    table = html.Table(
        [head, html.Tbody(rows)],
        className="data-table",
        id="alert-timeline",
        **{"data-live-since": data.live_since},
    )
    return html.Div(table, className="table-wrap")


def _when(spec: Any) -> str:
    """A correction's schedule in words: a one-off range, or its RRULE and duration."""
    if spec.rrule:
        return f"{spec.rrule.replace(chr(10), ' ')} for {fmt.duration(spec.duration or 0)}"
    return f"{fmt.moment(spec.start)} → {fmt.moment(spec.end)}"


def corrections(data: SLOPageData) -> Any:
    """Budget corrections in effect for this SLO: excluded slices spend no budget."""
    if not data.corrections:
        return html.P(
            "No corrections apply to this SLO.", className="muted", id="corrections-empty"
        )
    rows = []
    for shown in data.corrections:
        correction = shown.stored.correction
        spec = correction.spec
        rows.append(
            html.Tr(
                [
                    html.Td(spec.name),
                    html.Td(ui.badge(str(spec.category), "muted")),
                    html.Td(_when(spec), className="small"),
                    html.Td("this SLO" if correction.slo else f"service {correction.service}"),
                    html.Td(str(len(shown.occurrences)), className="num"),
                    html.Td(str(shown.excluded_slices), className="num"),
                    html.Td(
                        f"{spec.note} ({shown.stored.updated_by}, "
                        f"{fmt.moment(shown.stored.updated_at)})",
                        className="small",
                    ),
                ],
                **{
                    "data-correction": spec.name,
                    "data-excluded-slices": shown.excluded_slices,
                    "data-occurrences": len(shown.occurrences),
                },
            )
        )
    titles = ("Name", "Category", "When", "Scope", "Times in range", "Slices excluded", "Why")
    head = html.Thead(html.Tr([html.Th(title) for title in titles]))
    table = html.Table([head, html.Tbody(rows)], className="data-table", id="corrections")
    return html.Div(table, className="table-wrap")

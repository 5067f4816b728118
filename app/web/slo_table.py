"""The SLO list of the overview and the boards, as one block of HTML (see `app.web.markup`).

A row per SLO: name and objective, status with its error, policy state, budget left as a bar,
burn rates over 5m to 3d, the remaining-budget trend over the page's range, firing alerts. Each
figure carries its exact value in `data-value`, each row its key in `data-key`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.slo.report import SLOReport
from app.slo.spenders import top_spender
from app.web import alerts
from app.web import format as fmt
from app.web.components import (
    POLICY_CLASS,
    SEVERITY_CLASS,
    STATUS_CLASS,
    budget_level,
    raw,
    slo_href,
    sparkline_src,
    sparkline_title,
)
from app.web.markup import Markup, element
from app.web.sparklines import Sparkline

BURN_WINDOWS = ("5m", "1h", "6h", "1d", "3d")
HEADERS = (
    "SLO",
    "Status",
    "Policy",
    "Budget left (period)",
    "Top spender (period)",
    *BURN_WINDOWS,
    "Trend (range)",
    "Alerts",
)
# One width per column on every table of a page, so a board's groups line up (fixed layout).
COLUMN_CLASSES = ("slo", "status", "policy", "remaining", "top", *(["burn"] * 5), "spark", "alerts")


def number(value: float | None, text: str, classes: str = "num") -> Markup:
    return element("span", text, class_=classes, data_value=raw(value))


def badge(text: str, level: str, title: str | None = None) -> Markup:
    return element("span", text, class_=f"badge {level}", title=title)


def budget_bar(remaining: float) -> Markup:
    width = max(0.0, min(1.0, remaining)) * 100
    level = budget_level(remaining)
    fill = element("div", class_=f"bar-fill {level}", style=f"width: {width:.1f}%")
    return element(
        "div",
        element("div", fill, class_="bar", role="meter", aria_valuenow=round(remaining, 4)),
        number(remaining, fmt.percent(remaining), "num bar-text"),
        class_="budget",
    )


def _alerts(firing: Sequence[alerts.Firing], unavailable: str | None) -> Markup:
    """One badge per severity ("page 2"), its tooltip listing the tiers and what they say."""
    if not firing:
        return element(
            "span", "no alerts", class_="muted", title=unavailable or "nothing is firing"
        )
    by_severity: dict[str, list[alerts.Firing]] = {}
    for alert in firing:
        by_severity.setdefault(alert.severity, []).append(alert)
    ordered = sorted(by_severity.items(), key=lambda item: (item[0] != "page", item[0]))
    return element(
        "div",
        [
            badge(
                f"{severity} {len(group)}",
                SEVERITY_CLASS.get(severity, "warn"),
                "\n".join(
                    f"{alert.tier} since {fmt.moment(alert.since)}: {alert.summary}"
                    for alert in group
                ),
            )
            for severity, group in ordered
        ],
        class_="badges",
        data_count=len(firing),
        data_tiers=" ".join(sorted(alert.tier for alert in firing)),
    )


def _top_spender(report: SLOReport) -> Markup:
    """What spent most of the period's bad events, unattributed ranked with the named modes."""
    top = top_spender(report.attribution, report.unattributed)
    if top is None:
        return element("span", "nothing spent", class_="muted small")
    return element(
        "span",
        element("span", top.name, class_="top-name"),
        " ",
        number(top.share, fmt.percent(top.share, 0), "num muted"),
        class_="spender-cell unattributed" if top.unattributed else "spender-cell",
        title=(
            f"{top.name}: {fmt.percent(top.share)} of the period's bad events, "
            f"{fmt.percent(top.consumed)} of its budget"
        ),
        data_name=top.name,
    )


def _cell(content: object, classes: str, **data: object) -> Markup:
    # Phone layouts label each cell from its class (see faultline.css), not per-cell attributes:
    # with hundreds of rows, every repeated byte shows in the first render.
    return element("td", content, class_=classes, **data)


def row(
    report: SLOReport,
    spark: Sparkline | None,
    firing: alerts.Alerts,
    query: str,
    *,
    label: Markup | None = None,
    note: Markup | None = None,
    classes: str = "",
) -> Markup:
    """One SLO's row; `label` replaces its linked name (a group's row names the group), `note`
    goes under it and `classes` onto the row (see `app.web.group_rows`)."""
    key = report.key
    name = label or element(
        "a",
        f"{report.service} / {report.slo}",
        href=slo_href(key, query),
        class_="slo-link",
        data_nav=True,
    )
    about = element(
        "div",
        f"{report.objective:g}% over {report.period} · {report.budgeting}",
        class_="muted small",
    )
    status = report.status.value
    cells = [
        _cell([name, about, note], "slo"),
        _cell(
            [
                badge(status, STATUS_CLASS.get(status, "muted"), report.error or status),
                element("div", report.error, class_="error small") if report.error else None,
            ],
            "status",
            data_value=status,
        ),
        _cell(
            badge(report.policy, POLICY_CLASS.get(report.policy, "muted")),
            "policy",
            data_value=report.policy,
        ),
        _cell(budget_bar(report.budget.remaining), "remaining"),
        _cell(_top_spender(report), "top"),
    ]
    for window in BURN_WINDOWS:
        value = report.burn_rates.get(window)
        hot = " hot" if value is not None and value > 1 else ""
        cells.append(_cell(number(value, fmt.rate(value)), f"burn{hot}", data_window=window))
    trend = (
        element(
            "img",
            src=sparkline_src(spark.values),
            class_="spark",
            width=120,
            height=28,
            alt="remaining budget over the range",
            title=sparkline_title(spark.values),
            data_points=" ".join(raw(v) for v in spark.values),
            data_resolution=spark.resolution,
        )
        if spark
        else "—"
    )
    cells.append(_cell(trend, "spark"))
    cells.append(_cell(_alerts(firing.of(key), firing.unavailable), "alerts"))
    return element("tr", cells, class_=f"slo-row policy-{report.policy}{classes}", data_key=key)


def slo_table(
    reports: Sequence[SLOReport],
    sparks: dict[str, Sparkline],
    firing: alerts.Alerts,
    query: str,
    table_id: str,
    rows: Callable[[SLOReport], Markup] | None = None,
) -> Markup:
    """The table of `reports`, a `row` each unless `rows` draws them (the overview's grouped
    SLOs bring their groups' rows along)."""
    columns = element("colgroup", [element("col", class_=f"col-{name}") for name in COLUMN_CLASSES])
    head = element(
        "thead",
        element(
            "tr",
            [
                element("th", text, class_="burn" if text in BURN_WINDOWS else None, scope="col")
                for text in HEADERS
            ],
        ),
    )
    drawn = rows or (lambda report: row(report, sparks.get(report.key), firing, query))
    body = element("tbody", [drawn(report) for report in reports])
    return element(
        "table", columns, head, body, id=table_id, class_="slo-table", data_count=len(reports)
    )

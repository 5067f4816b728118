"""The SLO page's "Buying it back": the top spenders of the range, each with the budget not
burning would free and the catalog's word on its design choice; spend no failure mode names is
ranked among them, as the next failure mode to write."""

from __future__ import annotations

from typing import Any

from dash import html

from app.web import components as ui
from app.web import format as fmt
from app.web.slo_data import TOP_SPENDERS, SLOPageData, TopSpender


def _freed(consumed: float, period_consumed: float, remaining: float) -> html.P:
    without = remaining + period_consumed
    return html.P(
        [
            "Not burning would have freed ",
            ui.figure(consumed, fmt.percent(consumed, 2), classes="num strong freed"),
            " of this range's budget; over the period, budget left would be ",
            ui.figure(without, fmt.percent(without), classes="num strong"),
            f" instead of {fmt.percent(remaining)}.",
        ]
    )


def _card(spender: TopSpender, remaining: float) -> html.Article:
    catalog: list[Any] = [
        html.Dt("Introduces"),
        html.Dd(spender.introduces or "—"),
        html.Dt("Verification step"),
        html.Dd(spender.verification or "—"),
    ]
    if spender.buy_back:
        catalog += [html.Dt("Buying it back"), html.Dd(spender.buy_back)]
    return html.Article(
        [
            html.H3(
                [
                    spender.failure_mode,
                    html.Span(f" · {spender.design_choice or ''}", className="muted"),
                ]
            ),
            _freed(spender.consumed, spender.period_consumed, remaining),
            html.Dl(catalog),
        ],
        className="spender",
        id=f"spender-{spender.failure_mode}",
    )


def _unattributed_card(data: SLOPageData, query: str) -> html.Article:
    remaining = data.report.budget.remaining
    return html.Article(
        [
            html.H3(["unattributed", html.Span(" · no failure mode names it", className="muted")]),
            _freed(data.unattributed, data.report.unattributed.consumed, remaining),
            html.P(
                [
                    "Nothing in the catalog explains this spend yet: it is the next failure mode "
                    "to write. The ",
                    ui.link("failure modes page", f"/failure-modes{query}"),
                    " lists what is unattributed on every SLO.",
                ]
            ),
        ],
        className="spender unattributed",
        id="spender-unattributed",
    )


def top_spenders(data: SLOPageData, query: str = "") -> list[Any]:
    """The top spenders' cards, most first; unattributed spend takes its rank among them."""
    remaining = data.report.budget.remaining
    cards: list[Any] = [_card(spender, remaining) for spender in data.top]
    if data.unattributed > 0:
        rank = sum(1 for spender in data.top if spender.consumed >= data.unattributed)
        if rank < TOP_SPENDERS:
            cards = [*cards[:rank], _unattributed_card(data, query), *cards[rank:]][:TOP_SPENDERS]
    if not cards:
        return [html.P("No failure mode spent budget in this range.", className="muted")]
    return cards

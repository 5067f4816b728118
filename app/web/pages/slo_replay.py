"""The SLO page's Replay panel: pick a change on paper, see what would have happened.

The controls write the change into the URL (`wi_*` keys), like every control, so a what-if is a
link; the failure-modes page links each mode to its own. The answer is `POST /api/v1/replay`'s
for the page's range: both sides' budget, policy state, incidents and replayed alerts, and the
difference. Alerts shown here were never sent.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.slo.replay_models import OutcomeOut, SLOReplayOut
from app.web import components as ui
from app.web import format as fmt
from app.web.controls import control_id, field
from app.web.slo_data import SLOPageData
from app.web.urlstate import ViewState

EDITS = {"remove": "remove (fixed)", "scale": "scale by", "cap": "cap at ratio"}


def _input(name: str, value: str, hint: str) -> dcc.Input:
    return dcc.Input(
        id=control_id(name),
        type="text",
        value=value,
        placeholder=hint,
        debounce=True,
        className="text-input",
    )


def controls(data: SLOPageData, state: ViewState) -> html.Div:
    modes = [mode.name for mode in data.definition.spec.failure_modes]
    return html.Div(
        [
            field(
                "Failure mode",
                dcc.Dropdown(
                    id=control_id("wi_mode"),
                    options=[{"label": mode, "value": mode} for mode in modes],
                    value=state.wi_mode or None,
                    placeholder="none",
                    className="dropdown",
                ),
            ),
            field(
                "Change",
                dcc.RadioItems(
                    id=control_id("wi_edit"),
                    options=[{"label": text, "value": key} for key, text in EDITS.items()],
                    value=state.wi_edit or None,
                    inline=True,
                    className="segmented",
                ),
            ),
            field("Value", _input("wi_value", state.wi_value, "0.1 (scale) or 0.005 (cap)")),
            field("Objective", _input("wi_objective", state.wi_objective, "e.g. 99.5")),
            field("Period", _input("wi_period", state.wi_period, "28d, 7d, month")),
        ],
        className="controls",
        id="replay-controls",
    )


def _ratio(value: float | None) -> str:
    return "–" if value is None else fmt.percent(value)


def _rows(actual: OutcomeOut, changed: OutcomeOut) -> list[tuple[str, str, str, str]]:
    def firings(side: OutcomeOut, severity: str | None = None) -> int:
        return sum(
            a.state == "firing" and (severity is None or a.severity == severity)
            for a in side.alerts
        )

    before, after = actual.scores[-1], changed.scores[-1]
    was, now = actual.budget.consumed, changed.budget.consumed
    return [
        ("budget consumed", fmt.percent(was), fmt.percent(now), f"{(now - was) * 100:+.1f} pts"),
        ("policy state", actual.policy, changed.policy, ""),
        ("budget incidents", str(len(actual.incidents)), str(len(changed.incidents)),
         f"{len(changed.incidents) - len(actual.incidents):+d}"),
        ("alerts fired", str(firings(actual)), str(firings(changed)),
         f"{firings(changed) - firings(actual):+d}"),
        ("pages", str(firings(actual, "page")), str(firings(changed, "page")),
         f"{firings(changed, 'page') - firings(actual, 'page'):+d}"),
        ("false positives", str(before.false_positives), str(after.false_positives),
         f"{after.false_positives - before.false_positives:+d}"),
        ("incidents missed", str(before.missed), str(after.missed),
         f"{after.missed - before.missed:+d}"),
        ("precision", _ratio(before.precision), _ratio(after.precision), ""),
        ("recall", _ratio(before.recall), _ratio(after.recall), ""),
    ]  # fmt: skip


def comparison(answer: SLOReplayOut) -> html.Table:
    assert answer.changed is not None
    head = html.Thead(html.Tr([html.Th(t) for t in ("", "As it was", "Changed", "Difference")]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Th(name), html.Td(was), html.Td(now), html.Td(diff)],
                **{"data-figure": name, "data-actual": was, "data-changed": now},
            )
            for name, was, now, diff in _rows(answer.actual, answer.changed)
        ]
    )
    return html.Table([head, body], className="data-table", id="replay-comparison")


def alerts_of(side: OutcomeOut, side_id: str) -> Any:
    if not side.alerts:
        return html.P("no alert would have fired", className="muted", id=f"{side_id}-empty")
    rows = [
        html.Tr(
            [
                html.Td(fmt.moment(alert.t)),
                html.Td(alert.tier),
                html.Td(ui.badge(alert.state, "bad" if alert.state == "firing" else "ok")),
                html.Td(
                    "false positive"
                    if alert.state == "firing" and alert.incident is None
                    else ""
                    if alert.incident is None
                    else f"incident {alert.incident + 1}",
                    className="small",
                ),
            ],
            **{"data-t": alert.t, "data-tier": alert.tier, "data-state": alert.state},
        )
        for alert in side.alerts
    ]
    head = html.Thead(html.Tr([html.Th(t) for t in ("When", "Tier", "State", "For")]))
    return html.Table([head, html.Tbody(rows)], className="data-table", id=side_id)


def panel(data: SLOPageData, state: ViewState) -> list[Any]:
    parts: list[Any] = [controls(data, state)]
    answer = data.replay
    if answer is None:
        hint = "Pick a change to replay this range under it; alerts replayed are never sent."
        parts.append(html.P(hint, className="muted", id="replay-hint"))
    elif isinstance(answer, str):
        parts.append(ui.notice(f"Replay: {answer}", "bad", id="replay-error"))
    elif answer.changed is not None:
        parts += [
            comparison(answer),
            html.Div(
                [
                    ui.section("As it was (replayed)", alerts_of(answer.actual, "replay-actual")),
                    ui.section("Changed (replayed)", alerts_of(answer.changed, "replay-changed")),
                ],
                className="grid",
            ),
        ]
    return parts

"""One SLO: how its budget burned, which failure modes spent it, and what would buy it back."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine.ranges import RangeError
from app.slo.durations import parse_duration
from app.web import burn_figure, controls, figures, spend_figures
from app.web import components as ui
from app.web import format as fmt
from app.web.group_data import gather_page
from app.web.pages import Context, Page, slo_groups, slo_spenders
from app.web.pages import slo_sections as sections
from app.web.slo_data import SLOPageData
from app.web.theme import mode_colours


def _burn_note(data: SLOPageData) -> str:
    drawn = {line.label for line in data.burn}
    wanted = {t.long_window for t in data.thresholds} | {t.short_window for t in data.thresholds}
    hidden = sorted(wanted - drawn, key=parse_duration)
    if not hidden:
        return burn_figure.NOTE
    return f"{burn_figure.NOTE} Not drawn at this range: {', '.join(hidden)}; choose a shorter one."


def charts(data: SLOPageData, ctx: Context) -> list[Any]:
    theme = ctx.theme
    scope = ctx.state.budget_scope()
    colours = mode_colours([mode.name for mode in data.definition.spec.failure_modes])
    if data.history.points:
        burndown = figures.burndown(data.history, data.remaining, theme, data.period_end)
        sli = figures.sli(data.history, theme)
    else:
        burndown = sli = figures.empty("no data in this range", theme)
    bucket = fmt.duration(data.step)
    return [
        ui.section(
            "Budget left vs. even burn",
            ui.graph("chart-burndown", burndown),
            note=f"Share of {scope} left; the dashed line spends it evenly.",
        ),
        ui.section(
            "Burn rate by window",
            ui.graph(
                "chart-burn",
                burn_figure.burn_panels(data.burn, data.thresholds, theme)
                if data.burn
                else figures.empty("no burn-rate window fits this range", theme),
            ),
            note=_burn_note(data),
        ),
        ui.section("SLI vs. objective", ui.graph("chart-sli", sli), note=f"Per {bucket} bucket."),
        ui.section(
            "Budget consumed by failure mode",
            ui.graph("chart-consumed", figures.consumed_by_mode(data.history, colours, theme)),
            note=f"Per {bucket} bucket, as a share of {scope}; grey is unattributed.",
        ),
    ]


def _spend_bars(data: SLOPageData, ctx: Context) -> Any:
    if not data.spends and data.unattributed <= 0:
        return figures.empty("no budget spent in this range", ctx.theme)
    colours = mode_colours([mode.name for mode in data.definition.spec.failure_modes])
    return spend_figures.attribution_bars(data.spends, data.unattributed, colours, ctx.theme)


def render(ctx: Context, service: str, name: str) -> Page:
    key = f"{service}/{name}"
    bar = controls.bar(controls.range_picker(ctx.state), controls.refresh_picker(ctx.state))
    try:
        data = gather_page(ctx.engine, key, ctx.state, ctx.base_url)  # the SLO's or a group's
    except RangeError as error:
        return Page(key, [bar, ui.notice(f"Range: {error}", "bad", id="range-error")])
    if isinstance(data, str):
        missing = ui.notice(data, "bad", id="not-found")
        return Page("Unknown SLO", [missing, ui.link("All SLOs", "/")])
    window = data.window
    range_text = html.P(
        f"{fmt.moment(window.start)} → {fmt.moment(window.end)}, {fmt.duration(data.step)} buckets",
        className="muted small",
        id="range-text",
        **{"data-start": window.start, "data-end": window.end, "data-step": data.step},
    )
    incidents_note = "Contiguous burn episodes in the period, each with its own attribution."
    spenders_note = (
        "The top spenders in this range, unattributed spend ranked among them, with the failure "
        "their design choice introduces (from the catalog) and the step that verifies it."
    )
    definition = data.definition
    scope = ctx.state.budget_scope()
    yaml = html.Pre(html.Code(definition.text or "(not available)"), className="yaml")
    body: list[Any] = [
        bar,
        range_text,
        slo_groups.crumb(ctx, data),  # a group's page: which SLO it is a group of
        sections.headline(data),
        slo_groups.worst(ctx, data),  # a grouped SLO's page: its worst groups
        html.Div(charts(data, ctx), className="grid"),
        html.Div(
            [
                ui.section(
                    "Who spent the budget",
                    sections.attribution_table(data),
                    note=f"Over the selected range, as shares of {scope}.",
                ),
                ui.section(
                    "Design choice → failure mode → dependency",
                    ui.graph("chart-spend", _spend_bars(data, ctx)),
                    note=f"Bar length: share of {scope}; grey is unattributed.",
                ),
            ],
            className="grid",
        ),
        ui.section(
            "Buying it back",
            *slo_spenders.top_spenders(data, ctx.state.carried()),
            note=spenders_note,
        ),
        ui.section("Budget incidents", *sections.incidents(data), note=incidents_note),
        ui.section(
            "Alert timeline",
            sections.timeline(data),
            note="Before live judging began, transitions are replayed from the ledger (not sent).",
        ),
        ui.section(
            "Replay",
            *slo_groups.replay(ctx, data),  # per SLO: a group's page points there
            note="What would have happened to this range under a change made on paper.",
            id="replay",
        ),
        ui.section(
            "Budget corrections",
            sections.corrections(data),
            note="Slices inside a correction are recorded but spend no budget "
            f"({data.report.excluded_slices} in the period).",
        ),
        ui.section(
            "Definition",
            yaml,
            note=f"{definition.source}:{definition.line}",
            id="definition-yaml",
        ),
    ]
    return Page(slo_groups.title(definition), body)

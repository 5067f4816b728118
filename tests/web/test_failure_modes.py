"""Failure modes across the organisation: the API's ranking, for every grouping and range."""

from __future__ import annotations

import httpx
import pytest
from selenium import webdriver

from app.web import format as fmt
from tests.web.browsing import load, set_screen
from tests.web.conftest import Live
from tests.web.expect import mismatches, params_of, range_params

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

RANKING_JS = """
return [...document.querySelectorAll('#ranking-table tr.group-row')].map((tr) => {
    const consumed = tr.querySelector('td.consumed .num');
    return {
        group: tr.dataset.group,
        consumed: [consumed.dataset.value, consumed.textContent],
        slos: [...tr.querySelectorAll('li[data-slo]')].map((li) => [li.dataset.slo, li.dataset.value]),
    };
});
"""


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?group_by=design_choice",
        "?group_by=dependency",
        "?range=6h",
        "?range=custom&start=now-40m&end=now-15m",
        "?service=checkout",
    ],
)
def test_ranking_is_the_apis(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, query: str
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/failure-modes{query}")
    params = range_params(query, period="30d")  # "period" here is 30 days: SLOs differ
    extra = [(k, v) for k, v in params_of(query) if k in {"group_by", "service"}]
    response = api.get("/api/v1/attribution", params=[*params.items(), *extra])
    response.raise_for_status()
    body = response.json()
    shown = browser.execute_script(RANKING_JS)
    assert [row["group"] for row in shown] == [group["group"] for group in body["groups"]]
    pairs = [
        (row["group"], row["consumed"], group["consumed"], fmt.percent(group["consumed"], 2))
        for row, group in zip(shown, body["groups"], strict=True)
    ]
    problems = mismatches(pairs)
    assert not problems, "\n".join(problems)
    for row, group in zip(shown, body["groups"], strict=True):
        expected = [(s["slo"], s["consumed"]) for s in group["slos"] if s["consumed"] > 0]
        assert [(slo, float(value)) for slo, value in row["slos"]] == expected
    unattributed = browser.execute_script(
        "return [...document.querySelectorAll('#unattributed-list li')]"
        ".map((li) => [li.dataset.slo, Number(li.dataset.value)])"
    )
    assert unattributed == [[s["slo"], s["consumed"]] for s in body["unattributed"]]


def test_the_review_starts_from_the_top_spender(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    """payment-timeout spent the most in this scenario; its row names the catalog's words."""
    set_screen(browser)
    load(browser, f"{live.url}/failure-modes")
    first = browser.find_element("css selector", "#ranking-table tr.group-row")
    assert first.get_attribute("data-group") == "payment-timeout"
    catalog = {entry["name"]: entry for entry in api.get("/api/v1/catalog").json()}
    assert catalog["synchronous-call"]["verification"] in first.text
    assert "checkout/checkout-success" in first.text

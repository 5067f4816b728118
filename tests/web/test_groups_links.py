"""Links to groups: a group's key (an alert's `slo_key`) leads to its SLO's page with the group
chosen, keeping the range; the URL's `group` and `groups` keys parse like every other."""

from __future__ import annotations

from app.slo.groups import OTHER_VALUE, group_slo_key
from app.web import urlstate
from app.web.components import slo_href
from app.web.group_data import chosen_labels
from app.web.group_links import group_href, group_name, labels_of_key


def test_a_groups_key_links_to_its_page_and_keeps_the_range() -> None:
    key = group_slo_key("checkout", "success", {"route": '/pay "eu", now', "tenant": "a"})
    assert labels_of_key(key) == {"route": '/pay "eu", now', "tenant": "a"}
    href = slo_href(key, "?range=7d")
    path, query = href.split("?", 1)
    assert path == "/slo/checkout/success"
    state = urlstate.parse(query)
    assert state.range == "7d"
    assert state.group == ('route:/pay "eu", now', "tenant:a")
    assert chosen_labels(state, ("route", "tenant")) == {"route": '/pay "eu", now', "tenant": "a"}
    assert slo_href("checkout/success", "?range=7d") == "/slo/checkout/success?range=7d"


def test_the_other_group_has_a_page_of_its_own() -> None:
    key = group_slo_key("checkout", "success", {"route": OTHER_VALUE})
    assert slo_href(key) == "/slo/checkout/success?group=__other__"
    state = urlstate.parse("?group=__other__")
    assert chosen_labels(state, ("route", "tenant")) == {
        "route": OTHER_VALUE,
        "tenant": OTHER_VALUE,
    }
    assert group_name({"route": OTHER_VALUE}) == "other"
    assert group_href("checkout/success", {"route": OTHER_VALUE}) == slo_href(key)


def test_groups_state_defaults_to_collapsed_and_is_left_out_of_links() -> None:
    assert urlstate.parse("").groups == "collapsed"
    assert urlstate.parse("?groups=expanded").groups == "expanded"
    assert urlstate.parse("?groups=sideways").groups == "collapsed"
    assert urlstate.ViewState(groups="collapsed").query() == ""
    assert urlstate.ViewState(groups="expanded").query() == "?groups=expanded"
    assert chosen_labels(urlstate.parse("?group=route:/a"), ("route", "tenant")) == (
        "name the group by all of its labels: route, tenant"
    )


def test_the_group_search_and_page_are_in_the_url() -> None:
    state = urlstate.parse("?group_search=west&group_offset=10")
    assert (state.group_search, state.group_offset) == ("west", "10")
    assert state.query() == "?group_search=west&group_offset=10"
    assert state.query(group_offset="") == "?group_search=west"

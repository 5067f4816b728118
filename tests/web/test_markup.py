"""HTML built as strings escapes every text and attribute; sparklines are valid SVG."""

from __future__ import annotations

from urllib.parse import unquote
from xml.etree import ElementTree

from app.web.components import sparkline_src
from app.web.markup import Markup, element


def test_text_and_attributes_are_escaped() -> None:
    html = element("a", '<script>"x" & y</script>', href='/slo/a"b', data_value="1<2")
    assert html == (
        '<a href="/slo/a&quot;b" data-value="1&lt;2">&lt;script&gt;"x" &amp; y&lt;/script&gt;</a>'
    )


def test_markup_nests_and_skips_nothing() -> None:
    inner = element("b", "bold")
    assert element("p", "a ", inner, None, [" ", element("i", "it")]) == (
        "<p>a <b>bold</b> <i>it</i></p>"
    )
    assert isinstance(inner, Markup)


def test_void_elements_close_themselves_and_flags_are_bare() -> None:
    assert (
        element("img", src="x.svg", data_nav=True, hidden=False) == '<img src="x.svg" data-nav />'
    )


def test_sparkline_is_an_svg_image_on_a_fixed_scale() -> None:
    src = sparkline_src([1.0, 0.5, -5.0])
    assert src.startswith("data:image/svg+xml,")
    svg = ElementTree.fromstring(unquote(src.removeprefix("data:image/svg+xml,")))
    points = svg.find("{http://www.w3.org/2000/svg}polyline")
    assert points is not None
    ys = [float(pair.split(",")[1]) for pair in points.attrib["points"].split()]
    assert ys == [2.0, 12.0, 26.0]  # 1 at the top, -0.2 (and anything lower) at the floor
    dot = sparkline_src([0.5])
    assert "circle" in unquote(dot)

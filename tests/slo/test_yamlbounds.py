"""Bounded YAML: bombs become one positioned problem, ordinary anchors keep working."""

from __future__ import annotations

import time

import pytest

from app.interop.reader import parse_documents
from app.slo.problems import Problem
from app.slo.yamlbounds import MAX_DEPTH, MAX_FILE_BYTES, READ_LIMIT, decode_bounded
from app.slo.yamlsource import parse_yaml
from tests.fixtures.yamlbombs import BOMBS, block_nesting, flow_nesting, laughs

EXPECTED = {
    # Line 6 is `f: &f [*e, *e, …`; each `*e` stands for 66,430 nodes: the second goes past.
    "laughs": (6, 12, "refused: aliases expand the document to more than 200,000 nodes"),
    # `slos: ` ends at column 6: the 101st bracket stands at column 7 + 100.
    "flow_nesting": (2, 107, f"refused: nested deeper than {MAX_DEPTH} levels"),
    # The root mapping and the list hold levels 1 and 2; the 99th `- ` opens level 101.
    "block_nesting": (3, 199, f"refused: nested deeper than {MAX_DEPTH} levels"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_bomb_is_one_positioned_problem(name: str) -> None:
    started = time.perf_counter()
    document, problems = parse_yaml(BOMBS[name](), "bomb.yaml")
    assert time.perf_counter() - started < 1
    assert document is None
    assert problems == [Problem("bomb.yaml", *EXPECTED[name])]


def test_text_over_the_size_limit_is_refused_where_it_crosses_the_limit() -> None:
    text = "a: 1\n" + "b" * MAX_FILE_BYTES
    assert parse_yaml(text, "big.yaml") == (
        None,
        [
            Problem(
                "big.yaml",
                2,
                MAX_FILE_BYTES - 4,
                "refused: the file is larger than 1,048,576 bytes",
            )
        ],
    )


def test_bytes_are_decoded_within_the_limit_and_bad_utf8_is_positioned() -> None:
    assert decode_bounded(b"a: 1\n", "f.yaml") == ("a: 1\n", [])
    too_large = decode_bounded(b"x" * READ_LIMIT, "f.yaml")
    assert too_large[0] is None
    assert [str(p) for p in too_large[1]] == [
        f"f.yaml:1:{MAX_FILE_BYTES + 1}: refused: the file is larger than 1,048,576 bytes"
    ]
    assert decode_bounded(b"a: 1\nb: \xff\n", "f.yaml") == (
        None,
        [Problem("f.yaml", 2, 4, "cannot read file: not UTF-8 (invalid start byte)")],
    )


def test_an_alias_of_a_long_string_weighs_its_length() -> None:
    text = f"a: &a {'x' * 100_000}\nb: [{', '.join(['*a'] * 600)}]\n"
    _, problems = parse_yaml(text, "long.yaml")
    assert [(p.line, p.message) for p in problems] == [
        (2, "refused: aliases expand the document to more than 200,000 nodes")
    ]


def test_a_recursive_alias_is_refused() -> None:
    _, problems = parse_yaml("service: x\nslos: &a [1, *a]\n", "loop.yaml")
    assert problems == [
        Problem("loop.yaml", 2, 14, "refused: an alias inside the node it refers to (recursive)")
    ]


def test_ordinary_anchors_and_nesting_still_load() -> None:
    text = (
        "service: shop\n"
        "labels: &labels {team: payments, tier: '1'}\n"
        "slos:\n"
        "  - {name: a, labels: *labels}\n"
        "  - {name: b, labels: *labels}\n"
        f"deep: {'[' * (MAX_DEPTH - 2)}{']' * (MAX_DEPTH - 2)}\n"
    )
    document, problems = parse_yaml(text, "ok.yaml")
    assert problems == []
    assert document is not None
    assert document.data["slos"][1]["labels"] == {"team": "payments", "tier": "1"}


def test_imported_streams_share_one_budget_across_documents() -> None:
    """Many documents each under the budget still add up (Sloth and OpenSLO files are streams)."""
    one = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\nb: [" + ", ".join(["*a"] * 9) + "]\n"
    stream = "---\n".join([laughs()] + [one] * 3)
    documents, problems = parse_documents(stream, "stream.yaml")
    assert documents == []
    assert [p.message for p in problems] == [
        "refused: aliases expand the document to more than 200,000 nodes"
    ]
    for bomb in (flow_nesting(), block_nesting()):
        _, problems = parse_documents(bomb, "deep.yaml")
        assert [p.message for p in problems] == [f"refused: nested deeper than {MAX_DEPTH} levels"]

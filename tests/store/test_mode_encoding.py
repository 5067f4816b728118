"""The hand-written per-mode JSON of a slice is exactly what `json.dumps` would write."""

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from app.slo.ledger import ModeSlice
from app.store.ledger import _decode_modes, _encode_modes, _encode_modes_json

amounts = st.floats(allow_nan=False, allow_infinity=False)
outcomes = st.builds(
    ModeSlice,
    credited=amounts,
    raw_bad=st.none() | amounts,
    held=st.none() | st.booleans(),
)
names = st.text(min_size=1, max_size=12)  # quotes, backslashes and non-ASCII included


@given(st.dictionaries(names, outcomes, max_size=5))
def test_same_text_as_json_dumps_and_reads_back(modes: dict[str, ModeSlice]) -> None:
    text = _encode_modes(modes)
    assert text == _encode_modes_json(modes)
    assert _decode_modes(text) == modes


def test_non_finite_numbers_take_the_general_path() -> None:
    modes = {"a": ModeSlice(credited=math.inf, raw_bad=None, held=None)}
    assert json.loads(_encode_modes(modes)) == {"a": [math.inf, None, None]}

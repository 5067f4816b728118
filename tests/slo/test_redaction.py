"""URLs as shown: the password of the user info never survives."""

from __future__ import annotations

import pytest

from app.slo.redaction import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:s3cr3t@prom:9090/prefix", "http://user:***@prom:9090/prefix"),
        ("https://user:p%40ss@prom", "https://user:***@prom"),
        ("http://u:a@b@prom:9090", "http://u:***@prom:9090"),  # an unescaped @ in the password
        ("http://:only-password@prom", "http://:***@prom"),
        ("http://user@prom:9090", "http://user@prom:9090"),  # no password: nothing to hide
        ("http://127.0.0.1:9090", "http://127.0.0.1:9090"),
        ("postgresql+psycopg://app:pw@db:5432/x", "postgresql+psycopg://app:***@db:5432/x"),
        ("http://[::1", "***"),  # not a URL urllib can take apart
    ],
)
def test_the_password_is_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown

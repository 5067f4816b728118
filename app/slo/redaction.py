"""Secrets out of messages: a URL as it may be shown in logs, errors, stored rows and answers.

Operators put credentials in URLs (`http://user:password@host`); every message that names a URL
names it through `redact_url`, so the password never reaches a log line, `/readyz`, the API, the
ledger or `/metrics`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def redact_url(url: str) -> str:
    """`url` with the password of its user info replaced by `***`; the user name is kept, as
    it helps find the account. A URL without a password is returned unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart: show none of it rather than leak
        return MASK
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))

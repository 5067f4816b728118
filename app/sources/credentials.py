"""Credentials of a source: given as a value or as a file, sent as headers, never shown; and
the TLS files that prove who we are and whom we trust.

A file is read again when it changes (its modification time or size), as Prometheus does with
`credentials_file`: rotated tokens (Kubernetes service-account tokens, cloud identity tokens)
are picked up without a restart. Every secret is kept out of `repr`, and `Redactor` masks the
secrets of a source in any message that might echo one (a proxy's error page, say).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.slo.redaction import MASK

# Header names whose values are treated as secrets in messages; a tenant id is not one of them.
SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|password|session", re.IGNORECASE)


class CredentialError(Exception):
    """A credential file could not be read; the message names the setting and the path."""


class Credential:
    """A secret value, or the file that holds it (trailing whitespace and newline dropped)."""

    def __init__(
        self, value: str | None = None, *, file: Path | None = None, setting: str = ""
    ) -> None:
        if (value is None) == (file is None):
            raise ValueError("a credential is a value or a file, not both or neither")
        self._value = value
        self.file = file
        self.setting = setting  # e.g. FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE, for messages
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Credential(file={str(self.file)!r})" if self.file else f"Credential({MASK!r})"

    def read(self) -> str:
        """The secret now; a file is read again only when it changed since the last read."""
        if self.file is None:
            assert self._value is not None
            return self._value
        with self._lock:
            try:
                status = self.file.stat()
                stamp = (status.st_mtime_ns, status.st_size)
                if stamp != self._seen:
                    self._value = read_secret_file(self.file)
                    self._seen = stamp
            except (OSError, ValueError) as error:
                where = f"{self.setting} " if self.setting else ""
                raise CredentialError(f"cannot read {where}{self.file}: {_reason(error)}") from None
            assert self._value is not None
            return self._value

    def known(self) -> str | None:
        """The secret as last read, without reading (for masking messages)."""
        return self._value


def read_secret_file(path: Path) -> str:
    """The secret in `path`: its text without surrounding whitespace; an empty file is an error."""
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError("the file is empty")
    return text


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error)


def auth_headers(bearer: Credential | None, basic: tuple[str, Credential] | None) -> dict[str, str]:
    """The `Authorization` header for a bearer token or basic auth (none when neither is set)."""
    if bearer is not None:
        return {"Authorization": f"Bearer {bearer.read()}"}
    if basic is not None:
        user, password = basic
        pair = base64.b64encode(f"{user}:{password.read()}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}
    return {}


def tls_arguments(
    verify: bool, ca_file: Path | None, client_cert: tuple[Path, Path | None] | None
) -> tuple[bool | str, str | tuple[str, str] | None]:
    """requests' `verify` (False, True, or the CA bundle) and `cert` (one PEM holding the client
    certificate and its key, or the two files)."""
    checked: bool | str = (str(ca_file) if ca_file else True) if verify else False
    if client_cert is None:
        return checked, None
    certificate, key = client_cert
    return checked, str(certificate) if key is None else (str(certificate), str(key))


class Redactor:
    """Masks a source's secrets (token, password, secret-looking header values) in messages."""

    def __init__(
        self, credentials: Iterable[Credential | None], headers: Mapping[str, str]
    ) -> None:
        self._credentials = [credential for credential in credentials if credential is not None]
        self._fixed = [
            value for name, value in headers.items() if SECRET_HEADER.search(name) and value
        ]

    def __call__(self, text: str, *sent: str) -> str:
        """`text` with every secret masked; `sent`: header values sent with the request (the
        encoded basic-auth pair is a secret too)."""
        secrets = [*sent, *self._fixed, *(c.known() for c in self._credentials)]
        for secret in sorted((s for s in secrets if s), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

"""Where a ledger URL points, said plainly, for commands that find nothing there.

A report on the wrong ledger (a fresh `./faultline.db` instead of the demo's, say) should say
where it looked rather than print an empty document and succeed.
"""

from __future__ import annotations

from pathlib import Path

from app.slo.redaction import redact_url

HINT = (
    "`faultline serve` or `faultline backfill` writes a ledger; `faultline demo` prints the "
    "commands for its own. Choose one with --database-url or FAULTLINE_DATABASE_URL."
)


def sqlite_file(database_url: str) -> Path | None:
    """The absolute file of a SQLite URL; None for other databases and in-memory SQLite."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only commands that read a ledger

    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if str(url.query.get("uri", "")).lower() in ("true", "1") and database.startswith("file:"):
        # A URI filename (`sqlite:///file:/path/ledger.db?mode=ro&uri=true`): its path.
        database = database.removeprefix("file:")
        if database.startswith("//"):  # file://host/path or file:///path
            database = "/" + database[2:].partition("/")[2]
    return Path(database).resolve()


def ledger_place(database_url: str) -> str:
    """The ledger as a person finds it: the SQLite file's absolute path, or the URL."""
    file = sqlite_file(database_url)
    shown = redact_url(database_url)
    return shown if file is None else f"{shown} ({file})"


def missing_ledger(database_url: str) -> str | None:
    """Why there is no ledger to read (a SQLite file that does not exist), or None."""
    file = sqlite_file(database_url)
    if file is None or file.exists():
        return None
    return f"no ledger at {ledger_place(database_url)}: the file does not exist. {HINT}"


def empty_ledger(database_url: str) -> str:
    return (
        f"the ledger at {ledger_place(database_url)} is empty: no SLO has been evaluated "
        f"there yet. {HINT}"
    )

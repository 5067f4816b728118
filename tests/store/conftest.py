"""Fixtures of the store tests. `database_url` lives in tests/fixtures/databases.py and reaches
every test through tests/conftest.py; the re-export keeps older imports working."""

from collections.abc import Iterator

import pytest

from app.store.store import Store
from tests.fixtures.databases import POSTGRES_DSN, database_url, postgres_answers

__all__ = ["POSTGRES_DSN", "database_url", "postgres_answers"]


@pytest.fixture
def stores() -> Iterator[list[Store]]:
    """Stores a test opens (through `make_store`), closed when it ends."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        store.close()

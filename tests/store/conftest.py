"""The `database_url` fixture lives in tests/fixtures/databases.py and reaches every test
through tests/conftest.py; this re-export keeps older imports working."""

from tests.fixtures.databases import POSTGRES_DSN, database_url, postgres_answers

__all__ = ["POSTGRES_DSN", "database_url", "postgres_answers"]

"""The store's own exceptions; SQLAlchemy's never leave `app.store`."""

from __future__ import annotations


class StoreError(Exception):
    """The ledger could not be read or written."""

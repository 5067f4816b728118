"""Alembic environment: migrations run on a connection handed over by `app.store.database`."""

from __future__ import annotations

from alembic import context

from app.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store.database.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

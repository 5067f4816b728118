"""The HTTP API under /api/v1: one routes module per resource, schemas in `schemas.py`."""
